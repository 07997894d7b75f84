package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/train"
)

// TestProgressPlain: off a terminal the bar becomes a few plain lines on stderr, and every epoch ends
// with one summary line on stdout.
func TestProgressPlain(t *testing.T) {
	var out, errb bytes.Buffer
	p := newProgress(&out, &errb)
	if p.tty {
		t.Fatal("a bytes.Buffer taken for a terminal")
	}
	p.EpochStart("cnn", 3, 18, 1000)
	for done := 100; done <= 1000; done += 100 {
		p.Batch(done, 0.5, 0.8)
	}
	p.EpochEnd("cnn", train.Epoch{Epoch: 3, TrainLoss: 0.25, TrainAcc: 0.9, ValLoss: 0.3, ValAcc: 0.89, LR: 0.0005, Seconds: 2, ImagesPS: 500})
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CNN epoch  3/18: 300/1000 images") || strings.Contains(errb.String(), "\r") {
		t.Fatalf("stderr:\n%s", errb.String())
	}
	want := "CNN epoch  3/18  train loss 0.2500 acc 90.00%  val loss 0.3000 acc 89.00%  lr 0.0005  2.0 s (500 img/s)\n"
	if out.String() != want {
		t.Fatalf("stdout %q, want %q", out.String(), want)
	}
}

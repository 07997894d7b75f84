package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagErrors checks that every bad flag is refused before any work, with an error that names the
// flag and what it wants, and that nothing is written.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "vgg"}, `--model "vgg": want ann, cnn, resnet`},
		{[]string{"--format", "csv"}, `--format "csv": want table or benchfmt`},
		{[]string{"--threads", "0"}, "must be positive"},
		{[]string{"--count", "-1"}, "must be positive"},
		{[]string{"--benchtime", "0s"}, "must be positive"},
		{[]string{"--batch", "1,x"}, `--batch "1,x"`},
		{[]string{"--batch", "0"}, "between 1 and 65536"},
		{[]string{"--batch", "70000"}, "between 1 and 65536"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "no-such-flag"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		var stdout, stderr bytes.Buffer
		err := run(append([]string{"--out", out}, tc.args...), &stdout, &stderr)
		if err == nil {
			t.Errorf("bench %v: no error", tc.args)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: error %q, want it to contain %q", tc.args, err, tc.want)
		}
		if _, serr := os.Stat(filepath.Join(out, "bench.json")); serr == nil {
			t.Errorf("bench %v: wrote bench.json despite the error", tc.args)
		}
	}
}

// TestMissingModelFile checks that without --random-weights a missing model file is an error naming it.
func TestMissingModelFile(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"--out", out, "--model", "cnn", "--quiet"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(out, "cnn.safetensors")) {
		t.Fatalf("error %v, want one naming %s", err, filepath.Join(out, "cnn.safetensors"))
	}
}

// TestRunBenchfmt runs the command end to end on a freshly initialized ANN for a few milliseconds
// per benchmark and checks that it prints Go benchmark lines for every batch size asked for, and that
// the figures go to bench-random-weights.json, never to bench.json, where they could pass for a
// trained model's.
func TestRunBenchfmt(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"--out", out, "--model", "ann", "--random-weights", "--threads", "1",
		"--batch", "1,3", "--benchtime", "5ms", "--format", "benchfmt", "--quiet"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("bench %v: %v\n%s", args, err, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{"goos: ", "goarch: ", "Benchmark", "/batch=1", "/batch=3"} {
		if !strings.Contains(text, want) {
			t.Errorf("benchfmt output lacks %q:\n%s", want, text)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "bench-random-weights.json")); err != nil || fi.Size() == 0 {
		t.Errorf("bench-random-weights.json not written: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "bench.json")); err == nil {
		t.Errorf("random weights' figures written to bench.json")
	}
}

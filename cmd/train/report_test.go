package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReport: a training run ends with the report, and `train report DIR` rebuilds it.
func TestReport(t *testing.T) {
	data := tinyDataset(t, 50, 20)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--data", data, "--out", out, "--epochs", "1", "--batch", "16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "report: "+filepath.Join(out, "report.md")) {
		t.Errorf("training did not announce the report:\n%s", stdout)
	}
	md := filepath.Join(out, "report.md")
	if err := os.Remove(md); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, "report", "--data", data, out)
	if code != 0 {
		t.Fatalf("train report: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Key findings", "](report/curves.png)", "](report/gradcam_cnn.png)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rebuilt report lacks %q", want)
		}
	}

	// A residual-CNN-only run ends with its report too, Grad-CAM included.
	rout := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr = runCmd(t, "--data", data, "--out", rout, "--model", "resnet", "--epochs", "1", "--batch", "16")
	if code != 0 {
		t.Fatalf("resnet: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "report: "+filepath.Join(rout, "report.md")) {
		t.Errorf("the resnet run did not announce the report:\n%s", stdout)
	}
	if b, err := os.ReadFile(filepath.Join(rout, "report.md")); err != nil || !strings.Contains(string(b), "](report/gradcam_resnet.png)") {
		t.Errorf("the resnet run's report lacks its Grad-CAM (%v)", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", t.TempDir()}, "ann.metrics.json"},
		{[]string{"report", "a", "b"}, "one output directory"},
		{[]string{"report", "--bogus"}, "bogus"},
	} {
		code, _, stderr := runCmd(t, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 1 and one line with %q", c.args, code, stderr, c.want)
		}
	}
}

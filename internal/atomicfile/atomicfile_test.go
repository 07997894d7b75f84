package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteBytesReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("read back %q, %v; want new", got, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	assertOnly(t, dir, "a.json")
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("disk full")
	err := Write(p, func(w io.Writer) error {
		io.WriteString(w, "half of a new fi")
		return boom
	})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v: want one naming %s and the cause", err, p)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Errorf("file now %q, want the old content untouched", got)
	}
	assertOnly(t, dir, "m.safetensors")
}

func TestWriteMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "x")
	if err := WriteBytes(p, []byte("x")); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v: want one naming %s", err, p)
	}
}

// assertOnly fails if dir holds anything but the named files (a leftover temporary file, say).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want only %v", got, names)
	}
}

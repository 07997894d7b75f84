package nn

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return a network or a one-line error naming the
// file, never panic, hang or allocate more than the file's size. The seeds are a header followed by
// a little data, so the fuzzer explores the header checks; run with
// go test -run '^$' -fuzz FuzzLoad -fuzztime 30s ./nn
func FuzzLoad(f *testing.F) {
	hdr := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	f.Add(hdr(`{"__metadata__":{"arch":"ann"},"fc1.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add(hdr(`{"conv1.weight":{"dtype":"F32","shape":[32,1,3,3],"data_offsets":[0,1152]}}`, 16))
	f.Add(hdr(`{"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8))
	f.Add(hdr(`{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}`, 16))
	f.Add(hdr(`null`, 0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.safetensors")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		net, _, err := Load(path)
		if err == nil {
			if net == nil {
				t.Fatal("no error and no network")
			}
			return
		}
		if msg := err.Error(); !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
			t.Fatalf("error %q: want one line naming the file", msg)
		}
	})
}

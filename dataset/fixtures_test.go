package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// The IDX fixtures in ../testdata/idx and the fuzz seed corpus in testdata/fuzz/FuzzReadIDX are made
// here; `go test ./dataset -run TestFixtures -update` rewrites them. The committed files are the
// fixtures (compress/flate's output may change between Go releases, so they are not compared byte
// for byte with a fresh generation); TestReadIDXFixtures checks what each must give.
var update = flag.Bool("update", false, "rewrite the committed IDX fixtures and fuzz corpus")

const fixtureDir = "../testdata/idx"

func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxTypeUint8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(raw []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	return b.Bytes()
}

// tinyImages is n deterministic 28×28 images.
func tinyImages(n int) []byte {
	img := make([]byte, n*ImageSize)
	for i := range img {
		img[i] = byte((i*37 + i/ImageSize*11) % 256)
	}
	return img
}

func tinyLabels(n int) []byte {
	l := make([]byte, n)
	for i := range l {
		l[i] = byte(i % NumClasses)
	}
	return l
}

// fixture is one committed file and what reading it must give: wantErr is a substring of the error,
// or "" for a good file with wantDims.
type fixture struct {
	name     string
	data     []byte
	wantDims []int
	wantErr  string
}

func fixtures() []fixture {
	imgs := idxBytes([]uint32{3, Rows, Cols}, tinyImages(3))
	labs := idxBytes([]uint32{3}, tinyLabels(3))
	gz := gzipBytes(imgs)

	corrupt := append([]byte(nil), gz...)
	corrupt[len(corrupt)/2] ^= 0xff // inside the deflate stream
	badCRC := append([]byte(nil), gz...)
	badCRC[len(badCRC)-8] ^= 0x01 // the CRC-32 trailer: payload decodes, trailer check fails

	return []fixture{
		{name: "images.idx", data: imgs, wantDims: []int{3, Rows, Cols}},
		{name: "images.idx.gz", data: gz, wantDims: []int{3, Rows, Cols}},
		{name: "labels.idx", data: labs, wantDims: []int{3}},
		{name: "labels.idx.gz", data: gzipBytes(labs), wantDims: []int{3}},
		{name: "labels-2.idx.gz", data: gzipBytes(idxBytes([]uint32{2}, tinyLabels(2))), wantDims: []int{2}},
		{name: "labels-10.idx", data: idxBytes([]uint32{3}, []byte{1, 10, 2}), wantDims: []int{3}},
		{name: "bad-magic.idx", data: append([]byte{0x12, 0x34}, imgs[2:]...), wantErr: "bad magic number"},
		{name: "bad-type.idx", data: append([]byte{0, 0, 0x0d}, imgs[3:]...), wantErr: "element type"},
		{name: "bad-ndims.idx", data: []byte{0, 0, 8, 0}, wantErr: "declares 0 dimensions"},
		{name: "huge-dims.idx", data: idxBytes([]uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), wantErr: "more than the"},
		{name: "huge-dims.idx.gz", data: gzipBytes(idxBytes([]uint32{60000000, 28, 28}, nil)), wantErr: "more than the"},
		{name: "gzip-bomb-claim.idx.gz", data: gzipBytes(idxBytes([]uint32{100000, 28, 28}, nil)), wantErr: "more than a compressed file"},
		{name: "short-header.idx", data: imgs[:10], wantErr: "ends inside the IDX header"},
		{name: "short-data.idx", data: imgs[:len(imgs)-5], wantErr: "but the file has"},
		{name: "trailing.idx", data: append(append([]byte(nil), imgs...), 0), wantErr: "but the file has"},
		{name: "trailing.idx.gz", data: gzipBytes(append(append([]byte(nil), imgs...), 0)), wantErr: "data after the"},
		{name: "truncated.idx.gz", data: gz[:len(gz)/2], wantErr: "truncated"},
		{name: "truncated-trailer.idx.gz", data: gz[:len(gz)-4], wantErr: "truncated gzip"},
		{name: "corrupt.idx.gz", data: corrupt, wantErr: "corrupt gzip"},
		{name: "bad-crc.idx.gz", data: badCRC, wantErr: "checksum mismatch"},
		{name: "bad-gzip-header.idx.gz", data: []byte{0x1f, 0x8b, 0x09, 0, 0, 0, 0, 0, 0, 3}, wantErr: "corrupt gzip header"},
		{name: "empty.idx", data: nil, wantErr: "too short"},
	}
}

func TestFixtures(t *testing.T) {
	fx := fixtures()
	if *update {
		if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
			t.Fatal(err)
		}
		corpus := filepath.Join("testdata", "fuzz", "FuzzReadIDX")
		if err := os.MkdirAll(corpus, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range fx {
			if err := os.WriteFile(filepath.Join(fixtureDir, f.name), f.data, 0o644); err != nil {
				t.Fatal(err)
			}
			entry := "go test fuzz v1\n[]byte(" + strconv.Quote(string(f.data)) + ")\n"
			if err := os.WriteFile(filepath.Join(corpus, f.name), []byte(entry), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var names []string
	for _, f := range fx {
		names = append(names, f.name)
		if _, err := os.Stat(filepath.Join(fixtureDir, f.name)); err != nil {
			t.Errorf("%v (regenerate with: go test ./dataset -run TestFixtures -update)", err)
		}
	}
	// Every committed fixture must be one the generator knows, so none is left untested.
	ents, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, e := range ents {
		if i := sort.SearchStrings(names, e.Name()); i == len(names) || names[i] != e.Name() {
			t.Errorf("stray fixture %s", e.Name())
		}
	}
}

func TestReadIDXFixtures(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(fixtureDir, f.name)
			idx, err := ReadIDX(path)
			if f.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", f.wantErr)
				}
				msg := err.Error()
				if !bytes.Contains([]byte(msg), []byte(f.wantErr)) {
					t.Fatalf("error %q, want it to contain %q", msg, f.wantErr)
				}
				if !bytes.Contains([]byte(msg), []byte(path)) {
					t.Fatalf("error %q does not name the file", msg)
				}
				if bytes.ContainsRune([]byte(msg), '\n') {
					t.Fatalf("error %q spans lines", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(idx.Dims) != fmt.Sprint(f.wantDims) {
				t.Fatalf("dims %v, want %v", idx.Dims, f.wantDims)
			}
			n := 1
			for _, d := range f.wantDims {
				n *= d
			}
			if len(idx.Data) != n {
				t.Fatalf("%d data bytes, want %d", len(idx.Data), n)
			}
		})
	}
}

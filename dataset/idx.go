// Package dataset reads IDX files and loads Fashion-MNIST: the data directory, validation, the
// train/validation split, normalization and the download from the official mirror.
package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is one decoded IDX file of unsigned bytes: Dims are the sizes from the header (first dimension
// is the item count), Data the items in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

const (
	idxTypeUint8 = 0x08
	maxIDXDims   = 4
	// maxIDXBytes bounds what a header may claim. Fashion-MNIST's largest file holds 47,040,000
	// bytes; a header claiming more than this is rejected before anything is allocated.
	maxIDXBytes = 1 << 27
	// maxDeflateRatio is deflate's best compression ratio (about 1032:1); a gzip file cannot
	// decompress to more than this many bytes per compressed byte, so a claim above it is a lie.
	maxDeflateRatio = 1032
)

var gzipMagic = []byte{0x1f, 0x8b}

// ReadIDX reads an IDX file of unsigned bytes, gzip-compressed or raw (told apart by the magic bytes,
// not the name). Every error names the file.
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file already
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not an IDX file", path)
	}
	idx, err := decodeIDX(bufio.NewReaderSize(f, 1<<16), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}

// decodeIDX decodes an IDX stream of size bytes (the file's length, compressed or not).
func decodeIDX(r io.Reader, size int64) (*IDX, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		return nil, fmt.Errorf("too short for an IDX file (%d bytes)", size)
	}
	if bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip header: %v", err)
		}
		defer zr.Close()
		idx, err := readIDXBody(zr, -1, size*maxDeflateRatio)
		if err != nil {
			return nil, err
		}
		// Reading past the payload makes the gzip reader check its CRC and length trailer, so a
		// corrupt stream is caught even when the payload itself decoded.
		extra, err := io.Copy(io.Discard, io.LimitReader(zr, 1))
		if err != nil {
			return nil, gzipErr(err)
		}
		if extra != 0 {
			return nil, fmt.Errorf("data after the %d bytes the header declares", len(idx.Data))
		}
		return idx, nil
	}
	return readIDXBody(br, size, size)
}

// readIDXBody reads header and payload from an uncompressed stream. exact is the stream's length when
// known (raw files), else -1; bound is the most bytes the stream can hold.
func readIDXBody(r io.Reader, exact, bound int64) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, shortErr(err, "magic number")
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("bad magic number %#08x: not an IDX file", binary.BigEndian.Uint32(magic[:]))
	}
	if magic[2] != idxTypeUint8 {
		return nil, fmt.Errorf("IDX element type %#02x not supported (want 0x08, unsigned byte)", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > maxIDXDims {
		return nil, fmt.Errorf("IDX header declares %d dimensions (want 1..%d)", nd, maxIDXDims)
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, shortErr(err, "dimension sizes")
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(hdr[4*i:]))
		dims[i] = int(d)
		// Multiply stepwise so the product can't overflow: each factor is < 2^32 and total stays
		// ≤ maxIDXBytes before the next step.
		total *= d
		if total > maxIDXBytes {
			return nil, fmt.Errorf("IDX header claims dimensions %v, more than the %d bytes allowed", headerDims(hdr), maxIDXBytes)
		}
	}
	headerLen := int64(4 + 4*nd)
	if exact >= 0 && headerLen+total != exact {
		return nil, fmt.Errorf("IDX header declares dimensions %v (%d bytes with header), but the file has %d bytes", dims, headerLen+total, exact)
	}
	if exact < 0 && headerLen+total > bound {
		return nil, fmt.Errorf("IDX header declares dimensions %v (%d bytes), more than a compressed file of its size can hold", dims, total)
	}
	data := make([]byte, total)
	if n, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truncated: header declares dimensions %v (%d data bytes), only %d present", dims, total, n)
		}
		return nil, gzipErr(err)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func headerDims(hdr []byte) []uint32 {
	d := make([]uint32, len(hdr)/4)
	for i := range d {
		d[i] = binary.BigEndian.Uint32(hdr[4*i:])
	}
	return d
}

func shortErr(err error, what string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated: file ends inside the IDX header (%s)", what)
	}
	return gzipErr(err)
}

// gzipErr words decompression failures so the user learns the file is damaged, not that a checksum
// "is invalid" in the abstract.
func gzipErr(err error) error {
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("corrupt gzip data: checksum mismatch")
	case errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("corrupt gzip data: bad header")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated gzip stream")
	}
	return fmt.Errorf("corrupt gzip data: %v", err)
}

package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/simdnn/simdnn/internal/atomicfile"
)

// Meta is what a model file says about its model besides the tensors.
type Meta struct {
	Arch    string
	Mean    float32 // normalization the model was trained with: x' = (x/255 − Mean)/Std
	Std     float32 // 0 when the file does not say (a plain PyTorch export)
	Classes []string
	Extra   map[string]string // anything else, e.g. the recipe; keys must not be the reserved ones
}

// Metadata keys of the safetensors header written by Save; "format": "pt" tells Hugging Face tools
// the tensors are PyTorch's.
const (
	metaFormat  = "format"
	metaArch    = "arch"
	metaMean    = "mean"
	metaStd     = "std"
	metaClasses = "classes"
)

var reservedMeta = []string{metaFormat, metaArch, metaMean, metaStd, metaClasses}

const (
	maxHeaderBytes = 16 << 20  // our headers are a few KiB; safetensors itself caps at 100 MB
	maxFileBytes   = 256 << 20 // both models are a few MB; anything far bigger is not ours
)

// stateDicter is implemented by every network this package builds.
type stateDicter interface{ stateDict() []*Param }

type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Save writes net's weights and running statistics to path as safetensors, named as the equivalent
// PyTorch modules' state_dict, in PyTorch's layouts, with meta in the header's __metadata__. The
// write is atomic: a temporary file in the same directory, fsync, rename.
func Save(path string, net Network, meta Meta) error {
	sd, ok := net.(stateDicter)
	if !ok {
		return fmt.Errorf("save %s: network type %T is not one of this package's", path, net)
	}
	if meta.Arch == "" {
		meta.Arch = net.Arch()
	}
	if meta.Arch != net.Arch() {
		return fmt.Errorf("save %s: meta says %q but the network is %q", path, meta.Arch, net.Arch())
	}
	md := map[string]string{
		metaFormat: "pt",
		metaArch:   meta.Arch,
		metaMean:   strconv.FormatFloat(float64(meta.Mean), 'g', -1, 32),
		metaStd:    strconv.FormatFloat(float64(meta.Std), 'g', -1, 32),
	}
	if meta.Classes != nil {
		b, _ := json.Marshal(meta.Classes)
		md[metaClasses] = string(b)
	}
	for k, v := range meta.Extra {
		if slices.Contains(reservedMeta, k) {
			return fmt.Errorf("save %s: extra metadata key %q is reserved", path, k)
		}
		md[k] = v
	}
	header := map[string]any{"__metadata__": md}
	var off int64
	tensors := sd.stateDict()
	for _, p := range tensors {
		n := int64(len(p.Value)) * 4
		header[p.Name] = stEntry{DType: "F32", Shape: p.Shape, DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("save %s: %v", path, err)
	}
	// Pad the header with spaces to a multiple of 8 so the data is aligned, as the reference writer does.
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	buf := make([]byte, 8+len(hb)+int(off))
	binary.LittleEndian.PutUint64(buf, uint64(len(hb)))
	copy(buf[8:], hb)
	d := buf[8+len(hb):]
	for _, p := range tensors {
		for _, v := range p.Value {
			binary.LittleEndian.PutUint32(d, math.Float32bits(v))
			d = d[4:]
		}
	}
	if err := atomicfile.WriteBytes(path, buf); err != nil {
		return fmt.Errorf("save model: %v", err)
	}
	return nil
}

// Load reads a model file written by Save (or by PyTorch with the same tensor names) and returns the
// network it holds, in its architecture, with its metadata. Every size in the file is checked
// against the file's length before anything is allocated; a damaged file, unknown or inconsistent
// architecture, or a tensor of the wrong name, type or shape is a one-line error naming the file.
func Load(path string) (Network, Meta, error) {
	return load(path, "")
}

// LoadArch is Load that also requires the file to hold the given architecture ("ann" or "cnn").
func LoadArch(path, arch string) (Network, Meta, error) {
	if !slices.Contains(AllArchs, arch) {
		return nil, Meta{}, fmt.Errorf("load %s: unknown architecture %q (want %s)", path, arch, archList())
	}
	return load(path, arch)
}

func load(path, wantArch string) (Network, Meta, error) {
	fail := func(format string, args ...any) (Network, Meta, error) {
		return nil, Meta{}, fmt.Errorf("load %s: %s", path, fmt.Sprintf(format, args...))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("load model: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail("%v", err)
	}
	size := st.Size()
	if !st.Mode().IsRegular() {
		return fail("not a regular file")
	}
	if size < 8 {
		return fail("damaged safetensors file: %d bytes, too short for the 8-byte header length", size)
	}
	if size > maxFileBytes {
		return fail("%d bytes is far larger than any model of this kit (limit %d)", size, maxFileBytes)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(f, raw); err != nil {
		return fail("read: %v", err)
	}
	hlen := binary.LittleEndian.Uint64(raw)
	if hlen > uint64(size-8) {
		return fail("damaged safetensors file: header length %d exceeds the file's remaining %d bytes (truncated?)", hlen, size-8)
	}
	if hlen > maxHeaderBytes {
		return fail("damaged safetensors file: header length %d exceeds the limit %d", hlen, maxHeaderBytes)
	}
	hdr := raw[8 : 8+hlen]
	data := raw[8+hlen:]
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return fail("damaged safetensors header: %v", err)
	}
	md := map[string]string{}
	if m, ok := entries["__metadata__"]; ok {
		if err := json.Unmarshal(m, &md); err != nil {
			return fail("bad __metadata__ (want string to string): %v", err)
		}
		delete(entries, "__metadata__")
	}
	type span struct {
		name       string
		begin, end int64
	}
	tensors := map[string]stEntry{}
	var spans []span
	for name, rawE := range entries {
		var e stEntry
		if err := json.Unmarshal(rawE, &e); err != nil {
			return fail("tensor %q: bad header entry: %v", name, err)
		}
		b, en := e.DataOffsets[0], e.DataOffsets[1]
		if b < 0 || en < b || en > int64(len(data)) {
			return fail("tensor %q: data offsets [%d,%d] outside the %d-byte data section (truncated?)", name, b, en, len(data))
		}
		elem := int64(0)
		switch e.DType {
		case "F32":
			elem = 4
		case "I64":
			elem = 8
		default:
			return fail("tensor %q: dtype %q, want F32", name, e.DType)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > (en-b)/int64(d)) {
				return fail("tensor %q: shape %v does not fit its %d bytes", name, e.Shape, en-b)
			}
			count *= int64(d)
		}
		if count*elem != en-b {
			return fail("tensor %q: shape %v of %s needs %d bytes, data offsets give %d", name, e.Shape, e.DType, count*elem, en-b)
		}
		if e.DType == "I64" && !strings.HasSuffix(name, ".num_batches_tracked") {
			return fail("tensor %q: dtype I64, want F32", name)
		}
		tensors[name] = e
		spans = append(spans, span{name, b, en})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].begin < spans[j].begin })
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return fail("tensors %q and %q overlap", spans[i-1].name, spans[i].name)
		}
	}

	arch := md[metaArch]
	guessed := guessArch(tensors)
	switch {
	case arch == "":
		if guessed == "" {
			return fail("no %q in the metadata and the tensor names match neither ann nor cnn", metaArch)
		}
		arch = guessed
	case !slices.Contains(AllArchs, arch):
		return fail("unknown architecture %q (want %s)", arch, archList())
	case guessed != "" && guessed != arch:
		return fail("metadata says %s but the tensors are those of a %s", arch, guessed)
	}
	if wantArch != "" && arch != wantArch {
		return fail("holds a %s model, want %s", arch, wantArch)
	}
	net, _ := New(arch, 0)
	state := net.(stateDicter).stateDict()
	known := map[string]bool{}
	for _, p := range state {
		known[p.Name] = true
		e, ok := tensors[p.Name]
		if !ok {
			return fail("tensor %q of the %s is missing", p.Name, arch)
		}
		if e.DType != "F32" || !slices.Equal(e.Shape, p.Shape) {
			return fail("tensor %q has %s shape %v, the %s needs F32 %v", p.Name, e.DType, e.Shape, arch, p.Shape)
		}
		src := data[e.DataOffsets[0]:e.DataOffsets[1]]
		for i := range p.Value {
			p.Value[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}
	for name := range tensors {
		if !known[name] && !strings.HasSuffix(name, ".num_batches_tracked") {
			return fail("unexpected tensor %q for a %s", name, arch)
		}
	}

	meta := Meta{Arch: arch, Extra: map[string]string{}}
	for k, v := range md {
		switch k {
		case metaArch, metaFormat:
		case metaMean, metaStd:
			x, err := strconv.ParseFloat(v, 32)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fail("metadata %q = %q is not a number", k, v)
			}
			if k == metaMean {
				meta.Mean = float32(x)
			} else {
				meta.Std = float32(x)
			}
		case metaClasses:
			if err := json.Unmarshal([]byte(v), &meta.Classes); err != nil {
				return fail("metadata %q is not a JSON list of strings: %v", k, err)
			}
		default:
			meta.Extra[k] = v
		}
	}
	return net, meta, nil
}

// guessArch names the architecture whose distinctive tensors the file holds ("" if neither).
func guessArch(tensors map[string]stEntry) string {
	_, conv := tensors["conv1.weight"]
	_, fc4 := tensors["fc4.weight"]
	if _, ok := tensors["stem.conv.weight"]; ok {
		// The variants share their names; layer1.0's output channels tell them apart.
		if e, ok := tensors["layer1.0.conv1.weight"]; ok && len(e.Shape) > 0 {
			for arch, sp := range resNetSpecs {
				if e.Shape[0] == sp.stages[0].cout {
					return arch
				}
			}
		}
		return "resnet"
	}
	switch {
	case conv && !fc4:
		return "cnn"
	case fc4 && !conv:
		return "ann"
	}
	return ""
}

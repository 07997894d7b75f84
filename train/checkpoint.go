package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/simdnn/simdnn/internal/atomicfile"

	"github.com/simdnn/simdnn/nn"
)

// A checkpoint is everything a run needs to continue after its last finished epoch exactly as if it
// had not stopped: the network's tensors, Adam's moments and step, the states of the shuffling and
// dropout generators, the history (from which the schedule is rebuilt by replay), early stopping's
// best weights, the weight average if any, and the time spent so far. Augmentation draws from a generator that depends on the
// seed and the epoch only, so it needs nothing.
//
// File: "simdnn-ckpt-1\n", a gob-encoded checkpoint, and the CRC-32 (IEEE) of both, little endian.
// It is written atomically after every epoch, so a kill leaves either the previous or the new one.
type checkpoint struct {
	Fingerprint  string // the settings that must match to resume (see Config.fingerprint)
	Epoch        int    // epochs done
	Stopped      bool   // early stopping ended the run after Epoch
	Names        []string
	State        [][]float32 // the network's tensors, Params then Buffers
	Adam         nn.AdamState
	ShuffleRNG   []byte
	DropoutRNG   []byte
	History      []Epoch
	Early        *EarlyStop
	EMA          [][]float32 // the weight average's tensors (Config.EMA), in State's order
	EMASteps     int
	TrainSeconds float64
	WallSeconds  float64 // wall time of the run so far, including earlier processes
	Resumes      []int   // epochs after which earlier processes stopped and this run was resumed
}

const ckptMagic = "simdnn-ckpt-1\n"

// CheckpointPath is where a run writes its checkpoint: <out>/<arch>.ckpt.
func CheckpointPath(outDir, arch string) string { return filepath.Join(outDir, arch+".ckpt") }

func writeCheckpoint(path string, c *checkpoint) error {
	var buf bytes.Buffer
	buf.WriteString(ckptMagic)
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("checkpoint %s: %v", path, err)
	}
	buf.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(buf.Bytes())))
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// errNoCheckpoint: --resume found nothing to resume, so the run starts from scratch.
var errNoCheckpoint = errors.New("no checkpoint")

func readCheckpoint(path string) (*checkpoint, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoCheckpoint
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %v", err)
	}
	if len(raw) < len(ckptMagic)+4 || string(raw[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("checkpoint %s: not a simdnn checkpoint", path)
	}
	body, sum := raw[:len(raw)-4], binary.LittleEndian.Uint32(raw[len(raw)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("checkpoint %s: damaged (checksum mismatch)", path)
	}
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body[len(ckptMagic):])).Decode(&c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: damaged: %v", path, err)
	}
	return &c, nil
}

// restoreState copies a checkpoint's tensors into the network after checking names and sizes; kept is
// the network early stopping copies (the weight average's with Config.EMA, else state itself).
func (c *checkpoint) restoreState(path string, state, kept []*nn.Param) error {
	if len(c.State) != len(state) || len(c.Names) != len(state) {
		return fmt.Errorf("checkpoint %s: %d tensors, the network has %d", path, len(c.State), len(state))
	}
	for i, p := range state {
		if c.Names[i] != p.Name || len(c.State[i]) != len(p.Value) {
			return fmt.Errorf("checkpoint %s: tensor %d is %s with %d values, the network's is %s with %d", path, i, c.Names[i], len(c.State[i]), p.Name, len(p.Value))
		}
	}
	if c.EMA != nil {
		if len(c.EMA) != len(state) {
			return fmt.Errorf("checkpoint %s: the weight average holds %d tensors, the network has %d", path, len(c.EMA), len(state))
		}
		for i, p := range state {
			if len(c.EMA[i]) != len(p.Value) {
				return fmt.Errorf("checkpoint %s: the weight average's %s has %d values, want %d", path, p.Name, len(c.EMA[i]), len(p.Value))
			}
		}
	}
	if c.Early != nil && c.Early.Best != nil {
		if len(c.Early.Best) != len(kept) {
			return fmt.Errorf("checkpoint %s: early stopping holds %d tensors, the network has %d", path, len(c.Early.Best), len(kept))
		}
		for i, p := range kept {
			if len(c.Early.Best[i]) != len(p.Value) {
				return fmt.Errorf("checkpoint %s: early stopping's copy of %s has %d values, want %d", path, p.Name, len(c.Early.Best[i]), len(p.Value))
			}
		}
	}
	for i, p := range state {
		copy(p.Value, c.State[i])
	}
	return nil
}

package nn

import (
	"fmt"
	"math/rand/v2"
)

// Resumable training state: what a checkpoint needs beyond the model's tensors.

// AdamState is an Adam optimizer's resumable state: the step count, the learning rate and the first
// and second moment estimates, one slice per parameter in Params order.
type AdamState struct {
	Step int
	LR   float64
	M, V [][]float32
}

// State returns a copy of the optimizer's state.
func (a *Adam) State() AdamState {
	s := AdamState{Step: a.t, LR: a.lr, M: make([][]float32, len(a.m)), V: make([][]float32, len(a.v))}
	for i := range a.m {
		s.M[i] = append([]float32(nil), a.m[i]...)
		s.V[i] = append([]float32(nil), a.v[i]...)
	}
	return s
}

// SetState restores a state returned by State of an optimizer over tensors of the same sizes.
func (a *Adam) SetState(s AdamState) error {
	if len(s.M) != len(a.m) || len(s.V) != len(a.v) {
		return fmt.Errorf("optimizer state has %d/%d moment tensors, the optimizer %d", len(s.M), len(s.V), len(a.m))
	}
	for i := range a.m {
		if len(s.M[i]) != len(a.m[i]) || len(s.V[i]) != len(a.v[i]) {
			return fmt.Errorf("optimizer state: moment %d (%s) has %d/%d values, want %d", i, a.params[i].Name, len(s.M[i]), len(s.V[i]), len(a.m[i]))
		}
	}
	if s.Step < 0 {
		return fmt.Errorf("optimizer state: step %d", s.Step)
	}
	for i := range a.m {
		copy(a.m[i], s.M[i])
		copy(a.v[i], s.V[i])
	}
	a.t, a.lr = s.Step, s.LR
	return nil
}

// DropoutStream is the PCG stream of a network's dropout masks for a seed (the networks' own choice),
// so that DropoutSource(seed) reproduces the masks New(arch, seed) would draw.
const dropoutStream = 0x6472_6f70_6f75_7421

// DropoutSource returns a fresh source of the dropout masks New draws for seed.
func DropoutSource(seed int64) *rand.PCG { return rand.NewPCG(uint64(seed), dropoutStream) }

// SetDropoutSource makes net draw its dropout masks from src, whose state the caller can then save
// (MarshalBinary) and restore, as checkpoints do. Call it before training: with DropoutSource(seed) and
// the seed net was built with, the masks are the ones net would have drawn anyway.
func SetDropoutSource(net Network, src rand.Source) error {
	s, ok := net.(*seqNet)
	if !ok {
		return fmt.Errorf("network type %T is not one of this package's", net)
	}
	// Every dropout layer shares the network's generator, so replacing its source reaches all of them.
	*s.rng = *rand.New(src)
	return nil
}

package train

import (
	"testing"

	"github.com/simdnn/simdnn/nn"
)

func TestEarlyStop(t *testing.T) {
	p := &nn.Param{Name: "w", Value: []float32{0}}
	state := []*nn.Param{p}
	e := NewEarlyStop(2)
	accs := []float64{0.50, 0.60, 0.55, 0.60, 0.58} // 0.60 again is not better
	var stopAt int
	for i, a := range accs {
		p.Value[0] = float32(i + 1) // the weights "of epoch i+1"
		if e.Observe(i+1, a, state) {
			stopAt = i + 1
			break
		}
	}
	if stopAt != 4 || e.BestEpoch != 2 || e.BestAcc != 0.60 {
		t.Fatalf("stopped after %d with best epoch %d (%v), want 4 and 2 (0.60)", stopAt, e.BestEpoch, e.BestAcc)
	}
	e.Restore(state)
	if p.Value[0] != 2 {
		t.Fatalf("restored weights of epoch %v, want 2", p.Value[0])
	}
}

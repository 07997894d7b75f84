package train

import "github.com/simdnn/simdnn/nn"

// EarlyStop stops a run after Patience epochs in a row without a better validation accuracy and keeps
// a copy of the best epoch's weights and running statistics, which Restore puts back.
type EarlyStop struct {
	Patience  int
	BestAcc   float64
	BestEpoch int
	Bad       int         // epochs since the best
	Best      [][]float32 // the best epoch's tensors, in the order of the network's state
}

// NewEarlyStop returns an early stopper with the given patience (at least 1).
func NewEarlyStop(patience int) *EarlyStop { return &EarlyStop{Patience: patience, BestAcc: -1} }

// netState is every tensor a model file holds: trainable parameters, then running statistics.
func netState(net nn.Network) []*nn.Param {
	return append(append([]*nn.Param(nil), net.Params()...), net.Buffers()...)
}

// Observe records epoch's validation accuracy, copying the state when it is the best so far, and
// reports whether to stop.
func (e *EarlyStop) Observe(epoch int, valAcc float64, state []*nn.Param) bool {
	if valAcc > e.BestAcc {
		e.BestAcc, e.BestEpoch, e.Bad = valAcc, epoch, 0
		if e.Best == nil {
			e.Best = make([][]float32, len(state))
		}
		for i, p := range state {
			e.Best[i] = append(e.Best[i][:0], p.Value...)
		}
		return false
	}
	e.Bad++
	return e.Bad >= e.Patience
}

// Restore copies the best epoch's tensors back into state.
func (e *EarlyStop) Restore(state []*nn.Param) {
	if e.Best == nil {
		return
	}
	for i, p := range state {
		copy(p.Value, e.Best[i])
	}
}

// ReplayEarlyStop reads off a run's history what early stopping with patience would have done: the
// epoch it would have stopped after (len(h) if it would not have stopped) and the epoch whose weights it
// would have kept. Early stopping only watches and copies, so with the same settings an early-stopped
// run is the full run up to its stop; with the test accuracies of Config.TestEachEpoch in the history,
// h[kept-1].TestAcc is exactly the test accuracy the early-stopped run reports.
func ReplayEarlyStop(h []Epoch, patience int) (stopped, kept int) {
	e := NewEarlyStop(patience)
	for _, ep := range h {
		if e.Observe(ep.Epoch, ep.ValAcc, nil) {
			return ep.Epoch, e.BestEpoch
		}
	}
	return len(h), e.BestEpoch
}

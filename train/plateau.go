package train

import "math"

// Plateau is PyTorch's ReduceLROnPlateau in mode "max" with a relative threshold and no cooldown or
// minimum learning rate: a metric counts as better only when it beats the best so far by more than
// Threshold×best; after more than Patience epochs without improvement the rate is multiplied by
// Factor and the count starts again.
type Plateau struct {
	Factor    float64
	Patience  int
	Threshold float64

	lr     float64
	best   float64
	numBad int
}

// NewPlateau starts a schedule at lr with the study's settings other than lr: factor 0.5,
// patience 2, threshold 1e-4 (PyTorch's default).
func NewPlateau(lr float64) *Plateau {
	return &Plateau{Factor: 0.5, Patience: 2, Threshold: 1e-4, lr: lr, best: math.Inf(-1)}
}

// LR returns the current learning rate.
func (p *Plateau) LR() float64 { return p.lr }

// Step records one epoch's metric (validation accuracy) and returns the learning rate for the next
// epoch.
func (p *Plateau) Step(metric float64) float64 {
	if metric > p.best*(1+p.Threshold) {
		p.best = metric
		p.numBad = 0
	} else {
		p.numBad++
	}
	if p.numBad > p.Patience {
		// PyTorch skips reductions smaller than eps=1e-8, which only matters near a zero rate.
		if nl := p.lr * p.Factor; p.lr-nl > 1e-8 {
			p.lr = nl
		}
		p.numBad = 0
	}
	return p.lr
}

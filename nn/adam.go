package nn

import (
	"math"

	"github.com/simdnn/simdnn/kernels"
)

// Adam is PyTorch's Adam (no amsgrad): betas 0.9/0.999, eps 1e-8, and with SetWeightDecay PyTorch's
// AdamW (decoupled weight decay).
type Adam struct {
	params       []*Param
	m, v         [][]float32
	lr           float64
	wd           float64
	beta1, beta2 float64
	eps          float64
	t            int
	loop         loop
	args         struct {
		i                         int
		lr, b1, b2, eps, bc1, bc2 float32
		decay                     float32 // 1 − lr·wd
	}
}

// NewAdam makes an optimizer over params with learning rate lr.
func NewAdam(params []*Param, lr float64) *Adam {
	a := &Adam{params: params, lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, p := range params {
		a.m = append(a.m, make([]float32, len(p.Value)))
		a.v = append(a.v, make([]float32, len(p.Value)))
	}
	return a
}

// LR returns the current learning rate.
func (a *Adam) LR() float64 { return a.lr }

// SetLR changes the learning rate (for schedules such as ReduceLROnPlateau).
func (a *Adam) SetLR(lr float64) { a.lr = lr }

// SetWeightDecay makes every step first shrink each parameter by the factor 1 − lr·wd, as PyTorch's
// AdamW does (decoupled from the gradient's moments, and applied to every parameter, as
// AdamW(model.parameters()) does); 0 turns it off.
func (a *Adam) SetWeightDecay(wd float64) { a.wd = wd }

// Steps returns how many updates have been made.
func (a *Adam) Steps() int { return a.t }

// ZeroGrad clears every parameter's gradient.
func (a *Adam) ZeroGrad() {
	for _, p := range a.params {
		clear(p.Grad)
	}
}

// Step applies one update from the accumulated gradients, in PyTorch's arithmetic:
// p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps).
func (a *Adam) Step() {
	a.t++
	bc1 := 1 - math.Pow(a.beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.beta2, float64(a.t))
	a.args.lr, a.args.b1, a.args.b2, a.args.eps = float32(a.lr), float32(a.beta1), float32(a.beta2), float32(a.eps)
	a.args.bc1, a.args.bc2 = float32(bc1), float32(bc2)
	a.args.decay = float32(1 - a.lr*a.wd)
	for i := range a.params {
		a.args.i = i
		if a.loop.body == nil {
			a.loop.body = a.update // bound once: a method value allocates
		}
		a.loop.run(len(a.params[i].Value), 8)
	}
}

func (a *Adam) update(lo, hi int) {
	i, r := a.args.i, &a.args
	w, g, m, v := a.params[i].Value, a.params[i].Grad, a.m[i], a.v[i]
	if a.wd != 0 {
		for j := lo; j < hi; j++ {
			w[j] *= r.decay
		}
	}
	kernels.Adam(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], r.lr, r.b1, r.b2, r.eps, r.bc1, r.bc2)
}

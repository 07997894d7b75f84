package kernels

import "math"

// Adam applies one Adam step (PyTorch's torch.optim.Adam, no weight decay, no amsgrad) to parameters
// p with gradient g and moment buffers m and v, all of the same length:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p = p − lr/bc1 · m / (√v/√bc2 + eps)
//
// where bc1 = 1−β1^t and bc2 = 1−β2^t are the bias corrections of step t (t from 1), precomputed by
// the caller; the association is PyTorch's, so results match it to rounding.
func Adam(p, g, m, v []float32, lr, beta1, beta2, eps, bc1, bc2 float32) {
	n := len(p)
	need("Adam", "g", len(g), n)
	need("Adam", "m", len(m), n)
	need("Adam", "v", len(v), n)
	current.Load().ew.adam(p, g[:n], m[:n], v[:n], beta1, beta2, lr/bc1, float32(math.Sqrt(float64(bc2))), eps)
}

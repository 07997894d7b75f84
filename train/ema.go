package train

import (
	"fmt"

	"github.com/simdnn/simdnn/nn"
)

// emaWeights keeps an exponential moving average of a network's tensors, parameters and BatchNorm
// running statistics alike (torchvision's ExponentialMovingAverage with use_buffers=True), updated
// after every optimizer step:
//
//	avg ← d·avg + (1−d)·w,   d = min(Decay, (1+t)/(10+t)) at update t = 0, 1, …
//
// The second term of the minimum is TensorFlow's ExponentialMovingAverage with num_updates: without
// it the initial weights would weigh 0.999^422 ≈ 66% in the average after the first epoch of the study's
// recipe, and the plateau schedule and early stopping would watch a model that lags far behind.
//
// Why: under the study's recipe the rate stays at 1e-3 for most of the run and the residual CNN's
// validation accuracy swings by 1–5 points from one epoch to the next (README, ablation footnote ⁸),
// so the last epoch's weights are a noisy sample; an average over the last few epochs is not.
type emaWeights struct {
	decay    float64
	steps    int         // updates so far
	avg, cur []*nn.Param // same names and sizes, in netState order
}

// newEMA starts the average of cur's tensors in avg (a network of the same architecture) at cur's
// present values.
func newEMA(decay float64, avg, cur []*nn.Param) (*emaWeights, error) {
	if len(avg) != len(cur) {
		return nil, fmt.Errorf("ema: %d tensors to average into, %d to average", len(avg), len(cur))
	}
	for i := range cur {
		if avg[i].Name != cur[i].Name || len(avg[i].Value) != len(cur[i].Value) {
			return nil, fmt.Errorf("ema: tensor %d is %s (%d values) and %s (%d values)", i, avg[i].Name, len(avg[i].Value), cur[i].Name, len(cur[i].Value))
		}
		copy(avg[i].Value, cur[i].Value)
	}
	return &emaWeights{decay: decay, avg: avg, cur: cur}, nil
}

// rate is d at the next update.
func (e *emaWeights) rate() float64 {
	t := float64(e.steps)
	return min(e.decay, (1+t)/(10+t))
}

func (e *emaWeights) update() {
	d := float32(e.rate())
	w := 1 - d
	for i, p := range e.cur {
		a := e.avg[i].Value
		for j, v := range p.Value {
			a[j] = d*a[j] + w*v
		}
	}
	e.steps++
}

package train

import (
	"fmt"
	"math"
)

// Schedules, per step. Every schedule is a pure function of the step and of the validation accuracies
// it has been shown, so a resumed run rebuilds its schedule by replaying the history.

// Schedule sets the learning rate of every training step.
type Schedule interface {
	// LR is the learning rate of step s (0-based over the whole run) with spe steps per epoch.
	LR(s, spe int) float64
	// EpochEnd records an epoch's validation accuracy (ReduceLROnPlateau reacts to it).
	EpochEnd(valAcc float64)
	// String describes the schedule for the metrics' recipe.
	String() string
}

// Schedules lists the names NewSchedule accepts.
var Schedules = []string{"plateau", "cosine", "onecycle"}

// NewSchedule builds the named schedule for a run of epochs epochs from lr (the peak rate), with
// warmup epochs of linear warm-up from zero ("" is "plateau", the study's).
//
//   - plateau: ReduceLROnPlateau on validation accuracy (the study's: factor 0.5, patience 2), the
//     warm-up scaling its rate during the first warmup epochs.
//   - cosine: linear warm-up, then cosine annealing from lr to 0 over the remaining epochs.
//   - onecycle: PyTorch's OneCycleLR (cosine; start at lr/25, end at lr/25/1e4), rising for 30% of the
//     steps, or for warmup epochs when warmup > 0.
func NewSchedule(name string, lr float64, epochs, warmup int) (Schedule, error) {
	if warmup < 0 || warmup >= epochs && warmup > 0 {
		return nil, fmt.Errorf("warm-up of %d epochs: want 0 to %d (fewer than the %d epochs)", warmup, epochs-1, epochs)
	}
	switch name {
	case "", "plateau":
		return &plateauSchedule{p: NewPlateau(lr), warmup: warmup}, nil
	case "cosine":
		return &cosineSchedule{lr: lr, epochs: epochs, warmup: warmup}, nil
	case "onecycle":
		pct := 0.3
		if warmup > 0 {
			pct = float64(warmup) / float64(epochs)
		}
		return &oneCycle{max: lr, epochs: epochs, pct: pct}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q (want plateau, cosine or onecycle)", name)
}

// warmFactor is the linear warm-up's factor for step s: the fraction of the warm-up done at the end of
// the step, so the first step trains with a small positive rate and the last warm-up step with lr.
func warmFactor(s, spe, warmup int) float64 {
	if warmup <= 0 || s >= warmup*spe {
		return 1
	}
	return float64(s+1) / float64(warmup*spe)
}

type plateauSchedule struct {
	p      *Plateau
	warmup int
}

func (p *plateauSchedule) LR(s, spe int) float64   { return p.p.LR() * warmFactor(s, spe, p.warmup) }
func (p *plateauSchedule) EpochEnd(valAcc float64) { p.p.Step(valAcc) }
func (p *plateauSchedule) String() string {
	s := fmt.Sprintf("ReduceLROnPlateau(val acc, mode=max, factor=%g, patience=%d, threshold=%g rel)", p.p.Factor, p.p.Patience, p.p.Threshold)
	if p.warmup > 0 {
		s = fmt.Sprintf("linear warm-up %d epochs, then %s", p.warmup, s)
	}
	return s
}

type cosineSchedule struct {
	lr             float64
	epochs, warmup int
}

func (c *cosineSchedule) LR(s, spe int) float64 {
	if s < c.warmup*spe {
		return c.lr * warmFactor(s, spe, c.warmup)
	}
	p := float64(s-c.warmup*spe) / float64((c.epochs-c.warmup)*spe)
	return c.lr * (1 + math.Cos(math.Pi*min(p, 1))) / 2
}
func (c *cosineSchedule) EpochEnd(float64) {}
func (c *cosineSchedule) String() string {
	return fmt.Sprintf("linear warm-up %d epochs, then cosine annealing to 0 (per step)", c.warmup)
}

type oneCycle struct {
	max    float64
	epochs int
	pct    float64
}

func (o *oneCycle) LR(s, spe int) float64 {
	const div, finalDiv = 25, 1e4
	total := o.epochs * spe
	up := max(1, int(math.Round(o.pct*float64(total))))
	start, end := o.max/div, o.max/div/finalDiv
	anneal := func(a, b, p float64) float64 { return b + (a-b)*(1+math.Cos(math.Pi*min(p, 1)))/2 }
	if s < up {
		return anneal(start, o.max, float64(s)/float64(up))
	}
	return anneal(o.max, end, float64(s-up)/float64(max(1, total-up)))
}
func (o *oneCycle) EpochEnd(float64) {}
func (o *oneCycle) String() string {
	return fmt.Sprintf("OneCycleLR(max_lr=%g, pct_start=%.3g, div_factor=25, final_div_factor=1e4, cos, per step)", o.max, o.pct)
}

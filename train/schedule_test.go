package train

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestScheduleCosineWarmup(t *testing.T) {
	const lr, epochs, warm, spe = 0.01, 10, 2, 4
	s, err := NewSchedule("cosine", lr, epochs, warm)
	if err != nil {
		t.Fatal(err)
	}
	// Warm-up: the fraction of the warm-up done at the end of each step.
	for st := 0; st < warm*spe; st++ {
		if got, want := s.LR(st, spe), lr*float64(st+1)/(warm*spe); !near(got, want) {
			t.Errorf("warm-up step %d: lr %v, want %v", st, got, want)
		}
	}
	// Then cosine from lr (first step after warm-up) through lr/2 (half way) towards 0.
	if got := s.LR(warm*spe, spe); !near(got, lr) {
		t.Errorf("first step after warm-up: %v, want %v", got, lr)
	}
	half := warm*spe + (epochs-warm)*spe/2
	if got := s.LR(half, spe); !near(got, lr/2) {
		t.Errorf("half way: %v, want %v", got, lr/2)
	}
	prev := math.Inf(1)
	for st := warm * spe; st < epochs*spe; st++ {
		v := s.LR(st, spe)
		if !(v < prev) || v <= 0 {
			t.Fatalf("step %d: lr %v after %v, want strictly decreasing and positive", st, v, prev)
		}
		prev = v
	}
	s.EpochEnd(0.1) // ignored
	if got := s.LR(half, spe); !near(got, lr/2) {
		t.Error("cosine reacted to a validation accuracy")
	}
}

func TestScheduleOneCycle(t *testing.T) {
	const lr, epochs, spe = 0.003, 10, 10
	s, _ := NewSchedule("onecycle", lr, epochs, 0)
	total := epochs * spe
	up := 30 // pct_start 0.3
	if got := s.LR(0, spe); !near(got, lr/25) {
		t.Errorf("first step %v, want lr/25 = %v", got, lr/25)
	}
	if got := s.LR(up, spe); !near(got, lr) {
		t.Errorf("step %d: %v, want the peak %v", up, got, lr)
	}
	end := lr / 25 / 1e4
	if got := s.LR(total-1, spe); !(got > end && got < lr/1000) {
		t.Errorf("last step %v, want just above %v", got, end)
	}
	for st := 1; st < total; st++ {
		a, b := s.LR(st-1, spe), s.LR(st, spe)
		if st <= up && !(b > a) || st > up && !(b < a) {
			t.Fatalf("step %d: %v after %v: not rising to step %d then falling", st, b, a, up)
		}
	}
	// --warmup sets the rising part.
	s2, _ := NewSchedule("onecycle", lr, epochs, 2)
	if got := s2.LR(2*spe, spe); !near(got, lr) {
		t.Errorf("warm-up 2: step %d is %v, want the peak", 2*spe, got)
	}
}

func TestSchedulePlateau(t *testing.T) {
	// Without warm-up it is the study's ReduceLROnPlateau, epoch by epoch.
	accs := []float64{0.80, 0.85, 0.85, 0.85, 0.85, 0.86, 0.86, 0.86, 0.86}
	s, _ := NewSchedule("", 0.001, 18, 0)
	p := NewPlateau(0.001)
	for i, a := range accs {
		if got, want := s.LR(i*5+3, 5), p.LR(); got != want {
			t.Fatalf("epoch %d: %v, want %v", i+1, got, want)
		}
		s.EpochEnd(a)
		p.Step(a)
	}
	if p.LR() == 0.001 {
		t.Fatal("the sequence never reduced the rate; the test checks nothing")
	}
	// With warm-up: scaled during the first epochs only.
	w, _ := NewSchedule("plateau", 0.001, 18, 2)
	if got := w.LR(0, 10); !near(got, 0.001/20) {
		t.Errorf("warm-up first step %v", got)
	}
	if got := w.LR(20, 10); got != 0.001 {
		t.Errorf("after warm-up %v", got)
	}
	if !strings.Contains(w.String(), "warm-up 2") {
		t.Errorf("description %q does not mention the warm-up", w.String())
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		name           string
		epochs, warmup int
		want           string
	}{{"cyclic", 10, 0, "unknown schedule"}, {"cosine", 10, 10, "warm-up of 10 epochs"}, {"plateau", 5, -1, "warm-up of -1"}} {
		if _, err := NewSchedule(tc.name, 0.001, tc.epochs, tc.warmup); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%d/%d: error %v, want %q", tc.name, tc.epochs, tc.warmup, err, tc.want)
		}
	}
}

package nn

import (
	"math"
	"strings"
	"testing"
)

// TestRecomputeBNStats checks every BatchNorm's running statistics against the plain average, over the
// batches, of the batch mean and unbiased variance of the layer's input, computed here in float64.
// The batches differ in scale, so an exponential moving average (or a missed reset) would not pass.
func TestRecomputeBNStats(t *testing.T) {
	for _, arch := range []string{"ann", "cnn", "resnet"} {
		t.Run(arch, func(t *testing.T) {
			const n, batch = 11, 4 // batches of 4, 4, 3
			net, err := New(arch, 3)
			if err != nil {
				t.Fatal(err)
			}
			x := randImages(n, 5)
			for i := range x {
				x[i] *= float32(1 + i/(batch*ImageSize)) // batch k scaled by k+1
			}
			s := net.(*seqNet)
			if arch == "ann" {
				// The ANN's dropout sits between its BatchNorms, so the masks the two passes draw must be
				// the same: no dropout here (the check is of the averaging, not of dropout).
				for _, l := range s.layers {
					if d, ok := l.(*dropout); ok {
						d.p = 0
					}
				}
			}
			bns := s.batchNorms()
			wantBN := map[string]int{"ann": 3, "cnn": 3, "resnet": 9}[arch]
			if len(bns) != wantBN {
				t.Fatalf("%d BatchNorm layers found, want %d", len(bns), wantBN)
			}
			type stat struct{ mean, variance []float64 }
			want := make([]stat, len(bns))
			for i, b := range bns {
				want[i] = stat{make([]float64, b.c), make([]float64, b.c)}
			}
			batches := 0
			for lo := 0; lo < n; lo += batch {
				nb := min(batch, n-lo)
				net.Forward(x[lo*ImageSize:(lo+nb)*ImageSize], nb, true)
				for i, b := range bns {
					m := nb * b.hw
					for r := 0; r < b.c; r++ {
						row := b.x[r*m : (r+1)*m]
						var sum, sq float64
						for _, v := range row {
							sum += float64(v)
						}
						mu := sum / float64(m)
						for _, v := range row {
							sq += (float64(v) - mu) * (float64(v) - mu)
						}
						want[i].mean[r] += mu
						want[i].variance[r] += sq / float64(m-1)
					}
				}
				batches++
			}
			if err := RecomputeBNStats(net, x, n, batch); err != nil {
				t.Fatal(err)
			}
			for i, b := range bns {
				for r := 0; r < b.c; r++ {
					wm, wv := want[i].mean[r]/float64(batches), want[i].variance[r]/float64(batches)
					gm, gv := float64(b.runMean.Value[r]), float64(b.runVar.Value[r])
					if math.Abs(gm-wm) > 1e-4*(1+math.Abs(wm)) || math.Abs(gv-wv) > 1e-4*(1+wv) {
						t.Fatalf("%s channel %d: running mean %g var %g, want %g %g", b.label, r, gm, gv, wm, wv)
					}
				}
				if b.average {
					t.Fatalf("%s still averaging after RecomputeBNStats", b.label)
				}
			}
			// Back to the moving average: one more training batch moves the statistics by 10% of the way.
			before := bns[0].runMean.Value[0]
			net.Forward(x[:batch*ImageSize], batch, true)
			if got, want := bns[0].runMean.Value[0], 0.9*before+0.1*bns[0].mean[0]; math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
				t.Fatalf("after RecomputeBNStats a training batch gave running mean %g, want the moving average's %g", got, want)
			}
		})
	}
}

func TestRecomputeBNStatsErrors(t *testing.T) {
	net := NewCNN(1)
	x := randImages(4, 1)
	for _, c := range []struct {
		x        []float32
		n, batch int
		want     string
	}{
		{x, 4, 1, "batch of 1"},
		{x, 1, 4, "1 images"},
		{x[:100], 4, 2, "100 values for 4 images"},
	} {
		err := RecomputeBNStats(net, c.x, c.n, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RecomputeBNStats(n=%d, batch=%d) = %v, want an error with %q", c.n, c.batch, err, c.want)
		}
	}
}

package report

import (
	"testing"
)

func TestRowNormalize(t *testing.T) {
	got := rowNormalize([][]int{{3, 1, 0}, {0, 0, 0}, {1, 1, 2}})
	want := [][]float64{{0.75, 0.25, 0}, {0, 0, 0}, {0.25, 0.25, 0.5}}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("row-normalized %v, want %v", got, want)
			}
		}
	}
}

func TestPairRank(t *testing.T) {
	ps := []pairRow{{A: 0, B: 6, Count: 9}, {A: 2, B: 6, Count: 5}}
	for _, c := range []struct{ a, b, want int }{{6, 0, 1}, {0, 6, 1}, {2, 6, 2}, {6, 2, 2}, {4, 6, 0}} {
		if got := pairRank(ps, c.a, c.b); got != c.want {
			t.Errorf("rank of %d↔%d = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestLRSteps(t *testing.T) {
	r := &run{Schedule: "plateau", Epochs: []epochRow{{Epoch: 1, LR: 1e-3}, {Epoch: 2, LR: 1e-3}, {Epoch: 3, LR: 5e-4}, {Epoch: 4, LR: 5e-4}, {Epoch: 5, LR: 2.5e-4}}}
	ep, rates := lrSteps(r)
	if len(ep) != 2 || ep[0] != 3 || ep[1] != 5 || rates[0] != 5e-4 || rates[1] != 2.5e-4 {
		t.Fatalf("steps %v at rates %v, want epochs [3 5] rates [0.0005 0.00025]", ep, rates)
	}
	if ep, _ := lrSteps(&run{Schedule: "plateau", Epochs: []epochRow{{Epoch: 1, LR: 1e-3}}}); len(ep) != 0 {
		t.Fatalf("one epoch gave steps %v", ep)
	}
	// A plateau schedule after a warm-up: the warm-up's rises are not steps, the halving is.
	warm := &run{Schedule: "plateau", Epochs: []epochRow{
		{Epoch: 1, LR: 5e-4}, {Epoch: 2, LR: 1e-3}, {Epoch: 3, LR: 1e-3}, {Epoch: 4, LR: 5e-4}}}
	if ep, rates := lrSteps(warm); len(ep) != 1 || ep[0] != 4 || rates[0] != 5e-4 {
		t.Fatalf("warm-up then plateau: steps %v at rates %v, want [4] at [0.0005]", ep, rates)
	}
	// One-cycle changes the rate every batch: nothing to mark.
	oc := &run{Schedule: "onecycle", Epochs: r.Epochs}
	if ep, _ := lrSteps(oc); len(ep) != 0 {
		t.Fatalf("one-cycle gave steps %v", ep)
	}
}

// TestFLOPs checks the inference graph's counts against hand counts of each architecture's conv and
// linear layers (3×3 convolutions with padding 1; the residual CNN pools before layer1.0 and
// layer2.0, and its projections are 1×1).
func TestFLOPs(t *testing.T) {
	ann := 2 * (784*512 + 512*256 + 256*128 + 128*10)
	cnn := 2 * (28*28*32*9 + 14*14*64*32*9 + 7*7*128*64*9 + 1152*256 + 256*10)
	resnet := 2 * (28*28*32*9 + // stem
		14*14*64*9*(32+64) + 14*14*64*32 + // layer1.0: conv1, conv2, projection
		14*14*64*9*(64+64) + // layer1.1
		7*7*128*9*(64+128) + 7*7*128*64 + // layer2.0
		128*10) // head, after global average pooling
	wide := 2 * (28*28*32*9 + 14*14*80*9*(32+80) + 14*14*80*32 + 14*14*80*9*(80+80) + 7*7*128*9*(80+128) + 7*7*128*80 + 128*10)
	deep := 2 * (28*28*32*9 +
		28*28*32*9*(32+32) + // layer1.0, no projection
		14*14*64*9*(32+64) + 14*14*64*32 + 14*14*64*9*(64+64) + // layer2.0, layer2.1
		7*7*128*9*(64+128) + 7*7*128*64 + 128*10) // layer3.0, head
	if ann != 1133056 || cnn != 15497216 || resnet != 74313216 || wide != 102712832 || deep != 103214592 {
		t.Fatalf("hand counts changed: %d %d %d %d %d", ann, cnn, resnet, wide, deep)
	}
	for arch, want := range map[string]int{"ann": ann, "cnn": cnn, "resnet": resnet, "resnet-wide": wide, "resnet-deep": deep, "x": 0} {
		if got := flopsPerImage(arch); got != float64(want) {
			t.Errorf("flopsPerImage(%q) = %g, want %d", arch, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{groupInt(569226), "569,226"}, {groupInt(999), "999"}, {groupInt(1000), "1,000"}, {groupInt(-1234567), "-1,234,567"},
		{fmtPct(0.93045), "93.05%"}, {fmtPts(0.0355), "+3.55"}, {fmtPts(-0.01), "-1.00"},
		{fmtDelta(0.1), "+0.100"}, {fmtScore(0.8766), "0.877"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestVerdict compares with the study at its whole-percent precision.
func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		v, lo, hi float64
		want      string
	}{
		{0.8949, 0.88, 0.89, "in line with the study"}, // rounds to 89%
		{0.8967, 0.88, 0.89, "above the study"},        // rounds to 90%
		{0.8749, 0.88, 0.89, "below the study"},
		{0.9304, 0.92, 0.92, "above the study"},
		{0.9249, 0.92, 0.92, "in line with the study"},
	} {
		if got := verdict(c.v, c.lo, c.hi); got != c.want {
			t.Errorf("verdict(%g, %g, %g) = %q, want %q", c.v, c.lo, c.hi, got, c.want)
		}
	}
}

// TestCamPicks: mistakes within the top three pairs come first, in test order, then the others.
func TestCamPicks(t *testing.T) {
	labels := []uint8{6, 1, 0, 6, 3, 4, 2, 9, 6, 0, 5, 7}
	preds := []uint8{0, 7, 6, 4, 8, 6, 6, 5, 2, 6, 7, 5}
	wrong := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	pairs := []pairRow{{A: 0, B: 6, Count: 3}, {A: 4, B: 6, Count: 2}, {A: 2, B: 6, Count: 2}, {A: 5, B: 7, Count: 2}}
	got := camPicks(wrong, labels, preds, pairs)
	want := []int{0, 2, 3, 5, 6, 8, 9, 1} // seven within Shirt pairs, then the first other mistake
	if len(got) != len(want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picked %v, want %v", got, want)
		}
	}
	if got := camPicks(nil, nil, nil, pairs); len(got) != 0 {
		t.Fatalf("no mistakes gave %v", got)
	}
}

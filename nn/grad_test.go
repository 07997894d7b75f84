package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// Gradient checks: every backward against central finite differences.
//
// The layers compute in float32, so the objective L = Σ r·y (r a fixed random projection of the
// output) is accumulated in float64 and the step is h = 1e-2, large enough that float32 rounding of
// L (≈1e-7·|L|) contributes at most ≈1e-5·|L| to the difference quotient. Inputs are drawn away from
// the kinks of ReLU and max-pool by more than h. Tolerance: |numeric − analytic| ≤ 1e-3 + 1e-2·|analytic|.
const (
	fdStep   = 1e-2
	fdAbsTol = 1e-3
	fdRelTol = 1e-2
)

func fdClose(num, ana float64) bool {
	return math.Abs(num-ana) <= fdAbsTol+fdRelTol*math.Abs(ana)
}

func randVec(n int, rng *rand.Rand) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// awayFromKinks returns n values that are distinct by more than 4h and away from 0 by more than 2h,
// in random order, so ReLU and max-pool are differentiable at every input and within ±h of it.
func awayFromKinks(n int, rng *rand.Rand) []float32 {
	v := make([]float32, n)
	perm := rng.Perm(n)
	for i := range v {
		k := float32(perm[i] - n/2)
		if k >= 0 {
			k++
		}
		v[i] = k * 5 * fdStep
	}
	return v
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkLayer compares l's input gradient and its parameters' gradients with finite differences of
// L = Σ r·forward(x).
func checkLayer(t *testing.T, l layer, params []*Param, x []float32, n int, training bool, rng *rand.Rand) {
	t.Helper()
	y := l.forward(x, n, training)
	r := randVec(len(y), rng)
	for _, p := range params {
		clear(p.Grad)
	}
	dx := l.backward(r)
	var dxCopy []float32
	if dx != nil {
		dxCopy = append([]float32(nil), dx...)
	}
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = append([]float32(nil), p.Grad...)
	}
	objective := func() float64 { return dot64(l.forward(x, n, training), r) }
	probe := func(what string, v []float32, i int, ana float64) {
		t.Helper()
		old := v[i]
		v[i] = old + fdStep
		lp := objective()
		v[i] = old - fdStep
		lm := objective()
		v[i] = old
		num := (lp - lm) / (2 * fdStep)
		if !fdClose(num, ana) {
			t.Errorf("%s %s[%d]: analytic %.6g, numeric %.6g", l.name(), what, i, ana, num)
		}
	}
	if dxCopy != nil {
		for i := range x {
			probe("input", x, i, float64(dxCopy[i]))
		}
	}
	for pi, p := range params {
		for i := range p.Value {
			probe(p.Name, p.Value, i, float64(grads[pi][i]))
		}
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := newLinear("fc", 5, 4, rng)
	checkLayer(t, l, []*Param{l.w, l.b}, randVec(5*3, rng), 3, true, rng)
}

func TestGradConv3x3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Non-square planes so a swapped h and w cannot pass.
	c := newConv3x3("conv", 2, 3, 5, 4, rng)
	checkLayer(t, c, []*Param{c.wt, c.b}, randVec(2*2*5*4, rng), 2, true, rng)
}

func TestGradConv3x3Chunked(t *testing.T) {
	// Chunks of 2 images over a batch of 3: a full chunk and a short last one, for both the forward
	// (strided output) and the backward (re-unfolded columns, scattered input gradient); on one
	// worker, and on two that each take a chunk and sum their weight gradients. cout 12 > cin·9 = 9
	// takes the weight gradient untransposed (dwT false), the others transposed.
	for _, procs := range []int{1, 2} {
		for _, shape := range [][2]int{{1, 3}, {2, 3}, {1, 12}} {
			cin, cout := shape[0], shape[1]
			t.Run(fmt.Sprintf("procs=%d/cin=%d/cout=%d", procs, cin, cout), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				rng := rand.New(rand.NewPCG(25, uint64(cin)))
				c := newConv3x3("conv", cin, cout, 4, 5, rng)
				if want := cin*9 > cout; c.dwT != want {
					t.Fatalf("dwT %v, want %v", c.dwT, want)
				}
				defer func(old int) { convChunkBytes = old }(convChunkBytes)
				convChunkBytes = 2 * cin * 9 * 4 * 5 * 4
				if got := c.chunkSize(3); got != 2 {
					t.Fatalf("chunk %d images, want 2", got)
				}
				checkLayer(t, c, []*Param{c.wt, c.b}, randVec(cin*3*4*5, rng), 3, true, rng)
				if len(c.workers) != procs {
					t.Fatalf("%d workers, want %d", len(c.workers), procs)
				}
				// Same outputs as one chunk of the whole batch.
				x := randVec(cin*3*4*5, rng)
				chunked := append([]float32(nil), c.forward(x, 3, true)...)
				convChunkBytes = 1 << 30
				whole := c.forward(x, 3, true)
				for i := range whole {
					if math.Abs(float64(whole[i]-chunked[i])) > 1e-6 {
						t.Fatalf("output %d: chunked %v, whole %v", i, chunked[i], whole[i])
					}
				}
			})
		}
	}
}

func TestGradConv3x3Im2colAdjoint(t *testing.T) {
	// <im2col(x), y> = <x, col2im(y)>: col2im is exactly the transpose the input gradient needs.
	rng := rand.New(rand.NewPCG(5, 6))
	const cin, n, h, w = 3, 2, 6, 5
	x := randVec(cin*n*h*w, rng)
	y := randVec(cin*9*n*h*w, rng)
	col := make([]float32, len(y))
	im2col3x3(col, x, cin, n, h, w)
	back := make([]float32, len(x))
	col2im3x3(back, y, cin, n, h, w)
	a, b := dot64(col, y), dot64(x, back)
	if math.Abs(a-b) > 1e-4*math.Abs(a)+1e-4 {
		t.Errorf("<im2col x, y> = %v, <x, col2im y> = %v", a, b)
	}
}

func TestConv3x3MatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const cin, cout, n, h, w = 2, 3, 2, 5, 6
	c := newConv3x3("conv", cin, cout, h, w, rng)
	x := randVec(cin*n*h*w, rng)
	y := c.forward(x, n, false)
	for o := 0; o < cout; o++ {
		for img := 0; img < n; img++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					s := float64(c.b.Value[o])
					for ci := 0; ci < cin; ci++ {
						for kh := 0; kh < 3; kh++ {
							for kw := 0; kw < 3; kw++ {
								si, sj := i+kh-1, j+kw-1
								if si < 0 || si >= h || sj < 0 || sj >= w {
									continue
								}
								s += float64(c.wt.Value[((o*cin+ci)*3+kh)*3+kw]) * float64(x[((ci*n+img)*h+si)*w+sj])
							}
						}
					}
					got := y[((o*n+img)*h+i)*w+j]
					if math.Abs(float64(got)-s) > 1e-5*(1+math.Abs(s)) {
						t.Fatalf("conv[%d][%d][%d][%d] = %v, direct %v", o, img, i, j, got, s)
					}
				}
			}
		}
	}
}

func TestGradBatchNormTrain(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	b := newBatchNorm("bn", 3, 4)
	for i := range b.gamma.Value {
		b.gamma.Value[i] = float32(0.5 + rng.Float64())
		b.beta.Value[i] = float32(rng.NormFloat64())
	}
	checkLayer(t, b, []*Param{b.gamma, b.beta}, randVec(3*2*4, rng), 2, true, rng)
}

func TestGradBatchNormEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	b := newBatchNorm("bn", 3, 1)
	for i := range b.gamma.Value {
		b.gamma.Value[i] = float32(0.5 + rng.Float64())
		b.runMean.Value[i] = float32(rng.NormFloat64())
		b.runVar.Value[i] = float32(0.5 + rng.Float64())
	}
	checkLayer(t, b, []*Param{b.gamma, b.beta}, randVec(3*5, rng), 5, false, rng)
}

func TestBatchNormRunningStats(t *testing.T) {
	// PyTorch: running = 0.9·running + 0.1·batch, with the unbiased variance; eval uses them.
	b := newBatchNorm("bn", 1, 1)
	x := []float32{1, 2, 3, 6}
	b.forward(x, 4, true)
	mean, unbiased := 3.0, (4.0+1+0+9)/3
	if got := b.runMean.Value[0]; math.Abs(float64(got)-0.1*mean) > 1e-6 {
		t.Errorf("running_mean %v, want %v", got, 0.1*mean)
	}
	if got := b.runVar.Value[0]; math.Abs(float64(got)-(0.9+0.1*unbiased)) > 1e-6 {
		t.Errorf("running_var %v, want %v", got, 0.9+0.1*unbiased)
	}
	// Training output uses the biased batch variance.
	y := b.forward(x, 4, true)
	biased := (4.0 + 1 + 0 + 9) / 4
	if want := (6 - mean) / math.Sqrt(biased+1e-5); math.Abs(float64(y[3])-want) > 1e-5 {
		t.Errorf("train-mode y = %v, want %v", y[3], want)
	}
	// Evaluation uses the running statistics, whatever the batch.
	b.runMean.Value[0], b.runVar.Value[0] = 2, 4
	b.gamma.Value[0], b.beta.Value[0] = 3, 1
	y = b.forward([]float32{5}, 1, false)
	if want := 3*(5-2)/math.Sqrt(4+1e-5) + 1; math.Abs(float64(y[0])-want) > 1e-5 {
		t.Errorf("eval-mode y = %v, want %v", y[0], want)
	}
	if b.runMean.Value[0] != 2 || b.runVar.Value[0] != 4 {
		t.Error("eval mode changed the running statistics")
	}
}

func TestGradReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	checkLayer(t, &relu{tap: tap{label: "relu"}}, nil, awayFromKinks(24, rng), 2, true, rng)
}

func TestGradMaxPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	// Odd height and width: the last row and column are dropped (floor), and get zero gradient.
	p := &maxPool2{tap: tap{label: "pool"}, c: 2, h: 5, w: 7}
	checkLayer(t, p, nil, awayFromKinks(2*2*5*7, rng), 2, true, rng)
	if len(p.y) != 2*2*2*3 {
		t.Errorf("pool output %d values, want %d", len(p.y), 2*2*2*3)
	}
}

func TestGradDropoutFixedMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	mask := make([]float32, 20)
	for i := range mask {
		if i%3 != 0 {
			mask[i] = 1 / (1 - 0.3)
		}
	}
	d := &dropout{tap: tap{label: "drop"}, p: 0.3, fixedMask: mask}
	checkLayer(t, d, nil, randVec(20, rng), 4, true, rng)
	// Evaluation is the identity and so is its gradient.
	x := randVec(20, rng)
	if y := d.forward(x, 4, false); &y[0] != &x[0] {
		t.Error("eval-mode dropout is not the identity")
	}
}

func TestDropoutRate(t *testing.T) {
	d := &dropout{p: 0.3, rng: rand.New(rand.NewPCG(1, 1))}
	x := make([]float32, 100000)
	for i := range x {
		x[i] = 1
	}
	y := d.forward(x, 1, true)
	zeros := 0
	var sum float64
	for _, v := range y {
		if v == 0 {
			zeros++
		}
		sum += float64(v)
	}
	if frac := float64(zeros) / float64(len(x)); math.Abs(frac-0.3) > 0.01 {
		t.Errorf("dropped %.3f of the units, want 0.3", frac)
	}
	if mean := sum / float64(len(x)); math.Abs(mean-1) > 0.02 {
		t.Errorf("mean after inverted dropout %.3f, want 1", mean)
	}
}

// TestDropoutMaskStream pins the mask to the generator's stream: unit 2j is dropped when the low
// 32 bits of the j-th draw are below p·2³², unit 2j+1 by the high bits, so a seed's masks (and every
// run's results) stay what they were; odd lengths take one more draw's low bits.
func TestDropoutMaskStream(t *testing.T) {
	for _, n := range []int{1, 2, 7, 1000} {
		for _, p := range []float32{0.25, 0.5} {
			d := &dropout{p: p, rng: rand.New(rand.NewPCG(9, uint64(n)))}
			d.forward(make([]float32, n), 1, true)
			ref := rand.New(rand.NewPCG(9, uint64(n)))
			thresh := uint32(float64(p) * (1 << 32))
			keep := 1 / (1 - p)
			for i := 0; i < n; i += 2 {
				r := ref.Uint64()
				for j, u := range []uint32{uint32(r), uint32(r >> 32)} {
					if i+j >= n {
						break
					}
					want := keep
					if u < thresh {
						want = 0
					}
					if d.mask[i+j] != want {
						t.Fatalf("n=%d p=%v: mask[%d] = %v, want %v", n, p, i+j, d.mask[i+j], want)
					}
				}
			}
		}
	}
	for _, c := range []struct {
		u, thresh uint32
		kept      bool
	}{{0, 0, true}, {0, 1, false}, {5, 5, true}, {4, 5, false}, {math.MaxUint32, math.MaxUint32, true}, {math.MaxUint32 - 1, math.MaxUint32, false}} {
		if got := dropBits(c.u, c.thresh) == math.MaxUint32; got != c.kept || (!got && dropBits(c.u, c.thresh) != 0) {
			t.Errorf("dropBits(%d, %d) = %#x, want kept %v", c.u, c.thresh, dropBits(c.u, c.thresh), c.kept)
		}
	}
}

func TestGradFlatten(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	f := &flatten{tap: tap{label: "flatten"}, c: 3, hw: 4}
	x := randVec(3*2*4, rng)
	y := f.forward(x, 2, true)
	// Feature c·hw+p of image img is x[c][img][p]: PyTorch's per-image C,H,W order.
	for c := 0; c < 3; c++ {
		for img := 0; img < 2; img++ {
			for p := 0; p < 4; p++ {
				if y[(c*4+p)*2+img] != x[(c*2+img)*4+p] {
					t.Fatalf("flatten order wrong at c=%d img=%d p=%d", c, img, p)
				}
			}
		}
	}
	checkLayer(t, f, nil, x, 2, true, rng)
}

func TestGradSoftmaxCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const n = 3
	logits := randVec(n*NumClasses, rng)
	labels := []uint8{0, 7, 9}
	d := make([]float32, len(logits))
	loss, _ := SoftmaxCrossEntropy(logits, labels, n, d)
	// Reference loss in float64: mean of logsumexp − z_y.
	var want float64
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range logits[i*NumClasses : (i+1)*NumClasses] {
			s += math.Exp(float64(v))
		}
		want += math.Log(s) - float64(logits[i*NumClasses+int(labels[i])])
	}
	want /= n
	if math.Abs(loss-want) > 1e-6 {
		t.Errorf("loss %v, want %v", loss, want)
	}
	const h = 1e-3
	for i := range logits {
		old := logits[i]
		logits[i] = old + h
		lp, _ := SoftmaxCrossEntropy(logits, labels, n, nil)
		logits[i] = old - h
		lm, _ := SoftmaxCrossEntropy(logits, labels, n, nil)
		logits[i] = old
		if num := (lp - lm) / (2 * h); math.Abs(num-float64(d[i])) > 1e-4 {
			t.Errorf("dlogits[%d] = %v, numeric %v", i, d[i], num)
		}
	}
}

func TestSoftmaxCrossEntropyCountsAndStability(t *testing.T) {
	logits := make([]float32, 2*NumClasses)
	logits[3] = 1000 // would overflow exp without the max shift
	logits[NumClasses+5] = 2
	loss, correct := SoftmaxCrossEntropy(logits, []uint8{3, 4}, 2, nil)
	if correct != 1 {
		t.Errorf("correct = %d, want 1", correct)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.Errorf("loss %v", loss)
	}
}

// tinyNet is a small CNN built from the same layers as NewCNN (conv, BN, ReLU, pool, dropout,
// flatten, linear, BN1d) over 1×6×6 inputs, for an end-to-end check through Network.
func tinyNet(seed int64) *seqNet {
	b := newBuilder("tiny", seed)
	b.s.inSize = 36
	c := b.conv("conv1", 1, 2, 6, 6)
	c.needDX = false
	b.bn("bn1", 2, 36)
	b.relu("relu1")
	b.add(&maxPool2{tap: tap{label: "pool1"}, c: 2, h: 6, w: 6})
	b.conv("conv2", 2, 3, 3, 3)
	b.bn("bn2", 3, 9)
	b.relu("relu2")
	b.add(&maxPool2{tap: tap{label: "pool2"}, c: 3, h: 3, w: 3})
	b.add(&flatten{tap: tap{label: "flatten"}, c: 3, hw: 1})
	b.linear("fc1", 3, 6)
	b.bn("bn3", 6, 1)
	b.relu("relu3")
	b.dropout("drop1", 0.5)
	b.linear("fc2", 6, NumClasses)
	return b.s
}

// e2eStep is smaller than fdStep: through two BatchNorms in training mode a parameter moves the
// normalized activations enough that a 1e-2 step can switch a max-pool's argmax. The loss is O(1), so
// float32 rounding contributes ≈1e-7/1e-3 = 1e-4 to the quotient, inside fdAbsTol.
const e2eStep = 1e-3

func TestGradEndToEnd(t *testing.T) {
	for _, training := range []bool{true, false} {
		t.Run(fmt.Sprintf("training=%v", training), func(t *testing.T) {
			net := tinyNet(5)
			const n = 4
			rng := rand.New(rand.NewPCG(23, 24))
			x := randVec(n*36, rng)
			labels := []uint8{1, 4, 9, 0}
			// Fix the dropout mask so every evaluation of the loss sees the same network.
			drop := net.layer("drop1").(*dropout)
			drop.fixedMask = make([]float32, 6*n)
			for i := range drop.fixedMask {
				if rng.Float64() > 0.5 {
					drop.fixedMask[i] = 2
				}
			}
			lossAt := func() float64 {
				l, _ := SoftmaxCrossEntropy(net.Forward(x, n, training), labels, n, nil)
				return l
			}
			d := make([]float32, n*NumClasses)
			SoftmaxCrossEntropy(net.Forward(x, n, training), labels, n, d)
			net.Backward(d)
			checked := 0
			for _, p := range net.Params() {
				for i := range p.Value {
					ana := float64(p.Grad[i])
					old := p.Value[i]
					p.Value[i] = old + e2eStep
					lp := lossAt()
					p.Value[i] = old - e2eStep
					lm := lossAt()
					p.Value[i] = old
					num := (lp - lm) / (2 * e2eStep)
					if !fdClose(num, ana) {
						t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", p.Name, i, ana, num)
					}
					checked++
				}
			}
			if checked != net.ParamCount() {
				t.Fatalf("checked %d of %d parameters", checked, net.ParamCount())
			}
		})
	}
}

func TestAdamMatchesPyTorch(t *testing.T) {
	// Two steps on one scalar, against PyTorch's update written out in float64.
	p := newParam("w", []int{1}, true)
	p.Value[0] = 0.5
	opt := NewAdam([]*Param{p}, 0.01)
	w, m, v := 0.5, 0.0, 0.0
	for step, g := range []float64{0.2, -0.7} {
		opt.ZeroGrad()
		p.Grad[0] = float32(g)
		opt.Step()
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		t1 := float64(step + 1)
		bc1, bc2 := 1-math.Pow(0.9, t1), 1-math.Pow(0.999, t1)
		w -= 0.01 / bc1 * m / (math.Sqrt(v)/math.Sqrt(bc2) + 1e-8)
		if math.Abs(float64(p.Value[0])-w) > 1e-6 {
			t.Fatalf("step %d: w = %v, want %v", step+1, p.Value[0], w)
		}
	}
	opt.SetLR(0.5)
	if opt.LR() != 0.5 {
		t.Error("SetLR did not take")
	}
	opt.ZeroGrad()
	if p.Grad[0] != 0 {
		t.Error("ZeroGrad left a gradient")
	}
}

func TestBackwardAccumulates(t *testing.T) {
	net := NewANN(1)
	x := randImages(4, 3)
	labels := []uint8{1, 2, 3, 4}
	d := make([]float32, 4*NumClasses)
	SoftmaxCrossEntropy(net.Forward(x, 4, false), labels, 4, d)
	net.Backward(d)
	first := append([]float32(nil), net.Params()[0].Grad...)
	net.Forward(x, 4, false)
	net.Backward(d)
	for i, g := range net.Params()[0].Grad {
		if math.Abs(float64(g-2*first[i])) > 1e-6*(1+math.Abs(float64(g))) {
			t.Fatalf("grad[%d] after two backward passes %v, want %v", i, g, 2*first[i])
		}
	}
}

func TestEvalIndependentOfBatch(t *testing.T) {
	// In evaluation an image's logits must not depend on the rest of its batch (running stats).
	for _, arch := range Archs {
		net, _ := New(arch, 2)
		// Give the running statistics non-trivial values first.
		net.Forward(randImages(8, 4), 8, true)
		x := randImages(5, 5)
		all := append([]float32(nil), net.Forward(x, 5, false)...)
		one := net.Forward(x[2*ImageSize:3*ImageSize], 1, false)
		for k := 0; k < NumClasses; k++ {
			if d := math.Abs(float64(one[k] - all[2*NumClasses+k])); d > 1e-5*(1+math.Abs(float64(one[k]))) {
				t.Errorf("%s: logit %d alone %v, in a batch %v", arch, k, one[k], all[2*NumClasses+k])
			}
		}
	}
}

// TestSmoothedCrossEntropy checks label smoothing against its definition, −Σ_k t_k·log p_k with
// t = (1−eps)·onehot + eps/10, and its gradient against finite differences; eps = 0 must be
// SoftmaxCrossEntropy bit for bit.
func TestSmoothedCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const n = 4
	logits := randVec(n*NumClasses, rng)
	labels := []uint8{0, 7, 9, 3}
	d0 := make([]float32, len(logits))
	d1 := make([]float32, len(logits))
	l0, c0 := SoftmaxCrossEntropy(logits, labels, n, d0)
	l1, c1 := SmoothedCrossEntropy(logits, labels, n, 0, d1)
	if l0 != l1 || c0 != c1 || !slices.Equal(d0, d1) {
		t.Fatalf("eps 0: loss %v/%v correct %d/%d, gradients equal %v", l0, l1, c0, c1, slices.Equal(d0, d1))
	}
	for _, eps := range []float64{0.1, 0.3} {
		d := make([]float32, len(logits))
		loss, _ := SmoothedCrossEntropy(logits, labels, n, eps, d)
		var want float64
		for i := 0; i < n; i++ {
			z := logits[i*NumClasses : (i+1)*NumClasses]
			var s float64
			for _, v := range z {
				s += math.Exp(float64(v))
			}
			for k, v := range z {
				tk := eps / NumClasses
				if k == int(labels[i]) {
					tk += 1 - eps
				}
				want -= tk * (float64(v) - math.Log(s))
			}
		}
		want /= n
		if math.Abs(loss-want) > 1e-6 {
			t.Errorf("eps %v: loss %v, want %v", eps, loss, want)
		}
		if math.Abs(loss-l0) < 1e-3 {
			t.Errorf("eps %v: loss %v equals the unsmoothed %v", eps, loss, l0)
		}
		const h = 1e-3
		for i := range logits {
			old := logits[i]
			logits[i] = old + h
			lp, _ := SmoothedCrossEntropy(logits, labels, n, eps, nil)
			logits[i] = old - h
			lm, _ := SmoothedCrossEntropy(logits, labels, n, eps, nil)
			logits[i] = old
			if num := (lp - lm) / (2 * h); math.Abs(num-float64(d[i])) > 1e-4 {
				t.Errorf("eps %v: dlogits[%d] = %v, numeric %v", eps, i, d[i], num)
			}
		}
	}
}

func TestAdamWMatchesPyTorch(t *testing.T) {
	// torch.optim.AdamW's update written out in float64: p ← p·(1 − lr·wd), then Adam's step.
	const lr, wd = 0.01, 0.5
	p := newParam("w", []int{1}, true)
	p.Value[0] = 0.5
	opt := NewAdam([]*Param{p}, lr)
	opt.SetWeightDecay(wd)
	w, m, v := 0.5, 0.0, 0.0
	for step, g := range []float64{0.2, -0.7, 0.1} {
		opt.ZeroGrad()
		p.Grad[0] = float32(g)
		opt.Step()
		w *= 1 - lr*wd
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		t1 := float64(step + 1)
		bc1, bc2 := 1-math.Pow(0.9, t1), 1-math.Pow(0.999, t1)
		w -= lr / bc1 * m / (math.Sqrt(v)/math.Sqrt(bc2) + 1e-8)
		if math.Abs(float64(p.Value[0])-w) > 1e-6 {
			t.Fatalf("step %d: w = %v, want %v", step+1, p.Value[0], w)
		}
	}
}

package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Inference is an evaluation-only version of a trained network, compiled once for speed:
// BatchNorm is folded into the preceding convolution's or linear layer's weights and bias, each
// convolution runs with its bias and ReLU fused into the GEMM that computes it, max-pooling follows,
// and the linear layers are fused GEMMs too. Dropout is the identity in evaluation and disappears.
//
// Buffers are allocated once per batch size (per worker) and reused, so a steady stream of batches
// allocates nothing. A batch is split over Threads() workers, each with its own buffers. An Inference
// is safe for concurrent use by many goroutines; each call borrows its own workspaces.
type Inference struct {
	arch    string
	layers  []infLayer
	threads atomic.Int32
	chunk   int // images a worker processes at once: bounds the activations to what stays in cache
	// minPart is the fewest images a worker takes when a batch is divided between workers, each
	// taking whole images and running the kernels on one thread, with no synchronization inside the
	// forward pass. The CNN's work is per image and its activations large: any part pays. The ANN's
	// work per image is small beside reading its 2.3 MB of weights, which every worker of a split does
	// in full; a smaller batch runs on one worker and the GEMMs divide the weight rows between the
	// threads instead. Measured with bench on 2 cores, ANN, split vs not: batch 32 83k vs 129k
	// images/s, 128 218k vs 179k, 512 271k vs 214k.
	minPart int
	// plan1 divides the layers of a single image between two cores (infer_one.go).
	plan1 []onePart
	io1   []oneIO // per layer, the buffers the one-image plan reads and writes

	profile atomic.Bool
	mu      sync.Mutex
	free    []*infWorkspace // idle workspaces; every one ever made is also in all
	all     []*infWorkspace
}

// LayerTime is one entry of Inference.LayerTimes: a layer's name, the time spent in it and the
// floating-point operations it did, summed over all batches since profiling was enabled.
type LayerTime struct {
	Name   string
	Time   time.Duration
	FLOPs  int64
	Images int64
}

type infKind int

const (
	infConv    infKind = iota // 3×3 convolution, padding 1, fused bias + ReLU
	infPoolK                  // 2×2 max-pool, stride 2, floor
	infFlat                   // [C][N·H·W] → [C·H·W][N] in PyTorch's per-image (C,H,W) order
	infLinear                 // Y[out][N] = act(W·X + b)
	infBlock                  // residual block (infer_resnet.go)
	infAvgPool                // global average pool [C][N·H·W] → [C][N]
)

// infLayer is one step of the graph. Shapes are per image; the batch dimension is added at run time.
type infLayer struct {
	kind      infKind
	name      string
	cin, h, w int       // input channels (features for linear) and spatial size
	cout      int       // output channels (features)
	oh, ow    int       // output spatial size
	weight    []float32 // infLinear's
	bias      []float32
	relu      bool
	block     *infResBlock // infBlock's weights
	conv      *infConvOp   // infConv's weights, bias, ReLU and Winograd transform
}

// inSize and outSize are the per-image element counts of the layer's input and output.
func (l *infLayer) inSize() int  { return l.cin * l.h * l.w }
func (l *infLayer) outSize() int { return l.cout * l.oh * l.ow }

// flops counts multiply and add as two operations, the usual convention for GFLOP/s.
func (l *infLayer) flops() int64 {
	switch l.kind {
	case infConv:
		return 2 * int64(l.cout) * int64(l.cin) * 9 * int64(l.oh*l.ow)
	case infLinear:
		return 2 * int64(l.cout) * int64(l.cin)
	case infBlock:
		return l.blockFLOPs()
	}
	return 0
}

// scratchSize is the scratch a layer needs for n images besides its input and output (the im2col matrix).
func (l *infLayer) scratchSize(n int) int {
	if l.kind == infConv {
		return l.conv.scratchSize(n)
	}
	if l.kind == infBlock {
		return l.blockScratch(n)
	}
	return 0
}

const infBNEps = 1e-5

// infTensors indexes named tensors for the compiler and checks their shapes.
type infTensors map[string]*Param

func (t infTensors) get(name string, shape ...int) ([]float32, error) {
	p, ok := t[name]
	if !ok {
		return nil, fmt.Errorf("inference: tensor %q is missing", name)
	}
	if len(p.Shape) != len(shape) {
		return nil, fmt.Errorf("inference: tensor %q has shape %v, want %v", name, p.Shape, shape)
	}
	n := 1
	for i, d := range shape {
		if p.Shape[i] != d {
			return nil, fmt.Errorf("inference: tensor %q has shape %v, want %v", name, p.Shape, shape)
		}
		n *= d
	}
	if len(p.Value) != n {
		return nil, fmt.Errorf("inference: tensor %q holds %d values, its shape %v needs %d", name, len(p.Value), shape, n)
	}
	return p.Value, nil
}

// foldBN returns copies of weight (rows of length rowLen, one per output channel) and bias with the
// evaluation-mode BatchNorm named bn folded in: y = γ(Wx+b−μ)/√(σ²+ε)+β = (sW)x + s(b−μ)+β, s = γ/√(σ²+ε).
// It computes in float64 so that folding adds no more than one rounding per weight.
func foldBN(t infTensors, bn string, weight, bias []float32, cout, rowLen int) ([]float32, []float32, error) {
	w := append([]float32(nil), weight...)
	b := append([]float32(nil), bias...)
	if bn == "" {
		return w, b, nil
	}
	gamma, err := t.get(bn+".weight", cout)
	if err != nil {
		return nil, nil, err
	}
	beta, err := t.get(bn+".bias", cout)
	if err != nil {
		return nil, nil, err
	}
	mean, err := t.get(bn+".running_mean", cout)
	if err != nil {
		return nil, nil, err
	}
	variance, err := t.get(bn+".running_var", cout)
	if err != nil {
		return nil, nil, err
	}
	for o := 0; o < cout; o++ {
		if !(variance[o] >= 0) {
			return nil, nil, fmt.Errorf("inference: %s.running_var[%d] = %v, want ≥ 0", bn, o, variance[o])
		}
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+infBNEps)
		for i := o * rowLen; i < (o+1)*rowLen; i++ {
			w[i] = float32(float64(weight[i]) * s)
		}
		b[o] = float32((float64(bias[o])-float64(mean[o]))*s + float64(beta[o]))
	}
	return w, b, nil
}

// NewInference compiles the evaluation graph of a trained network from its parameters and buffers.
func NewInference(net Network) (*Inference, error) {
	params := append(append([]*Param(nil), net.Params()...), net.Buffers()...)
	return CompileInference(net.Arch(), params)
}

// CompileInference compiles the evaluation graph of architecture arch ("ann" or "cnn") from tensors
// named and shaped like the PyTorch state_dict (the model file's tensors). The tensors are copied.
func CompileInference(arch string, tensors []*Param) (*Inference, error) {
	t := make(infTensors, len(tensors))
	for _, p := range tensors {
		t[p.Name] = p
	}
	g := &Inference{arch: arch}
	switch {
	case arch == "cnn":
		// 32: measured best of 2..128 when weights were packed per call; with them read in place,
		// 4, 8, 16 and 32 measured the same within noise.
		g.chunk, g.minPart = 32, 1
		h, w, c := 28, 28, 1
		for i, co := range []int{32, 64, 128} {
			name := fmt.Sprintf("conv%d", i+1)
			wt, err := t.get(name+".weight", co, c, 3, 3)
			if err != nil {
				return nil, err
			}
			b, err := t.get(name+".bias", co)
			if err != nil {
				return nil, err
			}
			fw, fb, err := foldBN(t, fmt.Sprintf("bn%d", i+1), wt, b, co, c*9)
			if err != nil {
				return nil, err
			}
			g.layers = append(g.layers,
				infLayer{kind: infConv, name: name + "+bn+relu", cin: c, h: h, w: w, cout: co, oh: h, ow: w, conv: newInfConvOp(fw, fb, c, co, h, w, true)},
				infLayer{kind: infPoolK, name: fmt.Sprintf("pool%d", i+1), cin: co, h: h, w: w, cout: co, oh: h / 2, ow: w / 2})
			c, h, w = co, h/2, w/2
		}
		g.layers = append(g.layers, infLayer{kind: infFlat, name: "flatten", cin: c, h: h, w: w, cout: c * h * w, oh: 1, ow: 1})
		in := c * h * w
		for i, spec := range []struct {
			out  int
			relu bool
		}{{256, true}, {10, false}} {
			name := fmt.Sprintf("fc%d", i+1)
			wt, err := t.get(name+".weight", spec.out, in)
			if err != nil {
				return nil, err
			}
			b, err := t.get(name+".bias", spec.out)
			if err != nil {
				return nil, err
			}
			fw, fb, _ := foldBN(t, "", wt, b, spec.out, in)
			lname := name
			if spec.relu {
				lname += "+relu"
			}
			g.layers = append(g.layers, infLayer{kind: infLinear, name: lname, cin: in, h: 1, w: 1, cout: spec.out, oh: 1, ow: 1, weight: fw, bias: fb, relu: spec.relu})
			in = spec.out
		}
	case arch == "ann":
		g.chunk, g.minPart = 1024, 64
		// The input transposes image-major [N][784] to feature-major [784][N]: a flatten of one channel.
		g.layers = append(g.layers, infLayer{kind: infFlat, name: "flatten", cin: 1, h: 28, w: 28, cout: 784, oh: 1, ow: 1})
		in := 784
		for i, out := range []int{512, 256, 128, 10} {
			name := fmt.Sprintf("fc%d", i+1)
			wt, err := t.get(name+".weight", out, in)
			if err != nil {
				return nil, err
			}
			b, err := t.get(name+".bias", out)
			if err != nil {
				return nil, err
			}
			bn, lname := "", name
			if i < 3 {
				bn = fmt.Sprintf("bn%d", i+1)
				lname += "+" + bn + "+relu"
			}
			fw, fb, err := foldBN(t, bn, wt, b, out, in)
			if err != nil {
				return nil, err
			}
			g.layers = append(g.layers, infLayer{kind: infLinear, name: lname, cin: in, h: 1, w: 1, cout: out, oh: 1, ow: 1, weight: fw, bias: fb, relu: i < 3})
			in = out
		}
	case IsResNet(arch):
		if err := compileResNet(g, t); err != nil {
			return nil, err
		}
		// Per-image work like the CNN's, with 4× its activations per image: a smaller chunk keeps
		// a block's buffers (about 2 MB at 16 images) in cache.
		g.chunk, g.minPart = 16, 1
	default:
		return nil, fmt.Errorf("inference: unknown architecture %q (want %s)", arch, archList())
	}
	for _, p := range tensors {
		if !g.uses(p.Name) {
			return nil, fmt.Errorf("inference: unexpected tensor %q for architecture %s", p.Name, arch)
		}
	}
	// A convolution whose output a floor 2×2 pool reads needs only the pool's even region.
	for i := range g.layers[:len(g.layers)-1] {
		if c := g.layers[i].conv; c != nil && g.layers[i+1].kind == infPoolK {
			c.setPooled()
		}
	}
	g.threads.Store(int32(runtime.GOMAXPROCS(0)))
	g.plan1, g.io1 = g.onePlan()
	return g, nil
}

// uses reports whether the tensor name belongs to the compiled architecture (so a file of another
// architecture, or with extra tensors, is rejected rather than half-used).
func (g *Inference) uses(name string) bool {
	if IsResNet(g.arch) {
		return resNetUses(g.arch, name)
	}
	for _, l := range g.layers {
		base := l.name
		for i := 0; i < len(base); i++ {
			if base[i] == '+' {
				base = base[:i]
				break
			}
		}
		if l.kind == infPoolK || l.kind == infFlat {
			continue
		}
		for _, suffix := range []string{".weight", ".bias"} {
			if name == base+suffix {
				return true
			}
		}
	}
	if g.arch == "cnn" || g.arch == "ann" {
		for i := 1; i <= 3; i++ {
			for _, suffix := range []string{".weight", ".bias", ".running_mean", ".running_var", ".num_batches_tracked"} {
				if name == fmt.Sprintf("bn%d%s", i, suffix) {
					return true
				}
			}
		}
	}
	return false
}

// Arch returns "ann" or "cnn".
func (g *Inference) Arch() string { return g.arch }

// SetThreads sets how many workers a batch is split over (at least 1). The default is GOMAXPROCS.
func (g *Inference) SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	g.threads.Store(int32(n))
}

// Threads returns the number of workers a batch is split over.
func (g *Inference) Threads() int { return int(g.threads.Load()) }

// FLOPs returns the floating-point operations of one image's forward pass (multiply and add count 2).
func (g *Inference) FLOPs() int64 {
	var f int64
	for i := range g.layers {
		f += g.layers[i].flops()
	}
	return f
}

// ParamBytes is the memory the compiled weights and biases take, their Winograd transforms included.
func (g *Inference) ParamBytes() int64 {
	var n int64
	for _, l := range g.layers {
		switch {
		case l.conv != nil:
			n += l.conv.bytes()
		case l.block != nil:
			b := l.block
			n += b.conv1.bytes() + b.conv2.bytes() + int64(len(b.wd)+len(b.bd))*4
		default:
			n += int64(len(l.weight)+len(l.bias)) * 4
		}
	}
	return n
}

// ActivationBytes is the memory one worker's workspace takes for a batch of n images (activations
// and im2col scratch); a batch split over t workers takes up to t workspaces.
func (g *Inference) ActivationBytes(n int) int64 {
	if n > g.chunk {
		n = g.chunk
	}
	a, b, s := g.bufSizes(n)
	return int64(a+b+s)*4 + int64(g.idxSize(n))
}

// LayerKernels names, per layer, the kernel path a worker takes for a chunk of n images with the current
// kernel set (n is capped at the chunk a worker runs at once; a single image on two cores divides each
// layer's channels but takes the same paths).
func (g *Inference) LayerKernels(n int) []string {
	n = max(1, min(n, g.chunk))
	out := make([]string, len(g.layers))
	for i := range g.layers {
		l := &g.layers[i]
		switch l.kind {
		case infConv:
			out[i] = l.conv.algorithm(n)
			if n == 1 && l.conv.pooled() {
				out[i] = "im2col-region+sgemm-t+maxpool"
				out[i+1] = "(in " + l.name + ")"
			}
		case infPoolK:
			if out[i] == "" {
				out[i] = "maxpool-2x2"
			}
		case infFlat:
			out[i] = "copy"
		case infAvgPool:
			out[i] = "avgpool"
		case infLinear:
			out[i] = "sgemm"
			if n == 1 {
				out[i] = "sgemv"
			}
		case infBlock:
			b := l.block
			out[i] = b.conv1.algorithm(n) + ", " + b.conv2.algorithm(n)
			if b.wd != nil {
				out[i] += ", sgemm (1×1)"
			}
		}
	}
	return out
}

// SetProfile turns the per-layer timing on or off. Off (the default) it costs one atomic load per
// chunk of images; on, it reads the clock around every layer.
func (g *Inference) SetProfile(on bool) { g.profile.Store(on) }

// LayerTimes returns the time and work per layer summed over every batch since the last call (with
// profiling on), and resets the counters. Time is the sum over workers, so with t workers running in
// parallel it exceeds the wall time by up to t×.
func (g *Inference) LayerTimes() []LayerTime {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]LayerTime, len(g.layers))
	for i := range g.layers {
		out[i].Name = g.layers[i].name
	}
	for _, ws := range g.all {
		for i := range out {
			out[i].Time += time.Duration(ws.nanos[i])
			out[i].Images += ws.images[i]
			ws.nanos[i], ws.images[i] = 0, 0
		}
	}
	for i := range out {
		out[i].FLOPs = g.layers[i].flops() * out[i].Images
	}
	return out
}

// infWorkspace is one worker's buffers: two ping-pong activation buffers and the im2col scratch,
// sized for chunk images.
type infWorkspace struct {
	a, b, scratch []float32
	idx           []uint8 // max-pool argmax, written by the kernel and unused
	nanos, images []int64 // per layer, only written with profiling on
}

// bufSizes returns the two ping-pong buffer sizes and the scratch size for n images.
func (g *Inference) bufSizes(n int) (a, b, scratch int) {
	for i, l := range g.layers {
		out := l.outSize() * n
		if i%2 == 0 {
			b = max(b, out)
		} else {
			a = max(a, out)
		}
		scratch = max(scratch, l.scratchSize(n))
		if l.kind == infConv && i+1 < len(g.layers) && g.layers[i+1].kind == infPoolK {
			// The one-image plan's convolution step keeps its output in scratch for the pool.
			scratch = max(scratch, l.scratchSize(1)+l.cout*l.h*l.w)
		}
	}
	// The one-image plan's buffers do not alternate with the layers' parity after a fused pool, so
	// either buffer may hold any layer's output for one image.
	for _, l := range g.layers {
		a, b = max(a, l.outSize()), max(b, l.outSize())
	}
	return a, b, scratch
}

// idxSize is the largest max-pool output for n images.
func (g *Inference) idxSize(n int) int {
	s := 0
	for _, l := range g.layers {
		if l.kind == infPoolK {
			s = max(s, l.outSize()*n)
		}
	}
	return s
}

func (g *Inference) getWorkspace() *infWorkspace {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.free) == 0 {
		g.addWorkspaceLocked()
	}
	ws := g.free[len(g.free)-1]
	g.free = g.free[:len(g.free)-1]
	return ws
}

// reserveWorkspaces makes sure n workspaces exist before a batch is split n ways. Without it a split
// allocates whenever its parts happen to overlap in time for the first time, which may be any call,
// not only the first: steady state would depend on scheduling.
func (g *Inference) reserveWorkspaces(n int) {
	g.mu.Lock()
	for len(g.all) < n {
		g.addWorkspaceLocked()
	}
	g.mu.Unlock()
}

// addWorkspaceLocked creates a workspace and puts it in the free list; g.mu is held.
func (g *Inference) addWorkspaceLocked() {
	a, b, s := g.bufSizes(g.chunk)
	ws := &infWorkspace{
		a: make([]float32, a), b: make([]float32, b), scratch: make([]float32, s), idx: make([]uint8, g.idxSize(g.chunk)),
		nanos: make([]int64, len(g.layers)), images: make([]int64, len(g.layers)),
	}
	g.all = append(g.all, ws)
	// Grow free's capacity now so that putting any workspace back never allocates.
	if cap(g.free) < len(g.all) {
		g.free = append(make([]*infWorkspace, 0, 2*len(g.all)), g.free...)
	}
	g.free = append(g.free, ws)
}

func (g *Inference) putWorkspace(ws *infWorkspace) {
	g.mu.Lock()
	g.free = append(g.free, ws)
	g.mu.Unlock()
}

// Forward computes logits [n][10] (image-major) for n normalized images x [n][784] (image-major, the
// layout of the dataset and of Network.Forward) into out. It panics if the slices are too short; the
// public API checks sizes and returns errors before calling it.
func (g *Inference) Forward(x []float32, n int, out []float32) {
	if n <= 0 {
		return
	}
	if len(x) < n*784 || len(out) < n*10 {
		panic(fmt.Sprintf("nn: Inference.Forward: %d images need len(x) ≥ %d and len(out) ≥ %d, have %d and %d", n, n*784, n*10, len(x), len(out)))
	}
	parts := max(1, min(g.Threads(), n/max(g.minPart, 1)))
	if n == 1 && g.Threads() >= 2 && runtime.GOMAXPROCS(0) >= 2 && g.plan1 != nil && !g.profile.Load() {
		g.forwardOne(x, out)
		return
	}
	if n == 1 {
		// One image on one thread: splitting its GEMMs the kernels' way costs more than it saves
		// (see infer_one.go); a profiled run takes this path.
		serialKernelsBegin()
		defer serialKernelsEnd()
		parts = 1
	}
	if parts <= 1 {
		ws := g.getWorkspace()
		g.run(ws, x, n, out)
		g.putWorkspace(ws)
		return
	}
	// Split the batch into parts of whole chunks where possible, so no worker runs a ragged chunk
	// that a better split would have avoided.
	g.reserveWorkspaces(parts)
	jobs := getJobs(parts)
	per := (n + parts - 1) / parts
	if per > g.chunk {
		per = (per + g.chunk - 1) / g.chunk * g.chunk
	}
	k := 0
	for start := 0; start < n; start += per {
		cnt := min(per, n-start)
		j := &jobs.j[k]
		*j = infJob{g: g, x: x[start*784 : (start+cnt)*784], n: cnt, out: out[start*10 : (start+cnt)*10], wg: &jobs.wg}
		k++
	}
	// The workers already use every thread: the kernels must not start more of their own.
	serialKernelsBegin()
	defer serialKernelsEnd()
	jobs.wg.Add(k) // every job, the caller's own included, signals when done
	for i := 1; i < k; i++ {
		infWorkers.submit(&jobs.j[i])
	}
	jobs.j[0].run()
	jobs.wg.Wait()
	putJobs(jobs)
}

// run computes n images with one workspace, chunk by chunk.
func (g *Inference) run(ws *infWorkspace, x []float32, n int, out []float32) {
	prof := g.profile.Load()
	chunk := max(g.chunk, 1) // an architecture that forgot to set it must not loop forever
	for s := 0; s < n; s += chunk {
		c := min(chunk, n-s)
		g.runChunk(ws, x[s*784:(s+c)*784], c, out[s*10:(s+c)*10], prof)
	}
}

// layerIO returns the buffers layer i reads and writes: the first layer reads the caller's images x
// in place; the layers then alternate between the two workspace buffers (layer i writes b when i is
// even, a when odd: see bufSizes). Layer i−1's output is layer i's input.
func (ws *infWorkspace) layerIO(x []float32, i int) (in, out []float32) {
	switch {
	case i == 0:
		return x, ws.b
	case i%2 == 0:
		return ws.a, ws.b
	default:
		return ws.b, ws.a
	}
}

func (g *Inference) runChunk(ws *infWorkspace, x []float32, n int, out []float32, prof bool) {
	var t0 time.Time
	if prof {
		t0 = time.Now()
	}
	for i := 0; i < len(g.layers); i++ {
		li, l := i, &g.layers[i]
		cur, next := ws.layerIO(x, i)
		in := cur[:l.inSize()*n]
		dst := next[:l.outSize()*n]
		switch l.kind {
		case infConv:
			if n == 1 && l.conv.pooled() {
				// The pool's output goes where the pool would write it (over this layer's input,
				// which runPooled has read by then); the pool's own step is skipped.
				_, pout := ws.layerIO(x, i+1)
				l.conv.runPooled(pout[:g.layers[i+1].outSize()], in, 0, l.cout, ws.scratch)
				if prof {
					ws.images[i+1] += int64(n)
				}
				i++
				break
			}
			l.conv.run(dst, in, n, 0, l.cout, ws.scratch)
		case infPoolK:
			infMaxPool2x2(dst, ws.idx, in, l.cin*n, l.h, l.w)
		case infFlat:
			infFlatten(dst, in, l.cin, n, l.h*l.w)
		case infBlock:
			l.runBlock(dst, in, n, ws.scratch)
		case infAvgPool:
			infGlobalAvgPool(dst, in, l.cin, n, l.h*l.w)
		case infLinear:
			infGemmBias(l.cout, n, l.cin, l.weight, in, l.bias, l.relu, dst)
		}
		if prof {
			// A fused pool (i advanced past it) is timed with its convolution.
			t1 := time.Now()
			ws.nanos[li] += int64(t1.Sub(t0))
			ws.images[li] += int64(n)
			t0 = t1
		}
	}
	// The logits are [10][n], in the buffer the last layer wrote; the caller wants [n][10].
	_, logits := ws.layerIO(x, len(g.layers)-1)
	for o := 0; o < 10; o++ {
		row := logits[o*n : (o+1)*n]
		for i, v := range row {
			out[i*10+o] = v
		}
	}
}

// infFlatten turns a channel-major [c][n·hw] activation into the feature-major [c·hw][n] input of a
// linear layer, with features in PyTorch's per-image (c, h, w) order: dst[(ci·hw+p)·n+img] =
// src[ci·n·hw + img·hw + p].
func infFlatten(dst, src []float32, c, n, hw int) {
	if n == 1 {
		copy(dst, src[:c*hw])
		return
	}
	for ci := 0; ci < c; ci++ {
		transposeRows(dst[ci*hw*n:(ci+1)*hw*n], src[ci*n*hw:(ci+1)*n*hw], n, hw, 0, n)
	}
}

package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simdnn/simdnn/kernels"
)

// One image on two cores. A batch of one has no images to divide, and dividing its GEMMs the way
// the kernels do (each thread a share of C's rows over the whole im2col matrix) measured slower than
// one core (CNN 119 vs 107 µs): the second core pulls the im2col matrix from the first one's L2. Here
// every layer is divided by output channels instead, and each participant unfolds its own copy of
// the (small) input: duplicated im2col work is cheaper than moving it between cores.
//
// The work is a sequence of tickets, one per (layer, part), run by the caller and one helper
// goroutine (oneHelper); a ticket is claimed before it runs, and a ticket of layer L starts once
// every ticket of the layers before it is done. The caller never waits for the helper to start: if
// it is late (or busy with another call's image), the caller claims the helper's tickets too and
// the result is the same. Each ticket writes disjoint channels with the same kernels, so the logits
// do not depend on who ran what.

// onePart is one ticket: part (of parts) of one step of layer.
type onePart struct {
	layer, part, parts int
	phase              int // a residual block's step: 0 conv1, 1 conv2 with the shortcut and the add
	// pool: a convolution whose ticket also runs the 2×2 max-pool after it (layer+1) on its own
	// channels, so the pool waits for no other ticket.
	pool   bool
	before int32 // tickets of the earlier steps: all must be done first
}

// oneIO names the buffers a layer reads and writes in the one-image plan: oneX (the caller's image),
// oneA or oneB (the workspace's a and b). A convolution and its fused pool are one step, so from
// there on the buffers no longer alternate with the layer's parity as in layerIO.
type oneIO struct{ in, out int8 }

const (
	oneX int8 = iota
	oneA
	oneB
)

// onePlanMax bounds the tickets of a plan (the claim flags are a fixed array, so a run allocates
// nothing); the CNN has 10, the residual CNN 18, the ANN 8.
const onePlanMax = 32

// onePlan returns the tickets of the graph for one image and the buffers of each layer, or nil when a
// layer cannot be divided by channels. A residual block is two steps: conv2 reads every channel of
// conv1's output. A convolution followed by a pool is one step: each ticket pools its own channels.
//
// Why the pool's output goes to the other buffer than layerIO's: the pool writes over its
// convolution's input in layerIO's alternation, which the other core may still be reading.
func (g *Inference) onePlan() ([]onePart, []oneIO) {
	var plan []onePart
	io := make([]oneIO, len(g.layers))
	cur := oneX
	for i := 0; i < len(g.layers); i++ {
		l := g.layers[i]
		out := oneB
		if cur == oneB {
			out = oneA
		}
		io[i] = oneIO{cur, out}
		cur = out
		pool := l.kind == infConv && i+1 < len(g.layers) && g.layers[i+1].kind == infPoolK
		phases, parts := 1, 1
		switch l.kind {
		case infConv, infPoolK:
			parts = 2
		case infLinear:
			if l.cout >= 64 {
				parts = 2
			}
		case infBlock:
			phases, parts = 2, 2
		case infFlat, infAvgPool:
		default:
			return nil, nil
		}
		for ph := 0; ph < phases; ph++ {
			before := int32(len(plan))
			if len(plan)+parts > onePlanMax {
				return nil, nil
			}
			for p := 0; p < parts; p++ {
				plan = append(plan, onePart{layer: i, part: p, parts: parts, phase: ph, pool: pool, before: before})
			}
		}
		if pool {
			i++
			io[i] = oneIO{out, out} // written by the convolution's tickets
		}
	}
	return plan, io
}

// oneBufs returns the buffers layer i reads and writes in the one-image plan.
func (g *Inference) oneBufs(ws *infWorkspace, x []float32, i int) (in, out []float32) {
	pick := func(b int8) []float32 {
		switch b {
		case oneX:
			return x
		case oneA:
			return ws.a
		}
		return ws.b
	}
	return pick(g.io1[i].in), pick(g.io1[i].out)
}

// oneRun is the shared state of one Forward of a single image on two cores.
type oneRun struct {
	g       *Inference
	ws      *infWorkspace // the caller's: activations (and its own scratch)
	x       []float32
	claimed [onePlanMax]atomic.Bool // per ticket: someone runs it
	done    atomic.Int32            // tickets finished
	refs    atomic.Int32            // caller and helper; the last one out recycles the run
}

var oneRuns = sync.Pool{New: func() any { return new(oneRun) }}

// oneHelper is the second core of forwardOne: one goroutine that, after each run, keeps polling for
// the next one for a while before it parks. Waking a parked goroutine takes longer than a whole
// layer here (the scheduler first queues it on the waker's own core), so a stream of single images
// is only faster with a helper that is already running when the next image comes.
type oneHelper struct {
	once   sync.Once
	post   atomic.Pointer[oneRun]
	parked atomic.Bool
	wake   chan struct{}
}

var oneHelp oneHelper

// oneHelperSpin is how long the helper polls for the next image before it parks.
const oneHelperSpin = 200 * time.Microsecond

// offer hands r to the helper; false when the helper is busy with another call's image.
func (h *oneHelper) offer(r *oneRun) bool {
	h.once.Do(func() {
		h.wake = make(chan struct{}, 1)
		go h.loop()
	})
	if !h.post.CompareAndSwap(nil, r) {
		return false
	}
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (h *oneHelper) loop() {
	idle := time.Now()
	for spins := 0; ; spins++ {
		if r := h.post.Load(); r != nil {
			r.help()
			h.post.Store(nil) // before release: a recycled r may be offered again at once
			r.release()
			idle, spins = time.Now(), 0
			continue
		}
		if spins&255 == 255 && time.Since(idle) > oneHelperSpin {
			h.parked.Store(true)
			if h.post.Load() == nil {
				<-h.wake
			}
			h.parked.Store(false)
			idle, spins = time.Now(), 0
		}
	}
}

// help is the helper's side: it borrows its own workspace for scratch and argmax.
func (r *oneRun) help() {
	ws := r.g.getWorkspace()
	r.work(ws, true)
	r.g.putWorkspace(ws)
}

func (r *oneRun) release() {
	if r.refs.Add(-1) == 0 {
		*r = oneRun{}
		oneRuns.Put(r)
	}
}

// work runs the tickets of one participant: the caller (helper false) takes part 0 of every layer
// and the undivided layers, the helper part 1, so each core's half of the weights stays in its own
// L2 call after call. (With tickets claimed first-come, and with this too, the CNN's batch-1 latency
// varies between processes, 60–75 µs, and stays put within one: a placement effect not pinned down
// yet.) A ticket is claimed before it runs, and the caller also claims the
// helper's tickets it reaches unclaimed: a helper that is late, or busy with another call's image,
// then costs nothing but the parallelism.
func (r *oneRun) work(own *infWorkspace, helper bool) {
	for t, p := range r.g.plan1 {
		if helper && p.part != 1 {
			continue
		}
		if !r.claimed[t].CompareAndSwap(false, true) {
			continue
		}
		for spins := 0; r.done.Load() < p.before; spins++ {
			if spins >= 1<<20 {
				runtime.Gosched()
			}
		}
		r.g.runPart(r.ws, own, r.x, p)
		r.done.Add(1)
	}
}

// forwardOne computes one image's logits into out with the caller and one helper.
func (g *Inference) forwardOne(x, out []float32) {
	g.reserveWorkspaces(2)
	serialKernelsBegin()
	defer serialKernelsEnd()
	r := oneRuns.Get().(*oneRun)
	r.g, r.x = g, x
	r.ws = g.getWorkspace()
	r.refs.Store(2)
	if !oneHelp.offer(r) {
		r.refs.Store(1)
	}
	r.work(r.ws, false)
	total := int32(len(g.plan1))
	for spins := 0; r.done.Load() < total; spins++ {
		if spins >= 1<<20 {
			runtime.Gosched()
		}
	}
	copy(out[:10], g.oneLogits(r.ws))
	g.putWorkspace(r.ws)
	r.release()
}

// oneLogits is where the last layer left the logits.
func (g *Inference) oneLogits(ws *infWorkspace) []float32 {
	_, out := g.oneBufs(ws, nil, len(g.layers)-1)
	return out[:10]
}

// runPart runs one ticket: its share of the output channels of one layer (and of the pool after it,
// for a convolution's step), for one image, in the plan's buffers (oneBufs).
func (g *Inference) runPart(ws, own *infWorkspace, x []float32, p onePart) {
	l := &g.layers[p.layer]
	in, dst := g.oneBufs(ws, x, p.layer)
	in = in[:l.inSize()]
	dst = dst[:l.outSize()]
	// share returns part p's range [lo, hi) of n channels, the first part rounded to a multiple of q.
	share := func(n, q int) (int, int) {
		if p.parts == 1 {
			return 0, n
		}
		s := min(n, (n/2+q-1)/q*q)
		if p.part == 0 {
			return 0, s
		}
		return s, n
	}
	switch l.kind {
	case infConv:
		hw := l.h * l.w
		// Multiples of 8: the direct kernel of the first layer takes output channels in eights.
		lo, hi := share(l.cout, 8)
		if !p.pool {
			l.conv.run(dst[lo*hw:hi*hw], in, 1, lo, hi, own.scratch)
			break
		}
		pl := &g.layers[p.layer+1]
		if l.conv.pooled() {
			l.conv.runPooled(dst[:pl.outSize()], in, lo, hi, own.scratch)
			break
		}
		// The convolution's channels go to the end of scratch, the pool reads them from there.
		conv := own.scratch[len(own.scratch)-(hi-lo)*hw:]
		l.conv.run(conv, in, 1, lo, hi, own.scratch[:len(own.scratch)-len(conv)])
		ohw := pl.oh * pl.ow
		infMaxPool2x2(dst[lo*ohw:hi*ohw], own.idx, conv, hi-lo, l.h, l.w)
	case infPoolK:
		lo, hi := share(l.cin, 1)
		ohw := l.oh * l.ow
		infMaxPool2x2(dst[lo*ohw:hi*ohw], own.idx, in[lo*l.h*l.w:hi*l.h*l.w], hi-lo, l.h, l.w)
	case infFlat:
		copy(dst, in)
	case infBlock:
		lo, hi := share(l.cout, 1)
		l.runBlockPart(dst, in, p.phase, lo, hi, ws.scratch, own.scratch)
	case infAvgPool:
		infGlobalAvgPool(dst, in, l.cin, 1, l.h*l.w)
	case infLinear:
		lo, hi := share(l.cout, 4)
		kernels.SgemvBiasReLU(hi-lo, l.cin, l.weight[lo*l.cin:hi*l.cin], l.cin, in, l.bias[lo:hi], l.relu, dst[lo:hi])
	}
}

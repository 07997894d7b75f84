package nn

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/simdnn/simdnn/kernels"
)

// minParallelWork is the number of scalar operations below which splitting over goroutines costs
// more than it saves.
const minParallelWork = 1 << 15

// loop is a reusable parallel loop over [0, n). Its body is bound once (a method value of a
// long-lived layer, reading its operands from fields) and it is handed to a persistent pool of
// workers, so running it allocates nothing: training steps make no garbage here.
// A loop must not run concurrently with itself; distinct loops may.
type loop struct {
	body func(lo, hi int)
	wg   sync.WaitGroup
}

type loopTask struct {
	l      *loop
	lo, hi int
}

var (
	loopTasks   = make(chan loopTask, 64)
	loopWorkers atomic.Int32
	loopMu      sync.Mutex
)

func loopWorker() {
	for t := range loopTasks {
		t.l.body(t.lo, t.hi)
		t.l.wg.Done()
	}
}

// ensureLoopWorkers starts workers until n exist; they live as long as the process.
func ensureLoopWorkers(n int) {
	if int(loopWorkers.Load()) >= n {
		return
	}
	loopMu.Lock()
	for int(loopWorkers.Load()) < n {
		go loopWorker()
		loopWorkers.Add(1)
	}
	loopMu.Unlock()
}

// run splits [0,n) into contiguous chunks, one per core, and runs the body on each; work is the
// number of scalar operations per unit, so small jobs stay on the calling goroutine. The split
// depends only on n and GOMAXPROCS, so results are reproducible for a given thread count.
func (l *loop) run(n, work int) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n*work < minParallelWork {
		if n > 0 {
			l.body(0, n)
		}
		return
	}
	ensureLoopWorkers(workers - 1)
	chunk := (n + workers - 1) / workers
	for lo := chunk; lo < n; lo += chunk {
		l.wg.Add(1)
		loopTasks <- loopTask{l, lo, min(lo+chunk, n)}
	}
	l.body(0, min(chunk, n))
	l.wg.Wait()
}

// parallelFor runs fn over [0, n) like loop.run, for code off the training hot path: it allocates
// a loop (and the closure) per call.
func parallelFor(n, work int, fn func(lo, hi int)) {
	l := &loop{body: fn}
	l.run(n, work)
}

// biasAdder adds bias[r] to row r of a rows×cols matrix.
type biasAdder struct {
	loop
	x, bias []float32
	cols    int
}

func (a *biasAdder) do(x, bias []float32, rows, cols int) {
	a.x, a.bias, a.cols = x, bias, cols
	if a.body == nil {
		a.body = a.rows // bound once: a method value allocates
	}
	a.run(rows, cols)
}

func (a *biasAdder) rows(lo, hi int) {
	kernels.AddBiasRows(a.x[lo*a.cols:hi*a.cols], a.bias[lo:hi], hi-lo, a.cols)
}

// rowSummer adds the row sums of a rows×cols matrix to dst (a bias gradient). The kernel overwrites
// while gradients accumulate, so it sums into scratch first.
type rowSummer struct {
	loop
	dst, tmp, m []float32
	cols        int
}

func (s *rowSummer) do(dst, m []float32, rows, cols int) {
	s.tmp = grow(s.tmp, rows)
	s.dst, s.m, s.cols = dst, m, cols
	if s.body == nil {
		s.body = s.rows // bound once: a method value allocates
	}
	s.run(rows, cols)
}

func (s *rowSummer) rows(lo, hi int) {
	kernels.BiasGradRows(s.tmp[lo:hi], s.m[lo*s.cols:hi*s.cols], hi-lo, s.cols)
	for r := lo; r < hi; r++ {
		s.dst[r] += s.tmp[r]
	}
}

// transposer writes dst[c][r] = src[r][c] for a rows×cols src.
type transposer struct {
	loop
	dst, src   []float32
	rows, cols int
}

func (t *transposer) do(dst, src []float32, rows, cols int) {
	t.dst, t.src, t.rows, t.cols = dst, src, rows, cols
	if t.body == nil {
		t.body = t.part // bound once: a method value allocates
	}
	t.run(rows, cols)
}

func (t *transposer) part(lo, hi int) { transposeRows(t.dst, t.src, t.rows, t.cols, lo, hi) }

// transposeRows writes dst[c·rows+r] = src[r·cols+c] for rows lo ≤ r < hi of a rows×cols src, in
// blocks of transposeBlock columns: the block's rows of dst stay in L1 while every row of src writes
// its column into them. Row by row over all columns, each row touched cols lines of dst and evicted
// the previous row's (the ANN's input, 128 images × 784: 392 KiB of dst lines per image; the
// inference flatten went from about 100 to 60 µs at batch 128).
func transposeRows(dst, src []float32, rows, cols, lo, hi int) {
	const transposeBlock = 16
	for c0 := 0; c0 < cols; c0 += transposeBlock {
		c1 := min(c0+transposeBlock, cols)
		for r := lo; r < hi; r++ {
			d := dst[c0*rows+r:]
			for c, v := range src[r*cols+c0 : r*cols+c1] {
				d[c*rows] = v
			}
		}
	}
}

package nn

import (
	"runtime"
	"sync"

	"github.com/simdnn/simdnn/kernels"
)

// infJob is one worker's share of a batch.
type infJob struct {
	g   *Inference
	x   []float32
	n   int
	out []float32
	wg  *sync.WaitGroup
}

func (j *infJob) run() {
	ws := j.g.getWorkspace()
	j.g.run(ws, j.x, j.n, j.out)
	j.g.putWorkspace(ws)
	j.wg.Done()
}

// infTask is what the pool runs; run signals completion itself.
type infTask interface{ run() }

// infJobs is the job list of one Forward call; recycled so a call allocates nothing.
type infJobs struct {
	j  []infJob
	wg sync.WaitGroup
}

var (
	jobsMu   sync.Mutex
	jobsFree []*infJobs
)

func getJobs(parts int) *infJobs {
	jobsMu.Lock()
	defer jobsMu.Unlock()
	for i := len(jobsFree) - 1; i >= 0; i-- {
		if js := jobsFree[i]; cap(js.j) >= parts {
			jobsFree[i] = jobsFree[len(jobsFree)-1]
			jobsFree = jobsFree[:len(jobsFree)-1]
			js.j = js.j[:parts]
			return js
		}
	}
	if cap(jobsFree) < 16 {
		jobsFree = make([]*infJobs, 0, 16)
	}
	return &infJobs{j: make([]infJob, parts)}
}

func putJobs(js *infJobs) {
	for i := range js.j {
		js.j[i] = infJob{} // drop references to the caller's slices
	}
	jobsMu.Lock()
	if len(jobsFree) < cap(jobsFree) { // bounded: a burst of concurrent calls does not pin memory forever
		jobsFree = append(jobsFree, js)
	}
	jobsMu.Unlock()
}

// infWorkers is a fixed set of long-lived goroutines that run the shares of a batch beyond the
// caller's own. Starting goroutines per call would allocate; these are started once, on first use.
// A job never waits on another job, so a bounded pool cannot deadlock: a queued job runs as soon as
// any worker is free.
var infWorkers workerPool

type workerPool struct {
	once sync.Once
	jobs chan infTask
}

func (p *workerPool) submit(j infTask) {
	p.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		p.jobs = make(chan infTask, 4*n)
		for i := 0; i < n; i++ {
			go func() {
				for j := range p.jobs {
					j.run()
				}
			}()
		}
	})
	p.jobs <- j
}

// While any split Forward runs, the kernels' own threading is capped at one thread: each worker
// already has a core, and a GEMM that split itself again would oversubscribe the cores and pack its
// weights twice. The cap is process-wide (kernels.SetMaxThreads), so other kernel users running at
// the same moment are capped too; results never depend on it (a GEMM's thread split does not change
// its arithmetic), only speed. The previous cap is restored when the last split Forward ends.
var serialKernels struct {
	sync.Mutex
	active int
	saved  int
}

func serialKernelsBegin() {
	serialKernels.Lock()
	if serialKernels.active == 0 {
		serialKernels.saved = kernels.SetMaxThreads(1)
	}
	serialKernels.active++
	serialKernels.Unlock()
}

func serialKernelsEnd() {
	serialKernels.Lock()
	serialKernels.active--
	if serialKernels.active == 0 {
		kernels.SetMaxThreads(serialKernels.saved)
	}
	serialKernels.Unlock()
}

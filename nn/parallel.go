package nn

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of scalar operations below which splitting over goroutines costs
// more than it saves.
const minParallelWork = 1 << 15

// parallelFor splits [0,n) into contiguous chunks, one per core, and runs fn on each; work is the
// number of scalar operations per unit, so small jobs stay on the calling goroutine.
func parallelFor(n, work int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*work < minParallelWork {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, min(chunk, n))
	wg.Wait()
}

package kernels

import (
	"fmt"
	"sync"
	"time"
)

// MeasurePeakGFLOPS runs the named kernel set's FMA-throughput loop (independent fused multiply-adds,
// no memory traffic) on threads goroutines at once for about d and returns the GFLOP/s they reach
// together: this CPU's practical ceiling for that instruction set, the yardstick `bench` states its
// GFLOP/s against. Run it on an otherwise idle machine; the threads are not pinned to cores.
func MeasurePeakGFLOPS(name string, threads int, d time.Duration) (float64, error) {
	pk, ok := peakKernels[name]
	if !ok {
		return 0, fmt.Errorf("kernels: no peak loop for kernel set %q", name)
	}
	threads = max(threads, 1)
	// Calibrate one thread's iteration count for d, then time all threads running it together.
	n := 1 << 10
	for {
		t0 := time.Now()
		pk.run(n)
		if el := time.Since(t0); el >= d/8 || n >= 1<<40 {
			n = int(float64(n) * float64(d) / float64(max(el, time.Microsecond)))
			break
		}
		n *= 4
	}
	n = max(n, 1)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pk.run(n)
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	return float64(threads) * float64(n) * float64(pk.flops) / el.Seconds() / 1e9, nil
}

package dataset

import (
	"os"
	"sync"
	"testing"
)

const skipDataEnv = "SIMDNN_SKIP_DATA"

var (
	realOnce sync.Once
	realData *FashionMNIST
	realErr  error
)

// requireRealData loads the dataset from FindDir("") once per test binary. If it is missing the test
// fails loudly, or is skipped with a loud message when SIMDNN_SKIP_DATA=1.
func requireRealData(tb testing.TB) *FashionMNIST {
	tb.Helper()
	realOnce.Do(func() {
		dir, err := FindDir("")
		if err != nil {
			realErr = err
			return
		}
		realData, realErr = Load(dir)
	})
	if realErr != nil {
		if os.Getenv(skipDataEnv) == "1" {
			tb.Skipf("SKIPPING: this test needs Fashion-MNIST (%s=1 set): %v", skipDataEnv, realErr)
		}
		tb.Fatalf("this test needs Fashion-MNIST (install it, or set %s=1 to skip): %v", skipDataEnv, realErr)
	}
	return realData
}

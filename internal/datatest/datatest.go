// Package datatest gives tests the installed Fashion-MNIST, loaded once per test binary.
package datatest

import (
	"os"
	"sync"
	"testing"

	"github.com/simdnn/simdnn/dataset"
)

// SkipEnv, set to 1, turns the failure of a test that needs the installed dataset into a skip.
const SkipEnv = "SIMDNN_SKIP_DATA"

var (
	realOnce sync.Once
	realData *dataset.FashionMNIST
	realErr  error
)

// Require loads the dataset from dataset.FindDir("") once per test binary. If it is missing the test
// fails loudly, or is skipped with a loud message when SIMDNN_SKIP_DATA=1.
func Require(tb testing.TB) *dataset.FashionMNIST {
	tb.Helper()
	realOnce.Do(func() {
		dir, err := dataset.FindDir("")
		if err != nil {
			realErr = err
			return
		}
		realData, realErr = dataset.Load(dir)
	})
	if realErr != nil {
		if os.Getenv(SkipEnv) == "1" {
			tb.Skipf("SKIPPING: this test needs Fashion-MNIST (%s=1 set): %v", SkipEnv, realErr)
		}
		tb.Fatalf("this test needs Fashion-MNIST (install it, or set %s=1 to skip): %v", SkipEnv, realErr)
	}
	return realData
}

// Long marks a test that trains or runs a network long enough to take minutes on the pure-Go
// kernels. `go test -short` skips it, and says so: `make test` runs every such test in the default
// build, and passes -short only to its second, pure-Go (-tags noasm) pass, where the same Go code
// runs on kernels that the kernels package tests on their own.
func Long(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("SKIPPING in -short: long run (it runs in make test's default-build pass)")
	}
}

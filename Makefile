# simdnn: a pure-Go kit for training and fast CPU inference on Fashion-MNIST.
# `make run` sets up and trains both models; `make test` is what CI runs.

GO      ?= go
OUT     ?= out
ARGS    ?=
APT      = DEBIAN_FRONTEND=noninteractive apt-get
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DATASET := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup setup-compare run train report bench bench-openblas bench-torch bench-torch-train epoch-cost benchstat test test-go test-race test-noasm test-arm64 vet asm asm-check fuzz clean

# setup installs what the kit needs from Debian: the dataset, qemu for the arm64 tests.
setup:
	@pkgs=""; \
	[ -f $(DATASET) ] || pkgs="$$pkgs dataset-fashion-mnist"; \
	command -v qemu-aarch64-static >/dev/null || pkgs="$$pkgs qemu-user-static"; \
	if [ -n "$$pkgs" ]; then $(SUDO) apt-get update -qq && $(SUDO) $(APT) install -y -qq $$pkgs; fi

# setup-compare installs what the comparison benchmarks (bench-torch, bench-openblas) run against:
# PyTorch, and OpenBLAS as the system BLAS. Without libopenblas0 Debian's torch falls back to the
# reference BLAS (libblas3, ~8 GFLOP/s here), which would make every ratio against it meaningless;
# the check below refuses to go on if the BLAS alternative does not point at OpenBLAS.
setup-compare:
	@pkgs=""; \
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null || pkgs="$$pkgs python3-torch"; \
	[ -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] || pkgs="$$pkgs libopenblas0-pthread libopenblas-pthread-dev libopenblas-dev"; \
	if [ -n "$$pkgs" ]; then $(SUDO) apt-get update -qq && $(SUDO) $(APT) install -y -qq $$pkgs; fi
	@readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas || \
	  { echo "setup-compare: libblas.so.3 is not OpenBLAS ($$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)); run update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2; exit 1; }

run: setup
	$(GO) run ./cmd/train --out $(OUT) $(ARGS)

train:
	$(GO) run ./cmd/train --out $(OUT) $(ARGS)

# report rebuilds $(OUT)/report.md and its figures from a finished run (train writes it at the end).
report:
	$(GO) run ./cmd/train report $(OUT)

bench:
	$(GO) run ./cmd/bench --out $(OUT) $(ARGS)

# benchstat compares the generic kernels with the best set this CPU runs.
benchstat:
	mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench . -count 6 -benchtime 1s . > $(OUT)/bench-best.txt
	KERNELS_ISA=generic $(GO) test -run '^$$' -bench . -count 6 -benchtime 1s . > $(OUT)/bench-generic.txt
	$(GO) run golang.org/x/perf/cmd/benchstat $(OUT)/bench-generic.txt $(OUT)/bench-best.txt

# bench-torch puts PyTorch 1.13 (Debian's python3-torch, at its best setting here: see
# testdata/torch_bench.py) and this kit in one benchstat table: the ANN, the CNN and the residual CNN,
# batch 1 and 128, 2 threads.
TORCH_ENV = env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
	MALLOC_MMAP_THRESHOLD_=2147483648 MALLOC_TRIM_THRESHOLD_=4294967296
bench-torch: setup-compare
	mkdir -p $(OUT)
	for m in all resnet; do \
	  $(GO) run ./cmd/bench --model $$m --random-weights --quiet --out $(OUT)/bench-torch-$$m --format benchfmt --batch 1,128 --threads 2 --count 6 \
	    > $(OUT)/bench-simdnn-$$m.raw || exit 1; done
	sed 's|^BenchmarkInfer/|BenchmarkInfer/impl=simdnn/|' $(OUT)/bench-simdnn-all.raw $(OUT)/bench-simdnn-resnet.raw > $(OUT)/bench-simdnn.txt
	$(TORCH_ENV) /usr/bin/python3 testdata/torch_bench.py --count 6 --threads 2 > $(OUT)/bench-pytorch.txt
	$(GO) run golang.org/x/perf/cmd/benchstat -table '' -col /impl -filter '/threads:2 -.unit:GFLOP/s' \
	  $(OUT)/bench-pytorch.txt $(OUT)/bench-simdnn.txt

# bench-torch-train does the same for one training step at batch 128 (the root package's
# BenchmarkTrainStep against the same step in PyTorch): the ratio behind the epoch times. The two run
# interleaved, round by round (scripts/bench-torch-train.sh); BASE=<commit> adds an earlier build of
# this kit to the table, MODELS='resnet' narrows it, ROUNDS and BENCHTIME (seconds) size it.
bench-torch-train: setup-compare
	OUT=$(OUT) GO=$(GO) scripts/bench-torch-train.sh

# epoch-cost measures one epoch of each ablation setting on this build, interleaved round by round
# (scripts/epoch-cost.sh; for ROUNDS=3 about 40 minutes with AVX-512 kernels, 2 hours with AVX2), and prints the benchstat table; then
# `train ablation --epoch-cost $(OUT)/epoch-cost/epoch-cost.txt DIR` prices the ablation's rows with it.
epoch-cost: setup
	OUT=$(OUT)/epoch-cost GO=$(GO) scripts/epoch-cost.sh

# bench-openblas puts Debian's OpenBLAS (cgo, test-only build tag) beside our SGEMM in one benchstat
# table, threads=1 and 2. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset so OpenBLAS picks its own
# best kernels for this CPU (this environment forces its Haswell ones).
BENCH_SGEMM ?= Sgemm/impl=(avx512|openblas)/
bench-openblas: setup-compare
	@mkdir -p $(OUT)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 \
	  $(GO) test -tags openblas -run '^$$' -bench '$(BENCH_SGEMM)' -count 6 -benchtime 1s ./kernels > $(OUT)/bench-openblas.txt
	$(GO) run golang.org/x/perf/cmd/benchstat -col /impl $(OUT)/bench-openblas.txt

vet:
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) vet -tags noasm ./...

test-go:
	$(GO) test -count=1 -timeout 30m ./...

# The concurrent paths (a batch split between workers, one image on two cores, many goroutines on one
# model, a GEMM's pieces pulled by several threads) under the race detector.
test-race:
	$(GO) test -count=1 -race -run 'Concurrent|OneImage' ./nn .
	$(GO) test -count=1 -race -run 'ThreadedPieces' ./kernels

# The pure-Go build: -short skips the long training runs, which test-go ran on the same Go code.
test-noasm:
	$(GO) test -count=1 -timeout 30m -short -tags noasm ./...

# arm64 runs under QEMU user mode; cortex-a53 exercises the same NEON path on an older core.
test-arm64:
	GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./kernels/...
	QEMU_CPU=cortex-a53 GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./kernels/...

test: setup vet asm-check test-go test-race test-noasm test-arm64

# asm regenerates every generated amd64 file from its avo generator: the program in
# asm/<family>/<isa>/ writes kernels/<family>_<isa>_amd64.s and its stubs kernels/<family>_<isa>_amd64.go.
GENDIRS := $(patsubst asm/%/main.go,%,$(wildcard asm/*/*/main.go))
KDIR    ?= $(CURDIR)/kernels

asm:
	@set -e; for g in $(GENDIRS); do \
	  f=$${g%%/*}; i=$${g#*/}; \
	  echo "avo: asm/$$g -> kernels/$${f}_$${i}_amd64.s"; \
	  (cd asm && $(GO) run ./$$g -out $(KDIR)/$${f}_$${i}_amd64.s -stubs $(KDIR)/$${f}_$${i}_amd64.go -pkg kernels); \
	done

# asm-check fails when a committed generated file differs from what its generator writes now.
asm-check:
	@tmp=$$(mktemp -d); cp -r kernels/. $$tmp/; \
	$(MAKE) -s asm KDIR=$$tmp >/dev/null && \
	if diff -r kernels $$tmp >/dev/null; then echo "generated assembly is up to date"; rm -rf $$tmp; \
	else echo "generated assembly is stale: run make asm"; diff -r kernels $$tmp | head -40; rm -rf $$tmp; exit 1; fi

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReadIDX -fuzztime 30s ./dataset
	$(GO) test -run '^$$' -fuzz '^FuzzSgemm$$' -fuzztime 30s ./kernels
	$(GO) test -run '^$$' -fuzz '^FuzzConv3x3$$' -fuzztime 30s ./kernels
	$(GO) test -run '^$$' -fuzz '^FuzzWinogradF2x3$$' -fuzztime 30s ./kernels

clean:
	rm -rf $(OUT)

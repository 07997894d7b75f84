# simdnn: a pure-Go kit for training and fast CPU inference on Fashion-MNIST.
# `make run` sets up and trains both models; `make test` is what CI runs.

GO      ?= go
OUT     ?= out
ARGS    ?=
APT      = DEBIAN_FRONTEND=noninteractive apt-get
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DATASET := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup run train bench benchstat test test-go test-noasm test-arm64 vet asm asm-check fuzz clean

# setup installs what the kit needs from Debian: the dataset, qemu for the arm64 tests.
setup:
	@pkgs=""; \
	[ -f $(DATASET) ] || pkgs="$$pkgs dataset-fashion-mnist"; \
	command -v qemu-aarch64-static >/dev/null || pkgs="$$pkgs qemu-user-static"; \
	if [ -n "$$pkgs" ]; then $(SUDO) apt-get update -qq && $(SUDO) $(APT) install -y -qq $$pkgs; fi

run: setup
	$(GO) run ./cmd/train --out $(OUT) $(ARGS)

train:
	$(GO) run ./cmd/train --out $(OUT) $(ARGS)

bench:
	$(GO) run ./cmd/bench --out $(OUT) $(ARGS)

# benchstat compares the generic kernels with the best set this CPU runs.
benchstat:
	$(GO) test -run '^$$' -bench . -count 6 -benchtime 20x . > $(OUT)/bench-best.txt
	KERNELS_ISA=generic $(GO) test -run '^$$' -bench . -count 6 -benchtime 20x . > $(OUT)/bench-generic.txt
	$(GO) run golang.org/x/perf/cmd/benchstat $(OUT)/bench-generic.txt $(OUT)/bench-best.txt

vet:
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) vet -tags noasm ./...

test-go:
	$(GO) test -count=1 ./...

test-noasm:
	$(GO) test -count=1 -tags noasm ./...

# arm64 runs under QEMU user mode; cortex-a53 exercises the same NEON path on an older core.
test-arm64:
	GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./kernels/...
	QEMU_CPU=cortex-a53 GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./kernels/...

test: setup vet asm-check test-go test-noasm test-arm64

# asm regenerates every generated assembly file and stub from the avo generators in asm/.
asm:
	cd asm && $(GO) run ./cmd/gen -out ../kernels

# asm-check fails when the committed generated files differ from what the generators write.
asm-check:
	@tmp=$$(mktemp -d); cp -r kernels $$tmp/; \
	cd asm && $(GO) run ./cmd/gen -out $$tmp/kernels && cd .. && \
	diff -r kernels $$tmp/kernels >/dev/null || { echo "generated assembly is stale: run make asm"; diff -r kernels $$tmp/kernels | head -40; rm -rf $$tmp; exit 1; }; \
	rm -rf $$tmp; echo "generated assembly is up to date"

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReadIDX -fuzztime 30s ./dataset

clean:
	rm -rf $(OUT)

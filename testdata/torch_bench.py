#!/usr/bin/python3
"""Time PyTorch on the kit's models (the study's two and the residual CNN) and print Go benchmark format.

The lines are named like `bench --format benchfmt` names ours, with an extra impl=pytorch key:

    BenchmarkInfer/impl=pytorch/model=cnn/batch=128/threads=2  200  24500000 ns/op  5224 images/s

so one benchstat run shows PyTorch and this kit side by side (`make bench-torch` does it).

PyTorch runs at its best setting on this machine: OpenBLAS picks its own (AVX-512) kernels
(OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset) with OPENBLAS_NUM_THREADS=1, torch.set_num_threads(2),
and glibc's malloc told not to return memory to the kernel (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_), since otherwise page faults on fresh activation buffers dominate the CNN.
Those variables act at process start, so the script re-executes itself with them unless they are
already set. Models are in eval mode under no_grad; oneDNN runs the convolutions.

With --train it times one training step at batch 128 instead (forward in training mode,
cross-entropy, backward, Adam), named like the root package's BenchmarkTrainStep.

Usage: /usr/bin/python3 testdata/torch_bench.py [--count 6] [--benchtime 1.0] [--model all] [--train]
"""
import argparse
import os
import platform
import sys
import time

ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": "2147483648",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
}
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def ensure_env():
    if all(os.environ.get(k) == v for k, v in ENV.items()) and not any(k in os.environ for k in UNSET):
        return
    env = dict(os.environ)
    env.update(ENV)
    for k in UNSET:
        env.pop(k, None)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


ensure_env()

import torch  # noqa: E402  (after the environment is fixed: OpenBLAS reads it when loaded)

from torch_models import MODELS  # noqa: E402


def time_model(model, batch, benchtime):
    """Go's testing.B in miniature: grow the iteration count until a run lasts benchtime seconds."""
    x = torch.randn(batch, 1, 28, 28)
    with torch.no_grad():
        for _ in range(5):
            model(x)
        n = 1
        while True:
            t0 = time.perf_counter_ns()
            for _ in range(n):
                model(x)
            dt = time.perf_counter_ns() - t0
            if dt >= benchtime * 1e9 or n >= 1_000_000:
                return n, dt / n
            n = max(n + 1, min(100 * n, int(n * 1.2 * benchtime * 1e9 / max(dt, 1))))


def time_train_step(model, batch, benchtime):
    """One training step as `train` runs it: forward in training mode, cross-entropy, backward, Adam."""
    x = torch.randn(batch, 1, 28, 28)
    y = torch.arange(batch) % 10
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            step()
        dt = time.perf_counter_ns() - t0
        if dt >= benchtime * 1e9 or n >= 1_000_000:
            return n, dt / n
        n = max(n + 1, min(100 * n, int(n * 1.2 * benchtime * 1e9 / max(dt, 1))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=6, help="runs per benchmark (like go test -count)")
    ap.add_argument("--benchtime", type=float, default=1.0, help="seconds per run")
    ap.add_argument("--model", default="all", choices=list(MODELS) + ["all"])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--batch", default="1,128", help="comma-separated batch sizes")
    ap.add_argument("--train", action="store_true",
                    help="time one training step at batch 128 instead, named like the root package's BenchmarkTrainStep")
    a = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print("goos: linux")
    print("goarch: %s" % {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()))
    print("pkg: github.com/simdnn/simdnn/bench")
    if cpu:
        print("cpu: %s" % cpu)
    print("torch: %s" % torch.__version__)
    models = list(MODELS) if a.model == "all" else [a.model]
    if a.train:
        for name in models:
            for _ in range(a.count):
                model = MODELS[name]()
                n, ns = time_train_step(model, 128, a.benchtime)
                print("BenchmarkTrainStep/impl=pytorch/model=%s/batch=128 \t%8d\t%12.0f ns/op\t%12.1f images/s"
                      % (name, n, ns, 128 * 1e9 / ns), flush=True)
        return
    for name in models:
        model = MODELS[name]().eval()
        for batch in [int(b) for b in a.batch.split(",")]:
            for _ in range(a.count):
                n, ns = time_model(model, batch, a.benchtime)
                print("BenchmarkInfer/impl=pytorch/model=%s/batch=%d/threads=%d \t%8d\t%12.0f ns/op\t%12.1f ns/image\t%12.1f images/s"
                      % (name, batch, a.threads, n, ns, ns / batch, batch * 1e9 / ns), flush=True)


if __name__ == "__main__":
    main()

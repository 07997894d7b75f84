"""PyTorch reference run of the study's recipe, to tell the recipe's limits from the kit's: Adam 1e-3,
batch 128, ReduceLROnPlateau (mode "max" on validation accuracy, factor 0.5, patience 2), no
augmentation, a 54,000/6,000 train/validation split, inputs normalized by the training split's mean
and standard deviation. Prints one line per epoch (validation and test accuracy) and a JSON summary.
It needs Debian's python3-torch (`make setup-compare`); no test runs it.

    /usr/bin/python3 testdata/torch_train.py --model resnet --seed 1 --threads 1
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import MODELS  # noqa: E402


def idx(path, magic, offset):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise SystemExit(f"{path}: {e}")
    if len(raw) < offset or int.from_bytes(raw[:4], "big") != magic:
        raise SystemExit(f"{path}: not an IDX file of magic {magic}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset)


def load(data):
    def split(prefix):
        x = idx(os.path.join(data, prefix + "-images-idx3-ubyte.gz"), 2051, 16).reshape(-1, 1, 28, 28)
        y = idx(os.path.join(data, prefix + "-labels-idx1-ubyte.gz"), 2049, 8)
        if len(x) != len(y):
            raise SystemExit(f"{data}: {prefix} has {len(x)} images but {len(y)} labels")
        return x, y
    return split("train"), split("t10k")


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                      for i in range(0, len(x), 1000))
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="resnet")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=18)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    if a.epochs < 1:
        ap.error("--epochs must be at least 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    (xtr, ytr), (xte, yte) = load(a.data)
    perm = rng.permutation(len(xtr))
    nval = len(xtr) // 10
    va, tr = perm[:nval], perm[nval:]
    xs = torch.tensor(xtr[tr], dtype=torch.float32) / 255
    mean, std = xs.mean().item(), xs.std().item()

    def norm(x):
        return (torch.tensor(x, dtype=torch.float32) / 255 - mean) / std
    xtrain, ytrain = (xs - mean) / std, torch.tensor(ytr[tr], dtype=torch.long)
    xval, yval = norm(xtr[va]), torch.tensor(ytr[va], dtype=torch.long)
    xtest, ytest = norm(xte), torch.tensor(yte, dtype=torch.long)

    model = MODELS[a.model]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2)
    history = []
    start = time.time()
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        model.train()
        order = torch.randperm(len(xtrain))
        for i in range(0, len(order), 128):
            b = order[i:i + 128]
            opt.zero_grad()
            F.cross_entropy(model(xtrain[b]), ytrain[b]).backward()
            opt.step()
        lr = opt.param_groups[0]["lr"]
        val, test = accuracy(model, xval, yval), accuracy(model, xtest, ytest)
        sched.step(val)
        history.append({"epoch": epoch, "lr": lr, "val_acc": val, "test_acc": test})
        print(f"{a.model} epoch {epoch:2d}/{a.epochs}  lr {lr:g}  val {100 * val:.2f}%  "
              f"test {100 * test:.2f}%  {time.time() - t0:.1f} s", flush=True)
    print(json.dumps({"model": a.model, "seed": a.seed, "torch": torch.__version__,
                      "threads": a.threads, "params": sum(p.numel() for p in model.parameters()),
                      "wall_seconds": round(time.time() - start, 1), "test_acc": history[-1]["test_acc"],
                      "history": history}))


if __name__ == "__main__":
    main()

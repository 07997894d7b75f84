#!/usr/bin/python3
"""Golden PyTorch outputs for nn's tests (run once; the tests do not need torch).

Builds the study's two networks and the residual CNN in PyTorch with the kit's module names, seeds
them, gives BatchNorm non-trivial parameters and running statistics, and writes for each architecture:
  golden_<arch>.safetensors  the weights, in the kit's safetensors naming (written by hand below:
                             8-byte little-endian header length, JSON header, raw little-endian F32)
  golden_<arch>.json         a few normalized input images and PyTorch's eval-mode logits, plus one
                             training-mode step (dropout off) with its loss, gradient samples and the
                             updated BatchNorm running statistics.

Usage: /usr/bin/python3 testdata/gen_golden.py   (Debian's python3-torch, 1.13)
"""
import json
import os
import struct

import torch
import torch.nn as nn

from torch_models import MODELS

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.2860, 0.3530
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
N_IMAGES = 4
SAMPLE = 8  # gradient / statistic values recorded per tensor


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write_safetensors(path, state, metadata):
    header = {"__metadata__": metadata}
    blobs, off = [], 0
    for name, t in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        t = t.detach().to(torch.float32).contiguous()
        b = struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def make(arch, seed):
    torch.manual_seed(seed)
    model = MODELS[arch]()
    # Non-trivial BatchNorm so a wrong use of γ, β or the running statistics cannot pass.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    x = (torch.rand(N_IMAGES, 1, 28, 28) - MEAN) / STD
    labels = torch.randint(0, 10, (N_IMAGES,))

    model.eval()
    with torch.no_grad():
        logits = model(x)
    write_safetensors(os.path.join(HERE, "golden_%s.safetensors" % arch), model.state_dict(), {
        "format": "pt", "arch": arch, "mean": repr(MEAN), "std": repr(STD),
        "classes": json.dumps(CLASSES), "source": "testdata/gen_golden.py seed %d" % seed})

    # One training-mode step with dropout off: batch statistics, running-stat update, gradients.
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    model.zero_grad()
    out = model(x)
    loss = nn.functional.cross_entropy(out, labels)
    loss.backward()
    grads = {name: {"first": floats(p.grad)[:SAMPLE], "sum_abs": float(p.grad.abs().sum())}
             for name, p in model.named_parameters()}
    running = {name: floats(b)[:SAMPLE] for name, b in model.named_buffers()
               if not name.endswith("num_batches_tracked")}
    golden = {
        "arch": arch, "n": N_IMAGES, "torch": torch.__version__,
        "inputs": floats(x), "logits": floats(logits),
        "train": {"labels": labels.tolist(), "logits": floats(out), "loss": float(loss),
                  "grads": grads, "running": running},
    }
    with open(os.path.join(HERE, "golden_%s.json" % arch), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    make("ann", 1)
    make("cnn", 2)
    make("resnet", 3)
    print("wrote testdata/golden_{ann,cnn,resnet}.{safetensors,json}")

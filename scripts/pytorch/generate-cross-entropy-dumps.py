#!/usr/bin/env python3
"""Writes test/data/dumps/cross-entropy.npz and cross-entropy.safetensors: a cross_entropy dump as a
PyTorch user saves one, with the class indices as int64 and the loss and its upstream gradient as
0-d arrays (what loss.detach().numpy() gives).

Two steps, since the machines here have torch and safetensors in different Pythons:
  /usr/bin/python3 scripts/pytorch/generate-cross-entropy-dumps.py npz          (needs python3-torch)
  python3 scripts/pytorch/generate-cross-entropy-dumps.py safetensors           (needs numpy and safetensors;
                                                                                reads the .npz the first step wrote)
CI never runs it: its output is committed.
"""
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "data" / "dumps"


def write_npz() -> None:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(5)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([1, 5, -100, 0])
    loss = F.cross_entropy(x, target, label_smoothing=0.1)
    g = torch.tensor(0.5, dtype=torch.float64)
    loss.backward(g)
    np.savez(OUT / "cross-entropy.npz", x=x.detach().numpy(), target=target.numpy(), g=g.numpy(),
             loss=loss.detach().numpy(), grad=x.grad.numpy())


def write_safetensors() -> None:
    from safetensors.numpy import save_file

    arrays = dict(np.load(OUT / "cross-entropy.npz"))
    save_file(arrays, str(OUT / "cross-entropy.safetensors"), metadata={
        "label_smoothing": "0.1",
        "reduction": "mean",
        "source": "PyTorch 1.13.0a0 (Debian python3-torch): F.cross_entropy(x, target, label_smoothing=0.1) then .backward(g), dtype float64, CPU",
    })


if __name__ == "__main__":
    {"npz": write_npz, "safetensors": write_safetensors}[sys.argv[1]]()

"""Writes the dumps under test/data/dumps/, as a PyTorch user would save them for --input.

PyTorch 1.13 (Debian's python3-torch) computes softmax and its gradient on CPU; the dumps are saved
by the official safetensors package (0.8.0, `pip install safetensors` in a venv made with
--system-site-packages over Debian's python3) and by numpy's np.savez / np.savez_compressed.
`*-forgot.*` holds a gradient that forgot the <s, g> term (s * g), the bug record must refuse.

Run: /path/to/venv/bin/python scripts/pytorch/generate-dumps.py test/data/dumps
The values are the same on every run (seeded); the order of the __metadata__ keys is not (the
Rust serializer keeps them in a hash map), so a rerun may rewrite a file with metadata in it.
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

OUT = sys.argv[1]
torch.manual_seed(12)


def run(shape, dtype, dim=-1):
    # PyTorch 1.13's CPU softmax has no Half kernel: float16 runs in float32 on the float16 x and
    # g, and both outputs are rounded to float16 (as scripts/pytorch/generate-genuine-fixtures.py).
    work = torch.float32 if dtype == torch.float16 else dtype
    x = torch.randn(*shape, dtype=dtype)
    # A mean away from zero, so that a gradient without <s, g> is far off.
    g = torch.randn(*shape, dtype=dtype) + 1
    xw = x.to(work, copy=True).requires_grad_(True)
    s = torch.softmax(xw, dim=dim)
    s.backward(g.to(work))
    out = lambda t: t.detach().to(dtype)
    return {"x": x, "g": g, "softmax": out(s), "grad": out(xw.grad)}, out(s * g.to(work))


def source(dtype, dim=-1):
    name = str(dtype).replace("torch.", "")
    how = "in float32 on float16 inputs, outputs rounded to float16" if dtype == torch.float16 else name
    return f"PyTorch {torch.__version__} (Debian python3-torch): torch.softmax(x, dim={dim}) then .backward(g), {how}, CPU"


for dtype, name, shape in [(torch.bfloat16, "bf16", (2, 50)), (torch.float16, "f16", (3, 40)), (torch.float32, "f32", (4, 30))]:
    tensors, forgot = run(shape, dtype)
    meta = {"source": source(dtype)}
    save_file(tensors, os.path.join(OUT, f"torch-{name}.safetensors"), metadata=meta)
    save_file(dict(tensors, grad=forgot), os.path.join(OUT, f"torch-{name}-forgot.safetensors"), metadata=meta)

# dim 0 given in the metadata, as the reader allows.
tensors, _ = run((6, 3), torch.float64, dim=0)
save_file(tensors, os.path.join(OUT, "torch-f64-dim0.safetensors"), metadata={"source": source(torch.float64, 0), "dim": "0"})

for dtype, name, shape, save in [
    (torch.float32, "f32", (4, 30), np.savez),
    (torch.float16, "f16", (3, 40), np.savez_compressed),
    (torch.float64, "f64", (2, 20), np.savez_compressed),
]:
    tensors, forgot = run(shape, dtype)
    arrays = {k: v.numpy() for k, v in tensors.items()}
    kind = "savez" if save is np.savez else "savez_compressed"
    save(os.path.join(OUT, f"torch-{name}-{kind}.npz"), **arrays)
    if name == "f32":
        save(os.path.join(OUT, f"torch-{name}-{kind}-forgot.npz"), **dict(arrays, grad=forgot.numpy()))
# A dump without the gradient, which comes separately as a .npy (--expected-grad).
tensors, _ = run((3, 25), torch.float32)
np.savez(os.path.join(OUT, "torch-f32-nograd.npz"), x=tensors["x"].numpy(), g=tensors["g"].numpy(), softmax=tensors["softmax"].numpy())
np.save(os.path.join(OUT, "torch-f32-nograd-grad.npy"), tensors["grad"].numpy())
print("\n".join(sorted(os.listdir(OUT))))

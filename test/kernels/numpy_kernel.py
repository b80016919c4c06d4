"""A kernel for testing `softmax-verify hunt` through the protocol v1, with numpy alone (CI has no
torch): softmax and log_softmax along the case's dim, computed in float64 and stored in the case's
dtype (bfloat16 comes as float32 without torch, and goes back as float32). The first argument
plants bugs or misbehaviours (several, comma-separated):

  none                 correct
  forgot-inner         softmax's backward as s * g (the <s, g> term forgotten)
  off-grid             widths that are not a multiple of 32 sum one lane too many (exp(0 - m) added)
  crash-on-width-1     exits when a slice has one element
  hang-on-width-2      never answers a case whose slices have two elements
  garbage-on-width-3   prints a line that is not the protocol's
  decline-wide         declines cases with slices longer than 4096
  decline-all          declines every case
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from softmax_verify import serve  # noqa: E402

BUGS = set(sys.argv[1].split(",")) if len(sys.argv) > 1 else set()


def kernel(tensors, settings):
    op = settings["op"]
    dim = int(settings["dim"])
    x = np.asarray(tensors["x"], dtype=np.float64)
    g = np.asarray(tensors["g"], dtype=np.float64)
    stored = np.asarray(tensors["x"]).dtype
    width = x.shape[dim]
    if "crash-on-width-1" in BUGS and width == 1:
        os._exit(3)
    if "hang-on-width-2" in BUGS and width == 2:
        time.sleep(3600)
    if "garbage-on-width-3" in BUGS and width == 3:
        sys.__stdout__.write("hello from the kernel\n")
        sys.__stdout__.flush()
    if "decline-all" in BUGS:
        raise ValueError("this kernel declines every case")
    if "decline-wide" in BUGS and width > 4096:
        raise ValueError("slices longer than 4096 are not supported")
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(m == -np.inf, 0.0, m)  # a fully masked slice: NaN, as PyTorch gives it
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        e = np.exp(x - m)
        total = e.sum(axis=dim, keepdims=True)
        if "off-grid" in BUGS and width % 32 != 0:
            total = total + np.exp(-m)
        s = e / total
        if op == "softmax":
            inner = 0.0 if "forgot-inner" in BUGS else (s * g).sum(axis=dim, keepdims=True)
            return {"softmax": s.astype(stored), "grad": (s * (g - inner)).astype(stored)}
        y = (x - m) - np.log(total)
        return {"log_softmax": y.astype(stored), "grad": (g - np.exp(y) * g.sum(axis=dim, keepdims=True)).astype(stored)}


serve(kernel)

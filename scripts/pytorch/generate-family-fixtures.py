#!/usr/bin/env python3
"""Writes the softmax family's PyTorch fixtures: log_softmax and cross_entropy results with their
input gradients, one fixture-v1 file (with an "op" field) per case, into fixtures/family/ or the
directory given on the command line (usage: generate-family-fixtures.py [--out OUT_DIR] [CASE_NAME ...]).

Every case seeds torch.manual_seed(seed), draws its inputs in float64 with torch.randn / torch.rand
/ torch.randint and casts them to the case's dtype, so x, g, soft targets and class weights are
exactly representable in it. Then, on the CPU, as a user would:
  - log_softmax: x.requires_grad_(); y = F.log_softmax(x, dim=dim); y.backward(g).
  - cross_entropy: x.requires_grad_(); loss = F.cross_entropy(x, target, **kwargs); loss.backward(g),
    with the keyword arguments the `source` string spells out (weight, reduction, label_smoothing,
    ignore_index).
The upstream gradient g is drawn as randn + 1 (a scalar for reduction 'mean' and 'sum'), so its
mean is far from zero and a forgotten Σg term in a backward pass shows.

float16: PyTorch 1.13's CPU log_softmax has no Half kernel ("log_softmax_lastdim_kernel_impl" not
implemented for 'Half'), and F.cross_entropy goes through it, so cross_entropy has no float16 case
here. The one float16 log_softmax case does what a user on the CPU has to: y =
F.log_softmax(x.float(), dim).half() on the float16 x, backward with the float16 g (autograd runs
the backward in float32 and rounds the gradient to float16); its `source` says so.

All values are written as float64 JSON numbers through Python's float repr, so each one reads back
exactly; class indices are JSON integers (a plain integer for a 0-d target). Files are written the
way the workplace's shared fixtures/family/ files were: a single json.dumps line with default
separators and no trailing newline. json.dumps writes the -inf logits (and log_softmax outputs) of
the masked case as the bare token -Infinity, which softmax-verify reads.

Needs Debian's python3-torch (`apt-get install python3-torch`, then run it with /usr/bin/python3).
CI never runs it: its output is committed. Another PyTorch version may draw other numbers or round
differently; the `source` string records the version that ran.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

from case_selection import selected_cases

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "family"
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
SHORT = {"float64": "f64", "float32": "f32", "bfloat16": "bf16", "float16": "f16"}
INF = float("inf")


def LS(shape, dim, dtype, scale=4.0, offset=0.0, masked=(), seed=0, tag=""):
    """A log_softmax case: x ~ offset + N(0, scale^2); `masked` lists (index tuple) set to -inf."""
    name = f"log-softmax-{SHORT[dtype]}-{'x'.join(map(str, shape))}" + (f"-{tag}" if tag else "")
    return dict(op="log_softmax", name=name, dtype=dtype, shape=shape, dim=dim, scale=scale,
                offset=offset, masked=masked, seed=seed)


def CE(tag, dtype="float64", shape=(8, 10), reduction="mean", soft=False, weight=False,
       label_smoothing=0.0, ignore_index=None, ignored=0, scale=3.0, seed=0, padding=0):
    """A cross_entropy case over class dim 1 (0 for a 1-d x).

    soft: probability targets (softmax of N(0, 2^2) logits) instead of class indices.
    weight: class weights drawn from U[0.5, 2).
    ignore_index: passed to F.cross_entropy; `ignored` targets (or all, if ignored == "all") are
    set to it.
    padding: the last `padding` samples are padding rows, as a padded batch has them: every logit
    -inf and the target ignore_index (PyTorch gives their gradient NaN).
    """
    return dict(op="cross_entropy", name=f"cross-entropy-{SHORT[dtype]}-{tag}", dtype=dtype,
                shape=list(shape), reduction=reduction, soft=soft, weight=weight,
                label_smoothing=label_smoothing, ignore_index=ignore_index, ignored=ignored,
                scale=scale, seed=seed, padding=padding)


CASES = [
    # The built-in example's x = 1..9, g = 11..19 through log_softmax (what `--op log_softmax` runs).
    dict(op="log_softmax", name="log-softmax-seed", dtype="float64", shape=[9], dim=-1, seed=None),
    LS([3, 50], 1, "float64", seed=101),
    LS([4, 1000], -1, "float32", seed=102),
    LS([2, 32000], -1, "bfloat16", scale=8.0, seed=103, tag="scale8"),
    LS([16, 64], -1, "float16", seed=104),
    LS([30, 5], 0, "float64", seed=105, tag="dim0"),
    LS([2, 3, 40], 1, "float32", seed=106, tag="dim1"),
    # Row 0 has four -inf logits; row 1 none. No row is all -inf.
    LS([2, 12], -1, "float64", seed=107, tag="masked", masked=((0, 1), (0, 4), (0, 5), (0, 11))),
    # Logits around 1000, spread 50: exp(x) overflows, the max subtraction must not be skipped.
    LS([3, 40], -1, "float64", scale=50.0, offset=1000.0, seed=108, tag="large-logits"),

    # float64 [8, 10], class indices.
    CE("8x10-mean", reduction="mean", seed=201),
    CE("8x10-sum", reduction="sum", seed=202),
    CE("8x10-none", reduction="none", seed=203),
    CE("mean-weight", reduction="mean", weight=True, seed=204),
    CE("none-weight", reduction="none", weight=True, seed=205),
    CE("mean-weight-smoothing", reduction="mean", weight=True, label_smoothing=0.2, seed=206),
    # ignore_index: the mean divides by the weights (or the count) of the targets not ignored.
    CE("mean-ignore-default", reduction="mean", ignore_index=-100, ignored=3, seed=207),
    CE("mean-weight-ignore3", reduction="mean", weight=True, ignore_index=3, ignored=2, seed=208),
    CE("mean-weight-smoothing-ignore", reduction="mean", weight=True, label_smoothing=0.2,
       ignore_index=-100, ignored=3, seed=209),
    CE("none-smoothing-ignore", reduction="none", label_smoothing=0.2, ignore_index=-100, ignored=3,
       seed=210),
    # Every target ignored: 'sum' gives loss 0 and a zero gradient ('mean' gives NaN: no fixture).
    CE("sum-all-ignored", reduction="sum", ignore_index=-100, ignored="all", seed=211),
    # float64 [8, 10], probability targets.
    CE("8x10-soft-mean", reduction="mean", soft=True, seed=212),
    CE("8x10-soft-sum", reduction="sum", soft=True, seed=213),
    CE("8x10-soft-none", reduction="none", soft=True, seed=214),
    CE("soft-mean-smoothing", reduction="mean", soft=True, label_smoothing=0.2, seed=215),
    # Soft targets with weight: 'mean' divides by N (here 8), not by the weights.
    CE("soft-mean-weight", reduction="mean", soft=True, weight=True, seed=216),
    CE("soft-none-weight-smoothing", reduction="none", soft=True, weight=True, label_smoothing=0.1,
       seed=217),
    # Spatial: x [N, C, H, W] = [2, 5, 3, 4], class dim 1.
    CE("2x5x3x4-mean-ignore", shape=(2, 5, 3, 4), reduction="mean", ignore_index=-100, ignored=5,
       seed=218),
    CE("2x5x3x4-none-weight", shape=(2, 5, 3, 4), reduction="none", weight=True, seed=219),
    CE("2x5x3x4-soft-mean", shape=(2, 5, 3, 4), reduction="mean", soft=True, seed=220),
    # A single sample: x [C], class dim 0, a 0-d target.
    CE("single-sample-mean", shape=(10,), reduction="mean", seed=221),
    # Lower precisions.
    # Sizes kept so that each file stays under about 2 MB (bfloat16 gradients print as long floats).
    CE("16x1000-mean-smoothing", dtype="float32", shape=(16, 1000), reduction="mean",
       label_smoothing=0.1, seed=222),
    CE("2x32000-mean", dtype="bfloat16", shape=(2, 32000), reduction="mean", scale=8.0, seed=223),
    CE("16x512-none-weight", dtype="bfloat16", shape=(16, 512), reduction="none", weight=True,
       scale=6.0, seed=224),
    # A bfloat16 mean over 16 samples: nll_loss sums them in bfloat16 itself (a cascade of 16-term
    # partial sums), which the loss's allowance follows.
    CE("16x512-mean", dtype="bfloat16", shape=(16, 512), reduction="mean", scale=2.0, seed=225),
    # Padding rows, fully masked and ignored: their gradient is NaN in PyTorch, the loss their mean
    # over the rest; every reduction.
    CE("padding-rows-mean", shape=(6, 5), reduction="mean", ignore_index=-100, padding=2, seed=226),
    CE("padding-rows-sum-smoothing", shape=(6, 5), reduction="sum", label_smoothing=0.1,
       ignore_index=-100, padding=2, seed=227),
    CE("padding-rows-none", shape=(6, 5), reduction="none", ignore_index=-100, padding=2, seed=228),
]


def as_list(t: torch.Tensor):
    """Exact float64 values of t as (nested lists of) Python floats; a 0-d tensor gives a float."""
    return t.detach().to(torch.float64).tolist()


def header(case, source):
    return {
        "format": "softmax-verify.fixture/v1",
        "name": case["name"],
        "op": case["op"],
        "dtype": case["dtype"],
        "dim": case["dim"],
        "source": source,
    }


def make_log_softmax(case) -> dict:
    dtype_name = case["dtype"]
    dtype = DTYPES[dtype_name]
    if case["seed"] is None:
        x = torch.arange(1, 10, dtype=dtype)
        g = torch.arange(11, 20, dtype=dtype)
    else:
        torch.manual_seed(case["seed"])
        x64 = torch.randn(case["shape"], dtype=torch.float64) * case["scale"] + case["offset"]
        for index in case["masked"]:
            x64[index] = -INF
        x = x64.to(dtype)
        g = (torch.randn(case["shape"], dtype=torch.float64) + 1).to(dtype)
    dim = case["dim"]
    version = f"PyTorch {torch.__version__} (Debian python3-torch)"
    xr = x.clone().requires_grad_(True)
    if dtype == torch.float16:
        # CPU log_softmax has no Half kernel in PyTorch 1.13.
        y = F.log_softmax(xr.float(), dim=dim).half()
        source = (f"{version}: F.log_softmax(x.float(), dim={dim}).half() then .backward(g), "
                  "x and g float16 (no CPU Half kernel for log_softmax: computed in float32, "
                  "outputs rounded to float16 by autograd), CPU")
    else:
        y = F.log_softmax(xr, dim=dim)
        source = f"{version}: F.log_softmax(x, dim={dim}) then .backward(g), dtype {dtype_name}, CPU"
    y.backward(g)
    assert y.dtype == dtype and xr.grad.dtype == dtype
    fixture = header(case, source)
    fixture.update({
        "x": as_list(x),
        "g": as_list(g),
        "expected": {"log_softmax": as_list(y), "grad": as_list(xr.grad)},
    })
    return fixture


def make_cross_entropy(case) -> dict:
    dtype_name = case["dtype"]
    dtype = DTYPES[dtype_name]
    shape = case["shape"]
    dim = 0 if len(shape) == 1 else 1
    case = dict(case, dim=dim)
    n_classes = shape[dim]
    sample_shape = shape[:dim] + shape[dim + 1:]  # the shape of x without the class dim
    torch.manual_seed(case["seed"])
    x = (torch.randn(shape, dtype=torch.float64) * case["scale"]).to(dtype)
    if case["soft"]:
        target = torch.softmax(torch.randn(shape, dtype=torch.float64) * 2.0, dim=dim).to(dtype)
    else:
        target = torch.randint(0, n_classes, sample_shape, dtype=torch.int64)
        ignore_index = case["ignore_index"]
        if case["ignored"] == "all":
            target.fill_(ignore_index)
        elif case["ignored"]:
            if ignore_index >= 0:
                # Drawn targets may equal a class-valued ignore_index already: make it exactly
                # `ignored` of them.
                flat = target.view(-1)
                others = torch.randint(0, n_classes - 1, flat.shape, dtype=torch.int64)
                flat[flat == ignore_index] = (others + (others >= ignore_index).long())[flat == ignore_index]
            positions = torch.randperm(target.numel())[: case["ignored"]]
            target.view(-1)[positions] = ignore_index
    if case.get("padding"):
        x[-case["padding"]:] = -INF
        target[-case["padding"]:] = case["ignore_index"]
    weight = (torch.rand(n_classes, dtype=torch.float64) * 1.5 + 0.5).to(dtype) if case["weight"] else None
    reduction = case["reduction"]
    if reduction == "none":
        g = (torch.randn(sample_shape, dtype=torch.float64) + 1).to(dtype)
    else:
        g = (torch.randn((), dtype=torch.float64) + 1).to(dtype)

    kwargs, spelled = {}, []
    if weight is not None:
        kwargs["weight"] = weight
        spelled.append("weight=w")
    kwargs["reduction"] = reduction
    spelled.append(f"reduction={reduction!r}")
    kwargs["label_smoothing"] = case["label_smoothing"]
    spelled.append(f"label_smoothing={case['label_smoothing']}")
    if case["ignore_index"] is not None:
        kwargs["ignore_index"] = case["ignore_index"]
        spelled.append(f"ignore_index={case['ignore_index']}")
    xr = x.clone().requires_grad_(True)
    loss = F.cross_entropy(xr, target, **kwargs)
    loss.backward(g)
    assert loss.dtype == dtype and xr.grad.dtype == dtype
    source = (f"PyTorch {torch.__version__} (Debian python3-torch): "
              f"F.cross_entropy(x, target, {', '.join(spelled)}) then .backward(g), "
              f"dtype {dtype_name}, CPU")

    fixture = header(case, source)
    fixture.update({
        "x": as_list(x),
        "target": as_list(target) if case["soft"] else target.tolist(),
        "reduction": reduction,
        "g": as_list(g),
        "expected": {"loss": as_list(loss), "grad": as_list(xr.grad)},
    })
    if case["label_smoothing"]:
        fixture["label_smoothing"] = case["label_smoothing"]
    if case["ignore_index"] is not None:
        fixture["ignore_index"] = case["ignore_index"]
    if weight is not None:
        fixture["weight"] = as_list(weight)
    return fixture


def main() -> None:
    out, cases = selected_cases(__doc__.split("\n\n")[0], CASES, OUT)
    for case in cases:
        make = make_log_softmax if case["op"] == "log_softmax" else make_cross_entropy
        fixture = make(case)
        path = out / f"{case['name']}.json"
        path.write_text(json.dumps(fixture))
        print(f"{path}  {case['op']} {case['dtype']} {case['shape']} dim={fixture['dim']}  "
              f"{path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

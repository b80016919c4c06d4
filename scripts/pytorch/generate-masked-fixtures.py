#!/usr/bin/env python3
"""Writes masked_softmax's PyTorch fixtures: the softmax inside attention, y = softmax(scale·x) over
the kept elements of each slice along dim (0 at masked ones), with its input gradient, one
fixture-v1 file (op "masked_softmax") per case, into fixtures/family/ or the directory given on the
command line (usage: generate-masked-fixtures.py [--out OUT_DIR] [CASE_NAME ...]).

Every case seeds torch.manual_seed(seed), draws x in float64 as N(0, spread^2) and the upstream
gradient g as randn + 1 (so its mean is far from zero and a forgotten <s, g> term shows), and casts
both to the case's dtype, so they are exactly representable in it; the boolean mask is drawn as
torch.rand(shape) >= 0.2 (about 20% masked), with whole rows set False where a case asks for
fully masked rows. The fixture stores the raw logits x (before the scale, finite also where
masked), g, scale, and either "mask" (nested JSON booleans, true = takes part, the convention of
scaled_dot_product_attention's boolean attn_mask; x's shape or x's trailing dims) or
"causal": true (keep j <= i over the last two dims, top-left aligned as PyTorch's is_causal).
Then, on the CPU, as a user would, with x.requires_grad_() in the case's dtype:
  - "composition" (how models write it):
        y = (x * scale).masked_fill(~mask, float('-inf')).softmax(dim); y.backward(g).
    In bfloat16 and float32, x * scale is rounded to the dtype before the softmax sees it. PyTorch
    1.13's CPU mul also rounds the Python scalar itself to the tensor's dtype first (x * (1/sqrt(48))
    in bfloat16 multiplies by bfloat16(0.1443...)), so every scale here is exactly representable in
    bfloat16: 0.125 (for which x * scale is exact) or 0.14453125 = 37/256, about 1/sqrt(48) (for
    which the bfloat16 product is rounded, as in a real model). A causal case builds its mask as
    torch.ones(L, S, dtype=torch.bool).tril(). A fully masked row comes out NaN in the forward
    (softmax of all -inf) in every dtype, and its gradient 0 (masked_fill's backward zeros every
    masked position, the NaNs of softmax's backward included): masked_rows "nan".
  - "composition, nan_to_num" (float64): the same, then y = torch.nan_to_num(y, nan=0.0), the
    convention of fused attention kernels that give a fully masked row 0: masked_rows "zero"; the
    gradient is again 0 there (nan_to_num's backward passes 0 at the NaNs).
  - "native": torch._masked_softmax(x, ~mask, dim, 2), PyTorch's internal fused kernel. Its
    signature is aten::_masked_softmax(Tensor self, Tensor mask, int? dim=None,
    int? mask_type=None); its mask has the OPPOSITE polarity, True = masked out, so the script
    passes ~mask and the fixture stores mask (true = keep). On the CPU in 1.13 the mask must have
    x's shape (no broadcasting), mask_type must be given (None fails: "Mask Type should be
    defined"; 0 fails: "src_mask not currently supported on CPU"; 2 is the general same-shape
    mask), there is no float16 kernel, and it takes no scale (scale 1 here). Autograd supports it
    (MaskedSoftmaxBackward0) in float32, float64 and bfloat16. A fully masked row comes out NaN,
    its gradient 0: masked_rows "nan". Its CPU kernel (host_softmax with MaskedSoftMax) is not
    PyTorch's usual float32 opmath: it keeps x - max and each exp in scalar_t, and c10::BFloat16's
    operators round every result to bfloat16, while the sum accumulates in float. Its bfloat16
    fixture says so with "arithmetic": {"compute": "bfloat16", "accumulate": "float32"} (the
    arithmetic softmax-verify then judges it in, as --compute and --accumulate would).

After writing, an independent check recomputes y and dx in float64 numpy from x, the mask (or
causal), scale and dim by the definition (s = softmax(scale·x) over kept elements, 0 elsewhere;
dx = scale·s⊙(g − <s, g>) at kept positions, 0 at masked ones; a fully masked slice gives s = 0 and
dx = 0) and prints, per file, the largest absolute difference from PyTorch's values (fully masked
rows are checked to be NaN or 0 as masked_rows says, and left out of the difference). It prints to
stdout only; bfloat16 differences include the rounding of x * scale and of the outputs.

All values are written as float64 JSON numbers through Python's float repr, so each one reads back
exactly; a single json.dumps line with default separators and no trailing newline, like the other
fixtures/family/ files. json.dumps writes the NaN rows as the bare token NaN, which softmax-verify
reads.

Needs Debian's python3-torch (`apt-get install python3-torch`, then run it with /usr/bin/python3)
and numpy. CI never runs it: its output is committed. Another PyTorch version may draw other
numbers, round differently or treat fully masked rows differently; the `source` string records the
version that ran.
"""
import json
import math
import pathlib

import numpy as np
import torch

from case_selection import selected_cases

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "family"
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}
SHORT = {"float64": "f64", "float32": "f32", "bfloat16": "bf16"}
INF = float("inf")
SCALE_48 = 0.14453125  # 37/256, about 1/sqrt(48); exact in bfloat16


def MS(shape, dtype, tag, how="composition", scale=0.125, spread=16.0, mask_shape=None,
       causal=False, dead_rows=(), dim=-1, seed=0, description=None):
    """A masked_softmax case.

    how: "composition", "nan_to_num" (composition then torch.nan_to_num(y, nan=0.0)) or "native"
    (torch._masked_softmax). mask_shape: the mask's shape if it broadcasts over x's leading dims
    (default x's shape). causal: keep j <= i over the last two dims, no random mask. dead_rows:
    index tuples (into the mask, every dim but dim) whose slices are all False.
    """
    name = f"masked-softmax-{SHORT[dtype]}-{'x'.join(map(str, shape))}-{tag}"
    return dict(name=name, dtype=dtype, shape=list(shape), how=how, scale=scale, spread=spread,
                mask_shape=list(mask_shape) if mask_shape else list(shape), causal=causal,
                dead_rows=dead_rows, dim=dim, seed=seed, description=description)


# Rows fully masked in the "masked-rows" cases (of a [2, 3, 8, 16] mask).
DEAD = ((0, 0, 3), (0, 2, 0), (1, 1, 7), (1, 2, 4))

CASES = [
    # 1. The composition, random masks (no row fully masked).
    MS([2, 4, 16, 16], "float32", "random", seed=301),
    MS([2, 4, 16, 16], "bfloat16", "random", seed=302),
    MS([8, 64], "float32", "random-scale48", scale=SCALE_48, spread=12.0, seed=303),
    MS([8, 64], "bfloat16", "random-scale48", scale=SCALE_48, spread=12.0, seed=304,
       description="x * 0.14453125 is rounded to bfloat16 before the softmax"),
    # 2. Causal, square and (top-left aligned) non-square.
    MS([2, 12, 12], "float32", "causal", causal=True, scale=SCALE_48, spread=12.0, seed=305),
    MS([2, 12, 12], "bfloat16", "causal", causal=True, scale=SCALE_48, spread=12.0, seed=306),
    MS([2, 8, 12], "float32", "causal-nonsquare", causal=True, scale=SCALE_48, spread=12.0, seed=307,
       description="non-square causal: row i keeps columns j <= i (top-left aligned)"),
    # 3. Fully masked rows: NaN forward, zero gradient.
    MS([2, 3, 8, 16], "float32", "masked-rows", dead_rows=DEAD, seed=308,
       description="four rows fully masked: PyTorch gives them NaN forward and 0 gradient"),
    MS([2, 3, 8, 16], "bfloat16", "masked-rows", dead_rows=DEAD, seed=309,
       description="four rows fully masked: PyTorch gives them NaN forward and 0 gradient"),
    # 4. A mask [8, 8] broadcast over x's leading dims [2, 3].
    MS([2, 3, 8, 8], "float32", "mask8x8", mask_shape=[8, 8], scale=SCALE_48, spread=12.0, seed=310),
    MS([2, 3, 8, 8], "bfloat16", "mask8x8", mask_shape=[8, 8], scale=SCALE_48, spread=12.0, seed=311),
    # 5. torch._masked_softmax (True = masked out in its own mask; no scale).
    MS([2, 3, 8, 16], "float32", "native", how="native", scale=1.0, spread=2.0, dead_rows=DEAD,
       seed=312, description="torch._masked_softmax with four fully masked rows"),
    MS([2, 3, 8, 16], "bfloat16", "native", how="native", scale=1.0, spread=2.0, dead_rows=DEAD,
       seed=313, description="torch._masked_softmax with four fully masked rows"),
    MS([3, 10, 5], "float32", "native-dim1", how="native", scale=1.0, spread=2.0, dim=1,
       dead_rows=((1, 2),), seed=314,
       description="softmax over dim 1; the slice x[1, :, 2] is fully masked"),
    # 6. float64, fully masked rows given 0 (nan_to_num after the composition).
    MS([2, 3, 8, 16], "float64", "masked-rows-zero", how="nan_to_num", dead_rows=DEAD, seed=315,
       description="fully masked rows set to 0 by torch.nan_to_num, as fused attention kernels do"),
]


def as_list(t: torch.Tensor):
    """Exact float64 values of t as nested lists of Python floats."""
    return t.detach().to(torch.float64).tolist()


def shape_text(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def make(case) -> tuple:
    """The fixture of one case, and the keep-mask broadcast to x's shape (for the check)."""
    dtype_name = case["dtype"]
    dtype = DTYPES[dtype_name]
    shape, dim, scale = case["shape"], case["dim"], case["scale"]
    torch.manual_seed(case["seed"])
    x = (torch.randn(shape, dtype=torch.float64) * case["spread"]).to(dtype)
    g = (torch.randn(shape, dtype=torch.float64) + 1).to(dtype)
    if case["causal"]:
        L, S = shape[-2], shape[-1]
        mask = torch.ones(L, S, dtype=torch.bool).tril()
        mask_text = f"mask = torch.ones({L}, {S}, dtype=torch.bool).tril()"
    else:
        mask = torch.rand(case["mask_shape"], dtype=torch.float64) >= 0.2
        for index in case["dead_rows"]:
            if dim in (-1, len(shape) - 1):
                mask[index] = False
            else:
                mask[index[:dim] + (slice(None),) + index[dim:]] = False
        mask_text = f"mask a bool tensor {shape_text(case['mask_shape'])} (True = keep)"
    keep = mask.expand(shape)

    version = f"PyTorch {torch.__version__} (Debian python3-torch)"
    xr = x.clone().requires_grad_(True)
    if case["how"] == "native":
        assert scale == 1.0 and list(mask.shape) == shape
        y = torch._masked_softmax(xr, ~mask, dim, 2)
        expr = f"torch._masked_softmax(x, ~mask, {dim}, 2)"
        note = ("; _masked_softmax's own mask is True = masked out, hence ~mask; "
                "it takes no scale (scale 1)")
    else:
        y = (xr * scale).masked_fill(~mask, -INF).softmax(dim)
        expr = f"(x * {scale!r}).masked_fill(~mask, float('-inf')).softmax({dim})"
        note = ""
        if case["how"] == "nan_to_num":
            y = torch.nan_to_num(y, nan=0.0)
            expr = f"torch.nan_to_num({expr}, nan=0.0)"
    y.backward(g)
    assert y.dtype == dtype and xr.grad.dtype == dtype

    dead = ~keep.any(dim=dim)
    if dead.any():
        rows = y.movedim(dim, -1)[dead]
        if case["how"] == "nan_to_num":
            assert (rows == 0).all()
        else:
            assert rows.isnan().all()
        assert (xr.grad.movedim(dim, -1)[dead] == 0).all()
    # What PyTorch gives fully masked rows of this expression, whether or not the case has any.
    masked_rows = "zero" if case["how"] == "nan_to_num" else "nan"
    source = (f"{version}: y = {expr} then y.backward(g), x.requires_grad_() in {dtype_name}, "
              f"{mask_text}{note}, CPU")

    fixture = {
        "format": "softmax-verify.fixture/v1",
        "name": case["name"],
        "op": "masked_softmax",
        "dtype": dtype_name,
        "dim": dim,
        "source": source,
    }
    if case["description"]:
        fixture["description"] = case["description"]
    if case["how"] == "native" and dtype_name == "bfloat16":
        fixture["arithmetic"] = {"compute": "bfloat16", "accumulate": "float32"}
    fixture.update({"x": as_list(x), "g": as_list(g), "scale": scale})
    if case["causal"]:
        fixture["causal"] = True
    else:
        fixture["mask"] = mask.tolist()
    fixture.update({
        "masked_rows": masked_rows,
        "expected": {"softmax": as_list(y), "grad": as_list(xr.grad)},
    })
    return fixture, keep.numpy().copy()


def check(fixture, keep) -> tuple:
    """Largest |difference| of softmax and grad from a float64 numpy recomputation."""
    x = np.array(fixture["x"], dtype=np.float64)
    g = np.array(fixture["g"], dtype=np.float64)
    if fixture.get("causal"):
        L, S = x.shape[-2:]
        keep2 = np.broadcast_to(np.tril(np.ones((L, S), dtype=bool)), x.shape)
    else:
        keep2 = np.broadcast_to(np.array(fixture["mask"], dtype=bool), x.shape)
    assert (keep2 == keep).all()
    dim, scale = fixture["dim"], fixture["scale"]
    z = np.where(keep2, scale * x, -np.inf)
    alive = keep2.any(axis=dim, keepdims=True)
    m = np.where(alive, z.max(axis=dim, keepdims=True), 0.0)
    e = np.where(keep2, np.exp(z - m), 0.0)
    tot = e.sum(axis=dim, keepdims=True)
    s = np.where(alive, e / np.where(alive, tot, 1.0), 0.0)
    dx = np.where(keep2, scale * s * (g - (s * g).sum(axis=dim, keepdims=True)), 0.0)
    ey = np.array(fixture["expected"]["softmax"], dtype=np.float64)
    eg = np.array(fixture["expected"]["grad"], dtype=np.float64)
    dead = np.broadcast_to(~alive, x.shape)
    if fixture["masked_rows"] == "nan":
        assert np.isnan(ey[dead]).all()
    else:
        assert (ey[dead] == 0).all()
    assert not np.isnan(ey[~dead]).any() and not np.isnan(eg).any()
    dy = np.abs(np.where(dead, 0.0, ey) - s).max()
    return dy, np.abs(eg - dx).max(), int(dead.sum() // x.shape[dim])


def main() -> None:
    out, cases = selected_cases(__doc__.split("\n\n")[0], CASES, OUT)
    checks = []
    for case in cases:
        fixture, keep = make(case)
        path = out / f"{case['name']}.json"
        path.write_text(json.dumps(fixture))
        print(f"{path}  {case['how']} {case['dtype']} {case['shape']} dim={case['dim']}  "
              f"{path.stat().st_size} bytes")
        checks.append((case["name"], fixture, keep))
    print("independent float64 check (max |PyTorch - formula|):")
    for name, fixture, keep in checks:
        # Read back what was written, to check the file itself.
        dy, dg, n_dead = check(json.loads((out / f"{name}.json").read_text()), keep)
        print(f"  {name}: softmax {dy:.3e}  grad {dg:.3e}  fully masked slices {n_dead}")


if __name__ == "__main__":
    main()

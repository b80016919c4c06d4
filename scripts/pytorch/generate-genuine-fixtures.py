#!/usr/bin/env python3
"""Writes "genuine" PyTorch fixtures: PyTorch's own low-precision softmax and softmax-backward
results at realistic sizes, one fixture-v1 file per case, into the directory given on the command
line (usage: generate-genuine-fixtures.py OUT_DIR [CASE_NAME ...]).

Each case draws x ~ N(0, scale^2) and g ~ N(0, 1) in float64 with torch.randn after
torch.manual_seed(seed), and casts both to the case's dtype, so x and g are exactly representable
in it. Then:
  - bfloat16, float32: s = torch.softmax(x, dim); s.backward(g) in that dtype on the CPU.
  - float16: PyTorch 1.13's CPU softmax is not implemented for Half, so softmax and backward run
    in float32 on the float16 x and g, and both outputs are rounded to float16.
All values are written as float64 JSON numbers through Python's float repr, so each one reads back
exactly; files are written the way the workplace's shared set (fixtures/genuine/) was: a single
json.dumps line with default separators and no trailing newline.

The first five cases are the shared set's. Their seeds (11 to 15) were recovered by matching the
shared files' x, so with PyTorch 1.13.0a0 this script reproduces those five files byte for byte;
another PyTorch version may draw other numbers or round differently, and the `source` string
records the version that ran. Needs Debian's python3-torch (`apt-get install python3-torch`, then
run it with /usr/bin/python3). CI never runs it.
"""
import argparse
import json
import pathlib

import torch

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}

# name, dtype, shape, dim, logit scale, seed, description
CASES = [
    # The shared set (fixtures/genuine/ of the workplace's shared fixtures).
    ("bf16-16x2048-scale6", "bfloat16", [16, 2048], -1, 6.0, 12, ""),
    ("bf16-256x32-dim0", "bfloat16", [256, 32], 0, 8.0, 13, ""),
    ("bf16-4x1000-scale10", "bfloat16", [4, 1000], -1, 10.0, 11, "peaked rows where g \u2212 <s,g> cancels"),
    ("f16-4x1000-scale10", "float16", [4, 1000], -1, 10.0, 14, ""),
    ("f32-2x32000-scale8", "float32", [2, 32000], -1, 8.0, 15, ""),
    # Added cases.
    ("bf16-8x4096-scale3", "bfloat16", [8, 4096], -1, 3.0, 16, "wide rows of mild logits: many small probabilities"),
    # One row, not two: a [2, 50257] file is about 7 MB, past the ~6 MB budget.
    ("bf16-1x50257-scale4", "bfloat16", [1, 50257], -1, 4.0, 17, "a GPT-2 vocabulary row"),
    ("bf16-64x128-scale1", "bfloat16", [64, 128], -1, 1.0, 18, "nearly flat rows: every probability near 1/128"),
    ("bf16-4x1000-scale20", "bfloat16", [4, 1000], -1, 20.0, 19, "very peaked rows: g \u2212 <s,g> cancels hard"),
    ("f16-16x2048-scale6", "float16", [16, 2048], -1, 6.0, 20, ""),
    ("f16-4x32000-scale8", "float16", [4, 32000], -1, 8.0, 21, "vocabulary-sized rows: most probabilities underflow float16"),
    ("f16-128x64-dim0-scale2", "float16", [128, 64], 0, 2.0, 22, "softmax over dim 0"),
    ("f32-8x4096-scale10", "float32", [8, 4096], -1, 10.0, 23, ""),
    ("bf16-2x16x64-dim1-scale5", "bfloat16", [2, 16, 64], 1, 5.0, 24, "a 3-d tensor, softmax over the middle dim"),
    ("bf16-4x512-scale30", "bfloat16", [4, 512], -1, 30.0, 25, "peaked rows: one or two logits dominate each row"),
]


def as_list(t: torch.Tensor) -> list:
    """Exact float64 values of t as nested lists of Python floats."""
    return t.detach().to(torch.float64).tolist()


def make_fixture(name, dtype_name, shape, dim, scale, seed, description) -> dict:
    dtype = DTYPES[dtype_name]
    torch.manual_seed(seed)
    x = (torch.randn(shape, dtype=torch.float64) * scale).to(dtype)
    g = torch.randn(shape, dtype=torch.float64).to(dtype)
    if dtype == torch.float16:
        # CPU softmax has no Half kernel in PyTorch 1.13: compute in float32, round the outputs.
        x32 = x.to(torch.float32).requires_grad_(True)
        softmax = torch.softmax(x32, dim=dim)
        softmax.backward(g.to(torch.float32))
        expected_softmax = softmax.detach().to(torch.float16)
        expected_grad = x32.grad.to(torch.float16)
        source = (
            f"PyTorch {torch.__version__} (Debian python3-torch): torch.softmax in float32 on float16 x, g; "
            "outputs rounded to float16"
        )
    else:
        xr = x.clone().requires_grad_(True)
        softmax = torch.softmax(xr, dim=dim)
        softmax.backward(g)
        expected_softmax = softmax.detach()
        expected_grad = xr.grad
        source = (
            f"PyTorch {torch.__version__} (Debian python3-torch): torch.softmax(x, dim={dim}) "
            f"then .backward(g), dtype {dtype_name}, CPU"
        )
    return {
        "format": "softmax-verify.fixture/v1",
        "name": name,
        "description": description,
        "source": source,
        "dtype": dtype_name,
        "dim": dim,
        "x": as_list(x),
        "g": as_list(g),
        "expected": {"softmax": as_list(expected_softmax), "grad": as_list(expected_grad)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=pathlib.Path, help="directory to write the fixtures into")
    parser.add_argument("names", nargs="*", help="write only these cases (default: all)")
    args = parser.parse_args()
    known = {case[0] for case in CASES}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if args.names and case[0] not in args.names:
            continue
        fixture = make_fixture(*case)
        # Float repr round-trips every value exactly; json.dumps would write NaN/Infinity as bare
        # tokens, but these cases have only finite values.
        path = args.out_dir / f"{case[0]}.json"
        path.write_text(json.dumps(fixture))
        print(f"{path}  {case[1]} {case[2]} dim={case[3]}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes fixtures/mpmath/: softmax and its gradient computed by mpmath at 1000 significant digits
and rounded to the nearest float64, for hand-picked cases where float64 arithmetic struggles.

These are the correctly rounded answers that softmax-verify's reference engines (double-double,
BigNumber) must reproduce bit for bit, computed another way: the textbook formulas, with so many
digits that the cancellation in g_i - <s, g> is harmless. (It needs them: with probabilities of
1e-322, <s, g> = 1 + 4e-322, which 100 digits round to 1.)

Needs mpmath (Debian: python3-mpmath; run with /usr/bin/python3). CI never runs it: its output is
committed.
"""
import json
import math
import pathlib

import mpmath

mpmath.mp.dps = 1000
OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "mpmath"
INF = float("inf")
FINFO_MIN = -1.7976931348623157e308  # torch.finfo(torch.float64).min

CASES = [
    ("seed", "the seed example x = 1..9, g = 11..19", list(range(1, 10)), list(range(11, 20))),
    ("issue-195684", "PyTorch issue 195684: one probability is 1 - 5.55e-17, g - <s, g> cancels",
     [37.43, 0.0], [1.0, 0.0]),
    ("equal-logits", "equal logits: exact thirds, and a gradient entry that is exactly 0",
     [3.0, 3.0, 3.0], [0.0, 1.0, 2.0]),
    ("subnormal-probabilities", "probabilities and gradients below the float64 normal range",
     [0.0, -740.0, -745.5, -INF], [1.0, 2.0, 3.0, 4.0]),
    ("wide-spread", "logits spread over 60 units, g of mixed sign",
     [math.sin(i) * 30 for i in range(12)], [math.cos(i * 1.7) for i in range(12)]),
    ("near-one-hot", "one logit 50 above the rest",
     [50.0, 0.0, -1.0, 0.5], [0.3, -2.0, 1.0, 4.0]),
    ("exact-tie", "equal logits: the gradient 3g/16 lies exactly half way between two float64s",
     [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.3831588799858851e-18]),
    ("structural-zero", "symmetric g over equal logits: the first gradient is exactly 0",
     [0.0, 1.0, 1.0], [0.0, 1.0, -1.0]),
    ("finfo-min-mask", "a torch.finfo(float64).min mask, as Hugging Face models mask attention: its "
     "probability rounds to +0 and its gradient to a zero of the sign of g_i - <s, g> (here -0)",
     [0.3, 0.3, FINFO_MIN, -1.0], [1.0, 0.0, 0.0, 0.0]),
    ("finfo-min-overflow", "logits at both ends of float64: x_i - max overflows to -inf for two of "
     "them, whose gradients are zeros of opposite signs",
     [1e308, FINFO_MIN, 3.0, -1e308], [1.0, 0.0, 2.0, 5.0]),
]


def reference(x, g):
    xs = [mpmath.mpf(v) for v in x]  # mpf of a float is exact
    top = max(v for v in xs if v != -mpmath.inf)
    e = [mpmath.mpf(0) if v == -mpmath.inf else mpmath.exp(v - top) for v in xs]
    total = mpmath.fsum(e)
    s = [v / total for v in e]
    dot = mpmath.fsum(si * mpmath.mpf(gi) for si, gi in zip(s, g))
    grad = [si * (mpmath.mpf(gi) - dot) for si, gi in zip(s, g)]
    return [float(v) for v in s], [float(v) for v in grad]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, description, x, g in CASES:
        softmax, grad = reference(x, g)
        fixture = {
            "format": "softmax-verify.fixture/v1",
            "name": f"mpmath-{name}",
            "description": description,
            "source": f"mpmath {mpmath.__version__} at {mpmath.mp.dps} significant digits, "
            "textbook formulas, each result rounded to the nearest float64",
            "dtype": "float64",
            "dim": -1,
            "x": [float(v) for v in x],
            "g": [float(v) for v in g],
            "expected": {"softmax": softmax, "grad": grad},
        }
        (OUT / f"{name}.json").write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()

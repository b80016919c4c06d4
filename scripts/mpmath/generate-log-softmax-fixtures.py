#!/usr/bin/env python3
"""Writes fixtures/mpmath/log-softmax-*.json: log_softmax and its gradient computed by mpmath at 1000
significant digits and rounded to the nearest float64, for hand-picked cases where float64
arithmetic struggles. The companion of generate-reference-fixtures.py (softmax), same format (v1)
plus "op": "log_softmax".

The formulas, along the fixture's dim, with m = max x over the finite logits:
    y_i  = x_i - m - ln S,          S = sum_j exp(x_j - m)   (-inf logits: y_i = -inf, left out of S)
    dx_i = g_i - exp(y_i) * G,      G = sum_j g_j            (every j, masked ones too)
exp(y_i) is taken as exp(x_i - m) / S, the same real number, so that it is exact whenever it is
rational (equal logits: exactly 1/n); for a masked logit it is 0 and dx_i = g_i.
Every input is a float64, so mpf(x) is exact and x_i - m is exact at this precision.

Rounding to float64: not mpmath's float(), which rounds the mantissa to 53 bits and then calls
math.ldexp, rounding twice for results in the subnormal range. round_to_float64() (float64_rounding.py) takes the
mpf's exact binary value (sign, odd mantissa, exponent), picks the float64 grid spacing for that
magnitude (2^(e-52) for normals, 2^-1074 for subnormals), and rounds the integer mantissa to that
grid by hand, half to even; a negative value that rounds to zero gives -0.0, anything at or past
the largest finite float64 plus half an ulp gives +-inf. Guards: every result is computed again at
1200 digits and must round to the same float64, and a result within 2^-3000 ulp of a midpoint
between two float64s is refused unless it is exactly on it (then the arithmetic was exact, as with
the rational exp(y_i) of equal logits, and ties-to-even decides).

Needs mpmath (Debian: python3-mpmath; run with /usr/bin/python3). CI never runs it: its output is
committed.  Run: /usr/bin/python3 scripts/mpmath/generate-log-softmax-fixtures.py
"""
import json
import math
import pathlib
import random

import mpmath

DPS = 1000
CHECK_DPS = 1200
OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "mpmath"
INF = float("inf")
FINFO_MIN = -1.7976931348623157e308  # torch.finfo(torch.float64).min
SOURCE = (
    f"mpmath {mpmath.__version__} at {DPS} significant digits: "
    "y_i = x_i - m - ln sum_j exp(x_j - m) with m = max x (-inf logits: y = -inf, left out of the sum), "
    "dx_i = g_i - exp(y_i) * sum_j g_j with exp(y_i) = exp(x_i - m) / sum_j exp(x_j - m); "
    "each result rounded to the nearest float64, ties to even, by integer arithmetic on the exact "
    "binary value (not float(mpf)); checked against a recomputation at "
    f"{CHECK_DPS} digits"
)

from float64_rounding import NOTES, round_to_float64  # noqa: E402 (this folder is on sys.path)


def log_softmax_1d(x, g):
    """y and dx of one slice, as mpfs at the current precision."""
    xs = [mpmath.mpf(v) for v in x]  # exact: every x is a float64
    finite = [v for v in xs if v != -mpmath.inf]
    m = max(finite)
    e = [mpmath.mpf(0) if v == -mpmath.inf else mpmath.exp(v - m) for v in xs]
    s = mpmath.fsum(e)
    ln_s = mpmath.log(s)
    y = [-mpmath.inf if v == -mpmath.inf else (v - m) - ln_s for v in xs]
    total_g = mpmath.fsum(mpmath.mpf(v) for v in g)
    grad = [mpmath.mpf(gi) - (ei / s) * total_g for gi, ei in zip(g, e)]
    return y, grad


def slices(shape, dim):
    """Index lists of the slices along dim of a 1-d or 2-d array (flat, row-major indices)."""
    if len(shape) == 1:
        return [list(range(shape[0]))]
    rows, cols = shape
    if dim in (-1, 1):
        return [[r * cols + c for c in range(cols)] for r in range(rows)]
    return [[r * cols + c for r in range(rows)] for c in range(cols)]


def flat(a):
    return [v for row in a for v in row] if a and isinstance(a[0], list) else list(a)


def unflat(values, shape):
    if len(shape) == 1:
        return values
    return [values[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]


def reference(name, x, g, dim):
    shape = [len(x), len(x[0])] if isinstance(x[0], list) else [len(x)]
    xf, gf = flat(x), flat(g)
    results = {}
    for dps in (DPS, CHECK_DPS):
        with mpmath.workdps(dps):
            y = [None] * len(xf)
            dx = [None] * len(xf)
            for idx in slices(shape, dim):
                ys, dxs = log_softmax_1d([xf[i] for i in idx], [gf[i] for i in idx])
                for i, a, b in zip(idx, ys, dxs):
                    y[i], dx[i] = a, b
            tag = "" if dps == DPS else f" (at {dps} digits)"
            results[dps] = (
                [round_to_float64(v, f"{name} log_softmax[{i}]{tag}") for i, v in enumerate(y)],
                [round_to_float64(v, f"{name} grad[{i}]{tag}") for i, v in enumerate(dx)],
            )
    main, check = results[DPS], results[CHECK_DPS]
    for a, b in zip(main[0] + main[1], check[0] + check[1]):
        if not (a == b and math.copysign(1, a) == math.copysign(1, b)):
            raise ArithmeticError(f"{name}: {DPS} and {CHECK_DPS} digits round differently: {a!r} vs {b!r}")
    return unflat(main[0], shape), unflat(main[1], shape)


def rng(seed):
    return random.Random(seed)  # Mersenne Twister: random() and gauss() give the same stream on every CPython 3


def nearest_softmax(x):
    """The float64 nearest to each softmax(x)_i: g for the second cancellation row."""
    with mpmath.workdps(DPS):
        e = [mpmath.exp(mpmath.mpf(v) - max(x)) for v in x]
        s = mpmath.fsum(e)
        return [round_to_float64(v / s, "cancellation g") for v in e]


def cases():
    r = rng(5)
    wide_x = [[r.uniform(-300.0, 300.0) for _ in range(12)] for _ in range(2)]
    wide_g = [[r.uniform(-1.0, 1.0) for _ in range(12)] for _ in range(2)]
    r = rng(6)
    large_x = [1e4 + r.uniform(-15.0, 15.0) for _ in range(16)]
    large_g = [r.gauss(0.0, 1.0) for _ in range(16)]
    r = rng(8)
    # Rounded to 4 decimals (x and g are then the float64s nearest those decimals, still exact inputs)
    # so that the file stays under 150 kB.
    many_x = [round(r.gauss(0.0, 5.0), 4) for _ in range(2000)]
    many_g = [round(r.gauss(1.0, 1.0), 4) for _ in range(2000)]
    r = rng(9)
    dim0_x = [[r.gauss(0.0, 3.0) for _ in range(3)] for _ in range(5)]
    dim0_g = [[r.gauss(0.0, 1.0) for _ in range(3)] for _ in range(5)]
    tilted = [1.0, 2.0, 3.0, 4.0]
    return [
        ("seed", "the seed example x = 1..9, g = 11..19", -1,
         [float(v) for v in range(1, 10)], [float(v) for v in range(11, 20)]),
        ("near-one-hot", "one logit 40 above the rest: y there is -ln(1 + 3e^-40), about -1.3e-17; "
         "the others about -40", -1,
         [40.0, 0.0, 0.0, 0.0], [1.0, 0.5, 0.25, 2.0]),
        ("one-hot-extreme", "one logit 800 above the rest: y there is about -e^-800 = -3.7e-348, "
         "whose nearest float64 is -0.0", -1,
         [800.0, 0.0, -5.0], [1.0, 2.0, 3.0]),
        ("cancellation", "dx_i = g_i - exp(y_i) sum g cancels: row 1 equal logits with "
         "g = 1/4 (last + 2^-40), dx exactly -2^-42 and 3 * 2^-42; row 2 g = softmax(x) rounded "
         "to float64, dx about 1e-17 against terms about 0.1", -1,
         [[0.0, 0.0, 0.0, 0.0], tilted],
         [[0.25, 0.25, 0.25, 0.25 + 2.0 ** -40], nearest_softmax(tilted)]),
        ("wide-spread", "2 rows of 12 logits uniform in [-300, 300], g uniform in [-1, 1] "
         "(Python random.Random(5)): y down to about -600, dx mostly g_i", -1, wide_x, wide_g),
        ("large-logits", "16 logits 1e4 + uniform [-15, 15], g ~ N(0, 1) (Python random.Random(6)): "
         "x - max x loses nothing but y = x - m - ln S must keep its low bits", -1, large_x, large_g),
        ("masked", "-inf logits (not all) are masked: y = -inf there and dx = g; x and g as "
         "fixtures/pytorch/masked.json", -1,
         [0.5, -INF, 1.5, -INF, 2.0, 0.0], [1.0, 2.0, -1.0, 4.0, 0.5, 3.0]),
        ("many", "2000 logits ~ N(0, 5^2), g ~ N(1, 1) (Python random.Random(8)), both rounded to "
         "4 decimals: long sums", -1, many_x, many_g),
        ("dim0", "log_softmax along dim 0 of a 5x3 array, x ~ N(0, 3^2), g ~ N(0, 1) "
         "(Python random.Random(9))", 0, dim0_x, dim0_g),
        ("finfo-min-mask", "torch.finfo(float64).min masks: y = x_i - m - ln S keeps x_i's bits (row 1) "
         "or overflows to -inf (row 2, beside 1e308); dx_i = g_i - exp(y_i) sum g is g_i, or a zero of "
         "-sum g's sign where g_i = 0", -1,
         [[0.3, 0.3, FINFO_MIN, -1.0], [1e308, FINFO_MIN, 3.0, -1e308]],
         [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0]]),
    ]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, description, dim, x, g in cases():
        y, grad = reference(name, x, g, dim)
        fixture = {
            "format": "softmax-verify.fixture/v1",
            "name": f"mpmath-log-softmax-{name}",
            "op": "log_softmax",
            "description": description,
            "source": SOURCE,
            "dtype": "float64",
            "dim": dim,
            "x": x,
            "g": g,
            "expected": {"log_softmax": y, "grad": grad},
        }
        path = OUT / f"log-softmax-{name}.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size} bytes")
    for note in dict.fromkeys(NOTES):
        if "digits)" not in note:  # the 1200-digit check's notes repeat the 1000-digit ones
            print("note:", note)


if __name__ == "__main__":
    main()

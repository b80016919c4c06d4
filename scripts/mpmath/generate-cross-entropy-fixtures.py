#!/usr/bin/env python3
"""Writes fixtures/mpmath/cross-entropy-*.json: torch.nn.functional.cross_entropy's loss and its
gradient computed by mpmath at 1000 significant digits and rounded to the nearest float64, for
float64 cases (index and probability targets, every reduction, weights, label smoothing,
ignore_index, a spatial [N, C, L] input, a single sample, a near-perfect prediction, large logits).
The companion of generate-log-softmax-fixtures.py, same format (v1) with "op": "cross_entropy" and
the fields target, reduction, label_smoothing, ignore_index (index targets), weight, g and
expected.loss / expected.grad.

The definitions (PyTorch 1.13's, mathematically), along the class dim, for every sample n (every
position of the other dims), C classes, w_c the class weights (1 without), eps the label smoothing:
    y_c   = x_c - m - ln S,  S = sum_j exp(x_j - m),  m = max_j x_j      (log_softmax of the sample)
    q_c   = (1 - eps) [c = t] + eps / C               (class-index target t)
    q_c   = (1 - eps) p_c + eps / C                   (probability target p)
    q     = 0 when t == ignore_index (the sample is ignored: it does not count in D)
    loss_n = -sum_c w_c q_c y_c
    mean:  L = sum_n loss_n / D,  D = sum over counted n of w_{t_n} (index targets), or N, the
           number of samples (probability targets);   sum: D = 1;   none: loss_n itself
    scale_n = g / D (mean, sum; g one number) or g_n (none)
    grad_{n,c} = scale_n (s_c W_n - w_c q_c),  s_c = exp(y_c) = exp(x_c - m) / S,  W_n = sum_c w_c q_c
eps, the weights, g, x and p are float64s taken at their exact binary values, so q, W, D and every
scale_n * W_n and scale_n * w_c * q_c are exact rationals (Python fractions.Fraction); each of those
is converted to an mpf once (one rounding at the working precision). Only exp, ln and the products
with them are rounded, at 1000 digits; the near-perfect case's cancellation s_t W - w_t q_t
(about 1e-17 of 1) costs 17 of those digits.

Rounding to float64: by integer arithmetic on the mpf's exact binary value, half to even, as
generate-log-softmax-fixtures.py does (round_to_float64 below is a copy of its function): not
float(mpf), which rounds twice in the subnormal range; a negative value rounding to zero gives -0.0.
Guards: everything is computed again at 1200 digits and must round to the same float64 (sign of
zero included), and a result within 2^-3000 ulp of a midpoint between two float64s is refused unless
it is exactly on it.

Needs mpmath (Debian: python3-mpmath; run with /usr/bin/python3). CI never runs it: its output is
committed.  Run: /usr/bin/python3 scripts/mpmath/generate-cross-entropy-fixtures.py
With --check-torch it also runs torch.nn.functional.cross_entropy (float64, CPU) on every case and
prints the largest distance in ulps from the mpmath values (for information; the files do not
depend on it).
"""
import itertools
import json
import math
import pathlib
import random
import sys
from fractions import Fraction

import mpmath

FINFO_MIN = -1.7976931348623157e308  # torch.finfo(torch.float64).min
DPS = 1000
CHECK_DPS = 1200
OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "mpmath"
SOURCE = (
    f"mpmath {mpmath.__version__} at {DPS} significant digits, torch.nn.functional.cross_entropy's "
    "definition (PyTorch 1.13): per sample n along dim, y = log_softmax(x_n) = x_c - m - ln sum_j "
    "exp(x_j - m) (m = max x_n); q_c = (1 - label_smoothing)[c = t_n] + label_smoothing/C (class "
    "index t_n), or (1 - label_smoothing) p_c + label_smoothing/C (probabilities p), q = 0 for "
    "t_n == ignore_index; loss_n = -sum_c w_c q_c y_c (w = weight, 1 without); mean: sum_n loss_n / D "
    "with D = sum of w_{t_n} over the samples not ignored (index targets) or the number of samples "
    "(probabilities), sum: D = 1, none: loss_n; grad = scale_n (s_c sum_j w_j q_j - w_c q_c) with "
    "s = exp(y) = exp(x_c - m) / sum_j exp(x_j - m), scale_n = g / D (mean, sum) or g_n (none); "
    "x, p, g, weight and label_smoothing taken at their exact float64 values, q, D and the scales as "
    "exact fractions; each result rounded to the nearest float64, ties to even, by integer arithmetic "
    "on the exact binary value (not float(mpf)); checked against a recomputation at "
    f"{CHECK_DPS} digits"
)

from float64_rounding import NOTES, round_to_float64  # noqa: E402 (this folder is on sys.path)


def to_mpf(r):
    """A Fraction as an mpf: one rounding at the current precision (none when r is dyadic and short)."""
    return mpmath.mpf(r.numerator) / r.denominator


# --- shapes ---------------------------------------------------------------------------------------

def shape_of(a):
    shape = []
    while isinstance(a, list):
        shape.append(len(a))
        a = a[0]
    return shape


def flat(a):
    return [v for item in a for v in flat(item)] if isinstance(a, list) else [a]


def unflat(values, shape):
    if not shape:
        return values[0]
    if len(shape) == 1:
        return list(values)
    step = len(values) // shape[0]
    return [unflat(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def strides(shape):
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= n
    return out[::-1]


def samples(shape, dim):
    """For every sample (position of the non-class dims, row-major), the flat indices of its classes."""
    st = strides(shape)
    others = [range(n) for d, n in enumerate(shape) if d != dim]
    result = []
    for pos in itertools.product(*others):
        pos = list(pos)
        base = sum(p * st[d] for p, d in zip(pos, [d for d in range(len(shape)) if d != dim]))
        result.append([base + c * st[dim] for c in range(shape[dim])])
    return result


# --- the computation ------------------------------------------------------------------------------

def cross_entropy(case, dps):
    """loss (mpf, or list of mpf for none) and grad (flat list of mpf) at dps digits."""
    x = flat(case["x"])
    shape, dim = shape_of(case["x"]), case["dim"]
    sample_idx = samples(shape, dim)
    classes = shape[dim]
    n_samples = len(sample_idx)
    soft = case["kind"] == "soft"
    targets = flat(case["target"])  # index: one per sample; soft: x's shape, flat like x
    eps = Fraction(case.get("label_smoothing", 0.0))
    weight = [Fraction(w) for w in case["weight"]] if "weight" in case else [Fraction(1)] * classes
    ignore = case.get("ignore_index", -100)
    reduction = case["reduction"]

    # The exact rational part: q, W, D, the scales.
    a = []  # a[n][c] = w_c q_c
    counted = []
    for n, idx in enumerate(sample_idx):
        if soft:
            q = [(1 - eps) * Fraction(targets[i]) + eps / classes for i in idx]
            counted.append(True)
        elif targets[n] == ignore:
            q = [Fraction(0)] * classes
            counted.append(False)
        else:
            t = targets[n]
            q = [(1 - eps) * (c == t) + eps / classes for c in range(classes)]
            counted.append(True)
        a.append([w * qc for w, qc in zip(weight, q)])
    if reduction == "mean":
        d = Fraction(n_samples) if soft else sum(weight[targets[n]] for n in range(n_samples) if counted[n])
    else:
        d = Fraction(1)
    if reduction == "none":
        g = flat(case["g"])
        scales = [Fraction(v) for v in g]
    else:
        scales = [Fraction(case["g"]) / d] * n_samples

    with mpmath.workdps(dps):
        grad = [None] * len(x)
        losses = []
        for n, idx in enumerate(sample_idx):
            xs = [mpmath.mpf(x[i]) for i in idx]  # exact
            m = max(xs)
            e = [mpmath.exp(v - m) for v in xs]
            s_sum = mpmath.fsum(e)
            ln_s = mpmath.log(s_sum)
            y = [(v - m) - ln_s for v in xs]
            losses.append(-mpmath.fsum(to_mpf(ac) * yc for ac, yc in zip(a[n], y) if ac != 0))
            big_w = sum(a[n], Fraction(0))
            sw = to_mpf(scales[n] * big_w)
            for i, ec, ac in zip(idx, e, a[n]):
                grad[i] = (ec / s_sum) * sw - to_mpf(scales[n] * ac)
        if reduction == "none":
            loss = losses
        else:
            loss = mpmath.fsum(losses) / to_mpf(d)
    return loss, grad


def reference(case):
    name = case["name"]
    shape = shape_of(case["x"])
    results = {}
    for dps in (DPS, CHECK_DPS):
        loss, grad = cross_entropy(case, dps)
        tag = "" if dps == DPS else f" (at {dps} digits)"
        if isinstance(loss, list):
            loss_f = [round_to_float64(v, f"{name} loss[{i}]{tag}") for i, v in enumerate(loss)]
        else:
            loss_f = [round_to_float64(loss, f"{name} loss{tag}")]
        grad_f = [round_to_float64(v, f"{name} grad[{i}]{tag}") for i, v in enumerate(grad)]
        results[dps] = (loss_f, grad_f)
    main, check = results[DPS], results[CHECK_DPS]
    for a, b in zip(main[0] + main[1], check[0] + check[1]):
        if not (a == b and math.copysign(1, a) == math.copysign(1, b)):
            raise ArithmeticError(f"{name}: {DPS} and {CHECK_DPS} digits round differently: {a!r} vs {b!r}")
    loss_f, grad_f = main
    if case["reduction"] == "none":
        loss_out = unflat(loss_f, [n for d, n in enumerate(shape) if d != case["dim"]])
    else:
        loss_out = loss_f[0]
    return loss_out, unflat(grad_f, shape)


# --- the cases ------------------------------------------------------------------------------------

def rng(seed):
    return random.Random(seed)  # Mersenne Twister: random() and gauss() give the same stream on every CPython 3


def nearest_softmax(logits):
    """The float64 nearest to each softmax(logits)_i (probability targets)."""
    with mpmath.workdps(DPS):
        xs = [mpmath.mpf(v) for v in logits]
        m = max(xs)
        e = [mpmath.exp(v - m) for v in xs]
        s = mpmath.fsum(e)
        return [round_to_float64(v / s, "probability target") for v in e]


def matrix(r, rows, cols, mu, sigma):
    return [[r.gauss(mu, sigma) for _ in range(cols)] for _ in range(rows)]


def cases():
    out = []

    r = rng(101)
    out.append(dict(
        name="index-mean", kind="index",
        description="class-index targets, reduction mean: x [4, 6] ~ N(0, 3^2), targets uniform in 0..5 "
                    "(Python random.Random(101)), g 0.7",
        dim=1, x=matrix(r, 4, 6, 0.0, 3.0), target=[r.randrange(6) for _ in range(4)],
        reduction="mean", label_smoothing=0.0, ignore_index=-100, g=0.7))

    r = rng(102)
    x = matrix(r, 5, 7, 0.0, 3.0)
    out.append(dict(
        name="index-sum-weight-smoothing", kind="index",
        description="class-index targets, weights uniform in [0.5, 2), label_smoothing 0.1 (its float64), "
                    "reduction sum: x [5, 7] ~ N(0, 3^2) (Python random.Random(102)), g 1.3",
        dim=1, x=x, target=[r.randrange(7) for _ in range(5)],
        reduction="sum", label_smoothing=0.1, ignore_index=-100,
        weight=[r.uniform(0.5, 2.0) for _ in range(7)], g=1.3))

    r = rng(103)
    x = matrix(r, 6, 5, 0.0, 3.0)
    target = [r.randrange(5) for _ in range(6)]
    target[1] = target[4] = -100
    out.append(dict(
        name="index-none-ignore", kind="index",
        description="class-index targets, reduction none, samples 1 and 4 ignored (ignore_index -100): "
                    "loss 0 and grad 0 there; x [6, 5] ~ N(0, 3^2), g per sample ~ N(0, 1) "
                    "(Python random.Random(103))",
        dim=1, x=x, target=target, reduction="none", label_smoothing=0.0, ignore_index=-100,
        g=[r.gauss(0.0, 1.0) for _ in range(6)]))

    r = rng(104)
    x = matrix(r, 6, 8, 0.0, 3.0)
    target = [r.choice([0, 1, 2, 4, 5, 6, 7]) for _ in range(6)]
    target[0] = target[3] = 3
    out.append(dict(
        name="mean-weight-smoothing-ignore", kind="index",
        description="class-index targets, weights uniform in [0.5, 2), label_smoothing 0.2, ignore_index 3 "
                    "(samples 0 and 3), reduction mean (divided by the weights of the 4 counted targets): "
                    "x [6, 8] ~ N(0, 3^2) (Python random.Random(104)), g 1",
        dim=1, x=x, target=target, reduction="mean", label_smoothing=0.2, ignore_index=3,
        weight=[r.uniform(0.5, 2.0) for _ in range(8)], g=1.0))

    r = rng(105)
    x = matrix(r, 4, 6, 0.0, 3.0)
    p = [nearest_softmax(row) for row in matrix(r, 4, 6, 0.0, 2.0)]
    out.append(dict(
        name="soft-mean", kind="soft",
        description="probability targets (softmax of logits ~ N(0, 2^2), each rounded to the nearest "
                    "float64, so a row sums to 1 only within rounding: taken as written), reduction mean "
                    "(divided by the 4 samples): x [4, 6] ~ N(0, 3^2) (Python random.Random(105)), g 0.9",
        dim=1, x=x, target=p, reduction="mean", label_smoothing=0.0, g=0.9))

    r = rng(106)
    x = matrix(r, 3, 5, 0.0, 3.0)
    p = [nearest_softmax(row) for row in matrix(r, 3, 5, 0.0, 2.0)]
    out.append(dict(
        name="soft-none-weight-smoothing", kind="soft",
        description="probability targets (softmax of logits ~ N(0, 2^2) rounded to float64), weights "
                    "uniform in [0.5, 2), label_smoothing 0.25, reduction none: x [3, 5] ~ N(0, 3^2), "
                    "g per sample ~ N(0, 1) (Python random.Random(106))",
        dim=1, x=x, target=p, reduction="none", label_smoothing=0.25,
        weight=[r.uniform(0.5, 2.0) for _ in range(5)], g=[r.gauss(0.0, 1.0) for _ in range(3)]))

    r = rng(107)
    x = [matrix(r, 4, 3, 0.0, 3.0) for _ in range(2)]
    target = [[r.randrange(4) for _ in range(3)] for _ in range(2)]
    target[1][1] = -100
    out.append(dict(
        name="spatial", kind="index",
        description="x [2, 4, 3] (N, C, L), classes along dim 1, class-index targets [2, 3] with position "
                    "[1, 1] ignored (ignore_index -100), reduction mean over the 5 counted positions: "
                    "x ~ N(0, 3^2) (Python random.Random(107)), g 1",
        dim=1, x=x, target=target, reduction="mean", label_smoothing=0.0, ignore_index=-100, g=1.0))

    r = rng(108)
    out.append(dict(
        name="single-sample", kind="index",
        description="a single sample: x [10], classes along dim 0, target one integer, reduction mean: "
                    "x ~ N(0, 3^2), target uniform in 0..9 (Python random.Random(108)), g 1",
        dim=0, x=[r.gauss(0.0, 3.0) for _ in range(10)], target=r.randrange(10),
        reduction="mean", label_smoothing=0.0, ignore_index=-100, g=1.0))

    r = rng(109)
    x = matrix(r, 3, 4, 0.0, 1.0)
    target = [r.randrange(4) for _ in range(3)]
    for row, t in zip(x, target):
        row[t] = max(v for c, v in enumerate(row) if c != t) + 40.0
    out.append(dict(
        name="near-perfect", kind="index",
        description="the target logit = the largest other + 40 (in float64; others ~ N(0, 1), Python "
                    "random.Random(109)), reduction mean: loss about 1e-17, and the target's gradient "
                    "(s_t - 1)/3 about -1e-17 cancels in s_t W - w_t q_t; g 1",
        dim=1, x=x, target=target, reduction="mean", label_smoothing=0.0, ignore_index=-100, g=1.0))

    r = rng(110)
    out.append(dict(
        name="large-logits", kind="index",
        description="x [3, 8] ~ 1000 + N(0, 20^2), reduction sum: x - max x is exact but y = x - m - ln S "
                    "must keep its low bits (Python random.Random(110)); g 1",
        dim=1, x=matrix(r, 3, 8, 1000.0, 20.0), target=[r.randrange(8) for _ in range(3)],
        reduction="sum", label_smoothing=0.0, ignore_index=-100, g=1.0))

    out.append(dict(
        name="finfo-min-mask", kind="index",
        description="torch.finfo(float64).min masks, as Hugging Face models mask: a masked class beside "
                    "small logits, one as the largest non-target class, one beside 1e308 (x - max "
                    "overflows); reduction mean, g 1",
        dim=1, x=[[0.0, 0.0, FINFO_MIN], [FINFO_MIN, 2.0, 1.0], [1e308, FINFO_MIN, -1e308]], target=[0, 1, 0],
        reduction="mean", label_smoothing=0.0, ignore_index=-100, g=1.0))
    return out


# --- optional cross-check with PyTorch --------------------------------------------------------------

def ulps(a, b):
    if a == b:
        return 0
    import struct

    def key(f):
        i = struct.unpack("<q", struct.pack("<d", f))[0]
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)
    return abs(key(a) - key(b))


def check_torch(case, loss, grad):
    import torch
    import torch.nn.functional as F
    x = torch.tensor(case["x"], dtype=torch.float64, requires_grad=True)
    if case["kind"] == "soft":
        target = torch.tensor(case["target"], dtype=torch.float64)
    else:
        target = torch.tensor(case["target"], dtype=torch.long)
    weight = torch.tensor(case["weight"], dtype=torch.float64) if "weight" in case else None
    kwargs = dict(weight=weight, reduction=case["reduction"], label_smoothing=case["label_smoothing"])
    if case["kind"] == "index":
        kwargs["ignore_index"] = case["ignore_index"]
    out = F.cross_entropy(x, target, **kwargs)
    out.backward(torch.tensor(case["g"], dtype=torch.float64))
    t_loss = flat(out.tolist()) if isinstance(out.tolist(), list) else [out.item()]
    t_grad = flat(x.grad.tolist())
    ours_loss = flat(loss) if isinstance(loss, list) else [loss]

    def distance(theirs, ours):
        worst = max(abs(a - b) for a, b in zip(theirs, ours))
        scale = math.ulp(max(abs(v) for v in ours))
        return (f"max |torch - mpmath| {worst:.3g} = {worst / scale:.3g} ulp of the largest |value|, "
                f"{max(ulps(a, b) for a, b in zip(theirs, ours))} ulp elementwise")
    print(f"  torch {torch.__version__} loss: {distance(t_loss, ours_loss)}")
    print(f"  torch {torch.__version__} grad: {distance(t_grad, flat(grad))}")


def main() -> None:
    with_torch = "--check-torch" in sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    for case in cases():
        loss, grad = reference(case)
        fixture = {
            "format": "softmax-verify.fixture/v1",
            "name": f"mpmath-cross-entropy-{case['name']}",
            "op": "cross_entropy",
            "description": case["description"],
            "source": SOURCE,
            "dtype": "float64",
            "dim": case["dim"],
            "x": case["x"],
            "target": case["target"],
            "reduction": case["reduction"],
            "label_smoothing": case["label_smoothing"],
        }
        if case["kind"] == "index":
            fixture["ignore_index"] = case["ignore_index"]
        if "weight" in case:
            fixture["weight"] = case["weight"]
        fixture["g"] = case["g"]
        fixture["expected"] = {"loss": loss, "grad": grad}
        path = OUT / f"cross-entropy-{case['name']}.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size} bytes")
        if with_torch:
            check_torch(case, loss, grad)
    for note in dict.fromkeys(NOTES):
        if "digits)" not in note:  # the 1200-digit check's notes repeat the 1000-digit ones
            print("note:", note)


if __name__ == "__main__":
    main()

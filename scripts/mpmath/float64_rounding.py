"""The float64 nearest to an mpmath number, ties to even, by integer arithmetic on its exact binary
value (not float(mpf), which rounds twice below the normal range); shared by the mpmath fixture
generators of this folder, which note here the roundings that needed care."""
import math

import mpmath

INF = float("inf")

# Notes of the roundings that needed care, printed at the end.
NOTES = []


def round_to_float64(v, where):
    """The float64 nearest to the mpf v, ties to even, computed with integers (see the docstring)."""
    if mpmath.isinf(v):
        return INF if v > 0 else -INF
    sign, man, exp, bc = v._mpf_
    if man == 0:
        return 0.0  # mpmath has no -0: an mpf zero is an exact +0
    lead = exp + bc - 1  # |v| lies in [2^lead, 2^(lead+1))
    if lead <= -1076:
        # Below half the least subnormal (e.g. exp of a torch.finfo.min mask, 2^(-2.6e308)): a
        # zero of v's sign, without shifting by the exponent's own size.
        NOTES.append(f"{where}: far below the subnormals, underflows to {'-' if sign else ''}0.0")
        return -0.0 if sign else 0.0
    q = max(lead - 52, -1074)  # the float64 grid spacing at this magnitude is 2^q
    if exp >= q:
        n = man << (exp - q)
    else:
        shift = q - exp
        n = man >> shift
        rem = man - (n << shift)
        half = 1 << (shift - 1)
        if rem == half:
            NOTES.append(f"{where}: exactly half way between two float64s, ties to even")
        elif abs(rem - half) << 3000 < (1 << shift):
            raise ArithmeticError(f"{where}: within 2^-3000 ulp of a float64 midpoint, not decidable here")
        elif abs(rem - half) << 20 < (1 << shift):
            off = mpmath.mpf(rem - half) / (1 << shift)
            NOTES.append(f"{where}: {mpmath.nstr(off, 3)} ulp from the midpoint between two float64s "
                         "(a float64 computation that lands on the midpoint rounds it to even, maybe wrongly)")
        if rem > half or (rem == half and n & 1):
            n += 1
    if n == 0:
        NOTES.append(f"{where}: {mpmath.nstr(v, 5)} underflows to {'-' if sign else ''}0.0")
        return -0.0 if sign else 0.0
    if lead >= 1024 or n * 2 ** q >= 2 ** 1024:
        return -INF if sign else INF
    if q == -1074 and n < 2 ** 52:
        NOTES.append(f"{where}: {mpmath.nstr(v, 5)} is subnormal in float64")
    f = math.ldexp(n, q)  # exact: n < 2^54 and n * 2^q is on the float64 grid
    return -f if sign else f

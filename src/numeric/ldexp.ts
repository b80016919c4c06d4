/**
 * x · 2^k, for any integer k: 2^k alone overflows or underflows beyond ±1023, so the scaling is
 * applied in steps of at most 2^±1000. Exact whenever the result is a normal float64 (or zero);
 * only the last step can round, into the subnormal range.
 */
export function ldexp(x: number, k: number): number {
  if (k === 0) return x;
  // Per-element loops call this: a table of the normal powers of two spares them Math.pow.
  if (k >= -1022 && k <= 1023) return x * POWERS_OF_TWO[k + 1022];
  // An infinite k would never leave the loops below.
  if (!Number.isFinite(k)) return Number.isNaN(k) ? NaN : x * (k > 0 ? Infinity : 0);
  let value = x;
  let rest = k;
  while (rest > 1000) {
    value *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    value *= 2 ** -1000;
    rest += 1000;
  }
  return value * 2 ** rest;
}

const POWERS_OF_TWO = Float64Array.from({ length: 2046 }, (_, i) => 2 ** (i - 1022));

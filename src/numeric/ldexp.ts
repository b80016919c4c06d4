/**
 * x · 2^k, for any integer k: 2^k alone overflows or underflows beyond ±1023, so the scaling is
 * applied in steps of at most 2^±1000. Exact whenever the result is a normal float64 (or zero);
 * only the last step can round, into the subnormal range.
 */
export function ldexp(x: number, k: number): number {
  if (k === 0) return x;
  // Per-element loops call this: a table of the normal powers of two spares them Math.pow.
  if (k >= -1022 && k <= 1023) return x * POWERS_OF_TWO[k + 1022];
  if (Number.isNaN(k)) return NaN;
  // Any float64 but 0 times 2^2200 overflows and times 2^-2200 underflows: a larger |k| (an
  // exponent of exp(-1e130), say) would only keep the loops below busy for ever.
  let value = x;
  let rest = Math.min(Math.max(k, -2200), 2200);
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

/**
 * x · 2^k, for any integer k: 2^k alone overflows or underflows beyond ±1023, so the scaling is
 * applied in steps of at most 2^±1000. Exact whenever the result is a normal float64 (or zero);
 * only the last step can round, into the subnormal range.
 */
export function ldexp(x: number, k: number): number {
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

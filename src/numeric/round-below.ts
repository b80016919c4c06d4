/**
 * RN(t − L) for an exact t = hi + lo (two float64s, |lo| ≤ ulp(hi)/2) and a positive L known only
 * to lie in [lMin, lMax], where L is too small for a double-double t − L to keep it: the case of
 * log_softmax's y_i = (x_i − m) − log S beside a dominant logit, whose log S lies below t's last
 * bit. When t is itself the midpoint between two float64s, the rounding of t − L is that of the
 * value just below the midpoint, whatever L, as long as 0 < L < |lo| (L cannot reach the next
 * midpoint, |lo| further away at least): the neighbour below t.
 *
 * Returns that float64, or NaN when this rule does not decide (t is no midpoint, or L's bounds
 * do not put it strictly inside (0, |lo|)).
 *
 * @example roundBelowMidpoint(1, 2 ** -53, 1e-300, 2e-300) → 1 (t = 1 + 2^-53 is a midpoint)
 */
export function roundBelowMidpoint(hi: number, lo: number, lMin: number, lMax: number): number {
  if (lo === 0 || !(lMin > 0) || !(lMax < Math.abs(lo))) return NaN;
  // The float64 on lo's side of hi: hi + 2·lo when t is the midpoint between them.
  const neighbour = hi + 2 * lo;
  if (neighbour - hi !== 2 * lo || !isAdjacent(hi, neighbour)) return NaN;
  // t − L lies below t: on lo's side of the midpoint when lo < 0 (closer to the neighbour),
  // on hi's when lo > 0.
  return lo < 0 ? neighbour : hi;
}

const BITS = new Float64Array(1);
const WORDS = new BigInt64Array(BITS.buffer);

/** Whether a and b are neighbouring float64s (their bit patterns, as ordered integers, differ by one). */
function isAdjacent(a: number, b: number): boolean {
  return Math.abs(Number(ordered(a) - ordered(b))) === 1;
}

function ordered(v: number): bigint {
  BITS[0] = v;
  const bits = WORDS[0];
  return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
}

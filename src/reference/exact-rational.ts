import { scaledInteger, SCALED_INTEGER_SHIFT } from '../numeric/float64-parts.js';
import { ldexp } from '../numeric/ldexp.js';

/**
 * Exact arithmetic for the slices where softmax is rational: every unmasked logit equal, so each
 * probability is 1/c and the gradient is (c g_i − Σ g) / c² for c unmasked elements. These are
 * common (uniform attention, a freshly initialised layer) and exactly where results land on ties
 * between two float64s, which a rounded high-precision computation cannot break correctly. Here
 * every float64 is an integer multiple of 2^-1074, sums are exact BigInts, and the one division is
 * rounded correctly (to nearest, ties to even), subnormals included.
 */

/** Whether the slice's softmax is rational: all logits that are not -Infinity are equal. */
export function isRationalSlice(x: Float64Array): boolean {
  let first: number | undefined;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    if (first === undefined) first = x[i];
    else if (x[i] !== first) return false;
  }
  return first !== undefined;
}

/** Softmax and gradient of a rational slice (see isRationalSlice), g finite, correctly rounded. */
export function exactRationalSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  let count = 0n;
  let total = 0n;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    count++;
    total += scaledInteger(g[i]);
  }
  const probability = roundRational(1n, count);
  const denominator = count * count << BigInt(SCALED_INTEGER_SHIFT);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) {
      softmax[i] = 0;
      grad[i] = 0;
    } else {
      softmax[i] = probability;
      grad[i] = roundRational(count * scaledInteger(g[i]) - total, denominator);
    }
  }
}

/** The float64 nearest to numerator / denominator (denominator > 0), ties to even. */
export function roundRational(numerator: bigint, denominator: bigint): number {
  if (numerator === 0n) return 0;
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  // Take a quotient of at least 55 bits, so that the 53 kept, the rounding bit and a sticky
  // remainder decide the rounding exactly.
  const shift = 55 - (bitLength(n) - bitLength(denominator));
  const scaledN = shift >= 0 ? n << BigInt(shift) : n;
  const scaledD = shift >= 0 ? denominator : denominator << BigInt(-shift);
  let quotient = scaledN / scaledD;
  const sticky = scaledN % scaledD !== 0n;
  // The value is quotient · 2^-shift; its leading bit has exponent (bits − 1 − shift).
  const exponent = bitLength(quotient) - 1 - shift;
  if (exponent < -1075) return negative ? -0 : 0; // below half the smallest subnormal
  const precision = exponent >= -1022 ? 53 : Math.max(0, exponent + 1075);
  const drop = bitLength(quotient) - precision;
  const power = -shift + drop;
  if (drop > 0) {
    const kept = quotient >> BigInt(drop);
    const remainder = quotient - (kept << BigInt(drop));
    const half = 1n << BigInt(drop - 1);
    const roundUp = remainder > half || (remainder === half && (sticky || (kept & 1n) === 1n));
    quotient = roundUp ? kept + 1n : kept;
  }
  const magnitude = ldexp(Number(quotient), power);
  return negative ? -magnitude : magnitude;
}

function bitLength(value: bigint): number {
  return value.toString(2).length;
}

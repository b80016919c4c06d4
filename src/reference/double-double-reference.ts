import { twoSum } from '../numeric/error-free.js';
import { add, dd, div, expScaled, mul, neg, toNumberScaled, type DD } from '../numeric/double-double.js';
import { ldexp } from '../numeric/ldexp.js';
import { exactRationalSlice, isRationalSlice } from './exact-rational.js';
import { exactZeroGradients } from '../math/exact-zero-gradients.js';
import { gradientDefined, pivotIndex, undefinedSlice } from './reference-slice.js';

/** One rounding of a double-double operation, with a margin (its unit roundoff is about 2^-106). */
const U = 2 ** -104;
/** exp's relative error: nine squarings double the series' error nine times. */
const EXP_ERROR = 2 ** 12 * U;

/**
 * Reference softmax and gradient of one slice in double-double (about 32 significant digits),
 * each result rounded to the nearest float64, with the pivot formulas of `reference-slice.ts`.
 *
 * `x_j − max` is exact as a double-double, and each `e_j = exp(x_j − max)` is kept as `2^k · m`,
 * so that probabilities far below the float64 range keep full precision until their final
 * (subnormal-aware) rounding; the terms of the gradient are formed at a scale near 1.
 *
 * Each result carries an error bound, and the function returns false when some result lies so
 * close to a rounding midpoint that the bound does not decide it (odds of about 2^-35 per element
 * for data without structure, more where g nearly cancels): the caller then asks the BigNumber
 * engine, which can raise its precision until it does.
 */
export function doubleDoubleReferenceSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): boolean {
  if (undefinedSlice(x, g, softmax, grad)) return true;
  if (isRationalSlice(x) && gradientDefined(g)) {
    exactRationalSlice(x, g, softmax, grad);
    return true;
  }
  const n = x.length;
  const p = pivotIndex(x);
  const exponents = new Float64Array(n);
  const mantissas: DD[] = new Array(n);
  let total = dd(1); // e_p = exp(0) = 1 exactly
  for (let j = 0; j < n; j++) {
    if (x[j] === -Infinity) {
      exponents[j] = -Infinity;
      mantissas[j] = dd(0);
    } else if (j === p) {
      exponents[j] = 0;
      mantissas[j] = dd(1);
    } else {
      const { k, m } = expScaled(twoSum(x[j], -x[p]));
      exponents[j] = k;
      mantissas[j] = m;
      total = add(total, scaled(m, k));
    }
  }
  const totalError = EXP_ERROR + n * U;
  let certain = true;
  for (let i = 0; i < n; i++) {
    if (exponents[i] === -Infinity) {
      softmax[i] = 0;
      continue;
    }
    const s = div(mantissas[i], total);
    const error = i === p ? totalError + 2 * U : EXP_ERROR + totalError + 2 * U;
    softmax[i] = toNumberScaled(s, exponents[i]);
    certain &&= roundsUniquely(s, exponents[i], error);
  }
  if (!gradientDefined(g)) return certain;

  // Sums of terms far below 1 would keep few bits in double-double (its low part underflows first),
  // so every term is formed at a scale where the largest is near 1, each exactly scaled.
  // Only g near the float64 limit is scaled down first, where g_j − g_p could overflow.
  const gScale = largestFinite(g) > 2 ** 1000 ? -64 : 0;
  const gs = gScale === 0 ? g : Float64Array.from(g, (v) => v * 2 ** gScale);
  const offsets = Array.from(gs, (v) => twoSum(v, -gs[p])); // g_j − g_p, exact

  // D = Σ_{j≠p} e_j (g_j − g_p), held as D · 2^L with L from its largest term.
  let largestTerm = -Infinity;
  for (let j = 0; j < n; j++) {
    if (j === p || exponents[j] === -Infinity || offsets[j].hi === 0) continue;
    largestTerm = Math.max(largestTerm, exponents[j] + binaryExponent(offsets[j].hi));
  }
  const spreadScale = largestTerm === -Infinity ? 0 : -largestTerm;
  let spread = dd(0);
  let spreadMagnitude = 0; // Σ |terms| of D · 2^L, for its error bound
  for (let j = 0; j < n; j++) {
    if (j === p || exponents[j] === -Infinity || offsets[j].hi === 0) continue;
    const term = mul(mantissas[j], scaled(offsets[j], exponents[j] + spreadScale));
    spread = add(spread, term);
    spreadMagnitude += Math.abs(term.hi);
  }
  const totalSquared = mul(total, total);
  const numeratorError = 2 * EXP_ERROR + (n + 4) * U;
  const zeros = exactZeroGradients(x, g);
  for (let i = 0; i < n; i++) {
    if (exponents[i] === -Infinity || zeros?.[i] === 1) {
      grad[i] = 0;
      continue;
    }
    // N_i = (g_i − g_p) E − D, and dx_i = e_i N_i / E². Both parts of N_i are brought to the scale
    // of the larger, so that it sits near 1; the smaller, if scaled below the float64 range, was
    // negligible, and an absolute 2^-1070 in the bound covers it.
    const offsetScale = offsets[i].hi === 0 ? Infinity : -binaryExponent(offsets[i].hi);
    const scale = Math.min(offsetScale, spreadScale);
    const product = offsets[i].hi === 0 ? dd(0) : mul(scaled(offsets[i], scale), total);
    const subtrahend = scaled(spread, scale - spreadScale);
    const magnitude = Math.abs(product.hi) + ldexp(spreadMagnitude, scale - spreadScale);
    const numerator = add(product, neg(subtrahend));
    const numeratorBound = numeratorError * magnitude + 2 ** -1070;
    // N_i is not 0 (exactZeroGradients found the exact zeros); where it is lost in the rounding
    // noise of forming it, BigNumber, with more digits, decides.
    if (Math.abs(numerator.hi) <= 4 * numeratorBound) certain = false;
    const value = div(mul(mantissas[i], numerator), totalSquared);
    const k = exponents[i] - gScale - scale;
    grad[i] = toNumberScaled(value, k);
    const error = numeratorBound / Math.abs(numerator.hi) + EXP_ERROR + 2 * totalError + 3 * U;
    certain &&= roundsUniquely(value, k, error);
  }
  return certain;
}

/** Whether every value within `relativeError` of 2^k · v rounds to the same float64. */
function roundsUniquely(v: DD, k: number, relativeError: number): boolean {
  const slack = Math.abs(v.hi) * relativeError * (1 + 2 ** -40);
  return toNumberScaled(add(v, dd(-slack)), k) === toNumberScaled(add(v, dd(slack)), k);
}

/** floor(log2 |v|) for a finite non-zero v, subnormals included. */
function binaryExponent(v: number): number {
  return Math.floor(Math.log2(Math.abs(v)));
}

function largestFinite(values: Float64Array): number {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  return largest;
}

/**
 * 2^k · a, exact unless scaled below the float64 range: there it is a term of a sum whose
 * largest term is near 1, which it cannot change, and below 2^-1100 it is dropped outright.
 */
function scaled(a: DD, k: number): DD {
  if (k === 0) return a;
  if (k < -1100) return dd(0);
  return { hi: ldexp(a.hi, k), lo: ldexp(a.lo, k) };
}

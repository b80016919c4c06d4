import { twoProd, twoSum, type Pair } from '../numeric/error-free.js';
import { ldexp } from '../numeric/ldexp.js';
import { maxPropagatingNaN } from './max.js';

/**
 * Softmax and its gradient in closed form, without the cancellation in `g − ⟨s, g⟩`: the third,
 * optional method (`--accurate`), a few ulps from the correctly rounded result where the plain
 * closed form can lose every digit (PyTorch issue 195684: x = [37.43, 0], g = [1, 0]).
 *
 * Method. With p the first largest logit and Σ s = 1,
 *   g_i − ⟨s, g⟩ = (g_i − g_p) − D,   D = Σ_{j≠p} s_j (g_j − g_p),
 * so the dominant probability's term drops out exactly instead of being subtracted from g_i.
 * The differences g_j − g_p are taken exactly (two-sum), D is accumulated as a compensated dot
 * product (two-product and two-sum, as accurate as twice the working precision), and
 * (g_i − g_p) − D is formed from the exact parts. The softmax is normalised exponentials with a
 * compensated sum. Special cases are those of the other methods.
 *
 * @example accurateClosedFormSlice([37.43, 0], [1, 0]) → softmax [1, 5.5508250862537194e-17],
 *   grad [5.550825086253719e-17, -5.550825086253719e-17]
 */
export function accurateClosedFormSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  const n = x.length;
  const max = maxPropagatingNaN(x);
  if (Number.isFinite(max) && x.every((v) => v === max || v === -Infinity)) {
    equalLogitsSlice(x, g, softmax, grad);
    return;
  }
  // e_i = 2^k_i · m_i: exponentials below the float64 normal range keep their precision until
  // the one rounding of each result (a subnormal s_i times anything would carry its few bits).
  const mantissas = new Float64Array(n);
  const exponents = new Float64Array(n);
  let total = 0;
  let totalError = 0;
  for (let i = 0; i < n; i++) {
    const [m, k] = scaledExp(twoSum(x[i], -max));
    mantissas[i] = m;
    exponents[i] = k;
    const t = twoSum(total, ldexp(m, k));
    total = t.hi;
    totalError += t.lo;
  }
  total += totalError;
  let p = 0;
  for (let i = 0; i < n; i++) {
    mantissas[i] /= total;
    softmax[i] = ldexp(mantissas[i], exponents[i]);
    if (x[i] > x[p]) p = i;
  }

  // The gradient is linear in g: scaling g by 2^G exactly (up, when all of it is below 1, as far
  // as its subnormals; down, near overflow) keeps its products out of the subnormal range.
  const gScale = powerOfTwoFor(g);
  if (gScale !== 0) g = g.map((v) => ldexp(v, gScale));

  // D = Σ_{j≠p} s_j (g_j − g_p), with g_j − g_p = hi + lo exactly and every rounding error kept.
  // It is accumulated as D · 2^-K, 2^K the size of its largest term, so that when every other
  // probability is below the normal range D keeps its bits (s_p's gradient is −s_p D).
  let top = -Infinity;
  for (let j = 0; j < n; j++) {
    if (j === p) continue;
    const size = Math.abs(mantissas[j] * (g[j] - g[p]));
    if (size > 0) top = Math.max(top, Math.floor(Math.log2(size)) + exponents[j]);
  }
  const spreadScale = top === -Infinity ? 0 : top;
  let spread = 0;
  let spreadError = 0;
  for (let j = 0; j < n; j++) {
    if (j === p || g[j] === g[p] || mantissas[j] === 0) continue;
    // The scaling goes on whichever factor it keeps in range: up on the offset (exact), down on
    // the probability (exact, or a term too small to count), never up on the probability, whose
    // product with a tiny offset could still overflow inside two-product's split.
    const shift = exponents[j] - spreadScale;
    const exact = twoSum(g[j], -g[p]);
    const offset = shift > 0 ? { hi: ldexp(exact.hi, shift), lo: ldexp(exact.lo, shift) } : exact;
    const weight = shift > 0 ? mantissas[j] : ldexp(mantissas[j], shift);
    const product = twoProd(weight, offset.hi);
    const sum = twoSum(spread, product.hi);
    spread = sum.hi;
    spreadError += sum.lo + product.lo + weight * offset.lo;
  }
  for (let i = 0; i < n; i++) {
    const offset = twoSum(g[i], -g[p]);
    if (offset.hi === 0) {
      // g_i − ⟨s, g⟩ = −D exactly here: stay at D's scale until the one final rounding.
      grad[i] = ldexp(-mantissas[i] * (spread + spreadError), exponents[i] + spreadScale - gScale);
      continue;
    }
    const d = ldexp(spread, spreadScale);
    const head = twoSum(offset.hi, -d);
    const centred = head.hi + (head.lo + offset.lo - ldexp(spreadError, spreadScale));
    grad[i] = ldexp(mantissas[i] * centred, exponents[i] - gScale);
  }
}

/** The G that puts max |g| in [1, 2) when it is below 1, −64 when it nears overflow, else 0. */
function powerOfTwoFor(g: Float64Array): number {
  let largest = 0;
  for (const v of g) if (Number.isFinite(v)) largest = Math.max(largest, Math.abs(v));
  if (largest > 2 ** 1000) return -64;
  if (largest === 0 || largest >= 1) return 0;
  return -Math.floor(Math.log2(largest));
}

/**
 * Every unmasked logit equal: s_i = 1/c over c of them, and dx_i = (c g_i − Σ g) / c², formed from
 * an exact product and a compensated sum, so that a gradient that is exactly 0 (g_i at the mean of
 * g, as symmetric g gives) comes out 0 rather than as rounding noise.
 */
function equalLogitsSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  let count = 0;
  let sum = 0;
  let sumError = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    count++;
    const t = twoSum(sum, g[i]);
    sum = t.hi;
    sumError += t.lo;
  }
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) {
      softmax[i] = 0;
      grad[i] = 0 * g[i];
      continue;
    }
    softmax[i] = 1 / count;
    const product = twoProd(count, g[i]);
    const head = twoSum(product.hi, -sum);
    grad[i] = (head.hi + (head.lo + product.lo - sumError)) / (count * count);
  }
}

// ln 2 split so that k · LN2_HI is exact for |k| < 2^11 (fdlibm's constants).
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;

/**
 * exp(t.hi + t.lo) as [m, k] with the value m · 2^k, for the exact difference t = x_i − max:
 * rounding x_i − max to one float64 would cost up to ulp(max)/2 in the exponent, 16 ulps of the
 * result for logits near 30. Math.exp(hi) · (1 + lo) takes lo to first order, which is exact to
 * within lo², below 2^-100. Where the result is below the normal range, Cody and Waite's
 * reduction hi = k ln 2 + r gives m = exp(r) in [1/√2, √2] instead.
 */
function scaledExp(t: Pair): [number, number] {
  const { hi, lo } = t;
  if (hi === -Infinity) return [0, 0];
  if (!(hi < -600)) return [Math.exp(hi) * (1 + lo), 0];
  const k = Math.round(hi / Math.LN2);
  return [Math.exp(hi - k * LN2_HI - k * LN2_LO) * (1 + lo), k];
}

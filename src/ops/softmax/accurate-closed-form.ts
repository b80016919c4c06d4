import { accurateExp, type ScaledExp } from '../../numeric/accurate-exp.js';
import { dd, toNumberScaled } from '../../numeric/double-double.js';
import { twoProd, twoProdError, twoSum, twoSumError } from '../../numeric/error-free.js';
import { ldexp } from '../../numeric/ldexp.js';
import { exactZeroGradients } from '../../numeric/exact-zero-gradients.js';
import { maxPropagatingNaN } from '../../numeric/max.js';

/**
 * Softmax and its gradient in closed form, without the cancellation in `g − ⟨s, g⟩`: the third,
 * optional method (`--accurate`): softmax within 1 ulp and gradient within 2 of the correctly
 * rounded result (tested; docs/numerics.md states the bound), where the plain closed form can lose every
 * digit (PyTorch issue 195684: x = [37.43, 0], g = [1, 0]).
 *
 * Method. With p the first largest logit and Σ s = 1,
 *   g_i − ⟨s, g⟩ = (g_i − g_p) − D,   D = Σ_{j≠p} s_j (g_j − g_p),
 * so the dominant probability's term drops out exactly instead of being subtracted from g_i.
 * The differences g_j − g_p are taken exactly (two-sum), D is accumulated as a compensated dot
 * product (two-product and two-sum, as accurate as twice the working precision), and
 * (g_i − g_p) − D is formed from the exact parts. The probabilities are kept to about 2^-88
 * (exponentials of accurate-exp.ts, a compensated sum, a two-digit division), because D's
 * cancellation multiplies their errors. Special cases are those of the other methods.
 *
 * @example accurateClosedFormSlice([37.43, 0], [1, 0]) → softmax [1, 5.5508250862537194e-17],
 *   grad [5.550825086253719e-17, -5.550825086253719e-17]
 */
export function accurateClosedFormSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  const n = x.length;
  const max = maxPropagatingNaN(x);
  if (!Number.isFinite(max)) {
    // A NaN, +Infinity or every logit masked: no softmax, as in PyTorch.
    softmax.fill(NaN);
    grad.fill(NaN);
    return;
  }
  let p = -1; // the first largest logit
  let distinct = false;
  for (let i = 0; i < n; i++) {
    if (x[i] === max && p < 0) p = i;
    else if (x[i] !== max && x[i] !== -Infinity) distinct = true;
  }
  if (!distinct) {
    equalLogitsSlice(x, g, softmax, grad);
    return;
  }

  // e_i = exp(x_i − max), good to 2^-88: in D below, each s_j's error is multiplied by how much
  // g_i − ⟨s, g⟩ cancels, tens of ulps with Math.exp's own (see accurate-exp.ts). Each is held as
  // hi + lo, times 2^k_i only below 2^-960, so that results under the normal range keep their
  // precision until their one rounding.
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  const exponents = new Float64Array(n);
  const e: ScaledExp = { k: 0, hi: 0, lo: 0 };
  let total = 0;
  let totalLow = 0;
  for (let i = 0; i < n; i++) {
    const t = x[i] - max;
    accurateExp(t, twoSumError(x[i], -max, t), e);
    const term = ldexp(e.hi, e.k);
    const termLow = ldexp(e.lo, e.k);
    if (e.k >= -960) {
      hi[i] = term;
      lo[i] = termLow;
    } else {
      hi[i] = e.hi;
      lo[i] = e.lo;
      exponents[i] = e.k;
    }
    const sum = total + term;
    totalLow += twoSumError(total, term, sum) + termLow;
    total = sum;
  }
  const normaliser = total + totalLow;
  const normaliserLow = twoSumError(total, totalLow, normaliser);
  for (let i = 0; i < n; i++) {
    // s_i = e_i / Σe by long division: two quotient digits, the second from the exact remainder.
    const q1 = hi[i] / normaliser;
    const product = q1 * normaliser;
    const remainder = hi[i] - product - twoProdError(q1, normaliser, product) - q1 * normaliserLow + lo[i];
    const q2 = remainder / normaliser;
    hi[i] = q1 + q2;
    lo[i] = twoSumError(q1, q2, hi[i]);
    softmax[i] = exponents[i] === 0 ? hi[i] : toNumberScaled(dd(hi[i], lo[i]), exponents[i]);
  }

  if (!g.every(Number.isFinite)) {
    // An infinite or NaN upstream gradient: nothing to cancel, and IEEE arithmetic on the plain
    // formula gives what every other method gives.
    let dot = 0;
    for (let j = 0; j < n; j++) dot += softmax[j] * g[j];
    for (let i = 0; i < n; i++) grad[i] = softmax[i] * (g[i] - dot);
    return;
  }

  // Where the exact gradient is 0 (symmetric g over equal logits), return 0, not rounding noise.
  const zeros = exactZeroGradients(x, g);

  // The gradient is linear in g: scaling g by 2^G exactly (up, when all of it is below 1, as far
  // as its subnormals; down, near overflow) keeps its products out of the subnormal range.
  const gScale = powerOfTwoFor(g);
  if (gScale !== 0) g = g.map((v) => ldexp(v, gScale));
  const gp = g[p];

  // D = Σ_{j≠p} s_j (g_j − g_p), with g_j − g_p = hi + lo exactly and every rounding error kept.
  // It is accumulated as D · 2^-K, 2^K the size of its largest term, so that when every other
  // probability is below the normal range D keeps its bits (s_p's gradient is −s_p D).
  let largest = 0;
  let top = -Infinity;
  for (let j = 0; j < n; j++) {
    if (j === p || hi[j] === 0 || g[j] === gp) continue;
    const difference = g[j] - gp;
    const size = Math.abs(hi[j] * difference);
    if (exponents[j] === 0 && size > 0) {
      largest = Math.max(largest, size);
    } else {
      // A product that underflows (a tiny probability times a tiny offset) still needs its size:
      // scaled by the shift below as if it were 0, its offset would overflow. Within 2 bits is enough.
      const exponent = Math.floor(Math.log2(Math.abs(hi[j]))) + Math.floor(Math.log2(Math.abs(difference)));
      top = Math.max(top, exponent + exponents[j]);
    }
  }
  if (largest > 0) top = Math.max(top, Math.floor(Math.log2(largest)));
  const spreadScale = top === -Infinity ? 0 : top;
  let spread = 0;
  let spreadLow = 0;
  for (let j = 0; j < n; j++) {
    if (j === p || g[j] === gp || hi[j] === 0) continue;
    // The scaling goes on whichever factor it keeps in range: up on the offset (exact), down on
    // the probability (exact, or a term too small to count), never up on the probability, whose
    // product with a tiny offset could still overflow inside two-product's split.
    const shift = exponents[j] - spreadScale;
    const difference = g[j] - gp;
    const offset = ldexp(difference, Math.max(shift, 0));
    const offsetLow = ldexp(twoSumError(g[j], -gp, difference), Math.max(shift, 0));
    const weight = ldexp(hi[j], Math.min(shift, 0));
    const weightLow = ldexp(lo[j], Math.min(shift, 0));
    const product = weight * offset;
    const sum = spread + product;
    spreadLow += twoSumError(spread, product, sum) + twoProdError(weight, offset, product) + weight * offsetLow + weightLow * offset;
    spread = sum;
  }
  const d = ldexp(spread, spreadScale);
  const dLow = ldexp(spreadLow, spreadScale);
  for (let i = 0; i < n; i++) {
    if (zeros?.[i] === 1) {
      grad[i] = 0;
      continue;
    }
    const offset = g[i] - gp;
    if (offset === 0) {
      // g_i − ⟨s, g⟩ = −D exactly here: stay at D's scale until the one final rounding.
      const centred = -(spread + spreadLow);
      grad[i] = ldexp(hi[i] * centred + lo[i] * centred, exponents[i] + spreadScale - gScale);
      continue;
    }
    const head = offset - d;
    const centred = head + (twoSumError(offset, -d, head) + twoSumError(g[i], -gp, offset) - dLow);
    grad[i] = ldexp(hi[i] * centred + lo[i] * centred, exponents[i] - gScale);
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

/**
 * What rounding allows a correct masked_softmax kernel: softmax's allowance on (x', g') =
 * (scale·x with masked logits at −∞, scale·g), plus what a kernel that forms scale·x otherwise
 * changes. PyTorch's `(x * scale).masked_fill(~mask, -inf).softmax(-1)` in bfloat16 rounds the
 * scale to the dtype, then the product (a fused kernel keeps both in float): its logit j is off
 * from x'_j by D_j, worked out element by element (0 where the product is exact, as for a scale of
 * 1 or a power of two). To first order
 *
 *   Δs_i  = s_i (δ_i − Σ_j s_j δ_j)                     ≤ s_i w_i,   w_i = D_i + Σ_j s_j D_j
 *   Δdx_i = Δs_i (g'_i − c) − s_i Σ_j Δs_j (g'_j − c)   ≤ s_i w_i |g'_i − c| + s_i Σ_j s_j w_j |g'_j − c|
 *
 * with c = ⟨s, g'⟩ (Σ_j Δs_j = 0 lets c in), w to higher orders as μ is. A gradient scaled after
 * it is stored (autograd's mul backward behind softmax's) is rounded once more, and by the rounded
 * scale: (u_d + |scale_d − scale|/|scale|)·|b|, 0 for a power of two. A fully masked slice has no
 * probabilities: its sums are not measured.
 */
import { UNIT_ROUNDOFF, type Tolerance } from '../../dtype.js';
import type { AllowanceRule, Allowances, ElementAllowance } from '../../comparisons/allowance.js';
import { withHigherOrders } from '../../comparisons/higher-orders.js';
import type { MethodResult } from '../../methods/method-result.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import { roundToDType } from '../../numeric/round-dtype.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import { roundingAllowances, type SoftmaxElementAllowance } from '../softmax/softmax-allowance.js';
import type { MaskedSoftmaxSpec } from './masked-softmax-spec.js';
import type { ScaledInputs } from './masked-softmax.js';

interface ScaledLogitsTerms {
  readonly layout: SliceLayout;
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly softmax: Float64Array;
  /** D_j: how far a kernel's own scale·x_j may be from x'_j. */
  readonly logitDeviations: Float64Array;
  /** What a gradient rescaled after it is stored may be off by, relative to |b|. */
  readonly rescaling: number;
  /** Per slice: c = ⟨s, g'⟩, Σ_j s_j D_j, and Σ_j s_j w_j |g'_j − c|. */
  readonly centres: Float64Array;
  readonly meanDeviations: Float64Array;
  readonly spreads: Float64Array;
}

export interface MaskedSoftmaxElementAllowance extends ElementAllowance {
  readonly inner: SoftmaxElementAllowance;
  readonly quantity: 'softmax' | 'grad';
  readonly terms: ScaledLogitsTerms;
}

/** w_i of element i in slice k. */
function logitShare(t: ScaledLogitsTerms, i: number, k: number): number {
  return withHigherOrders(t.logitDeviations[i] + t.meanDeviations[k]);
}

/** What forming scale·x otherwise (and rescaling the gradient) adds to element i's allowance. */
function scaledLogitsShare(allowance: MaskedSoftmaxElementAllowance, i: number, b: number, k: number): number {
  const t = allowance.terms;
  const s = t.softmax[i];
  // A masked element (s = 0), or a fully masked slice (NaN or 0 throughout): nothing of x' reaches it.
  if (!(s > 0)) return 0;
  const w = s * logitShare(t, i, k);
  if (allowance.quantity === 'softmax') return w;
  return w * Math.abs(t.g[i] - t.centres[k]) + s * t.spreads[k] + t.rescaling * Math.abs(b);
}

const MASKED_SOFTMAX_RULE: AllowanceRule<MaskedSoftmaxElementAllowance> = {
  rounding(allowance, i, b, k) {
    return allowance.inner.rule.rounding(allowance.inner, i, b, k) + scaledLogitsShare(allowance, i, b, k);
  },
  parts(allowance, i, b, k) {
    const inner = allowance.inner.rule.parts(allowance.inner, i, b, k);
    return { ...inner, arithmetic: inner.arithmetic + scaledLogitsShare(allowance, i, b, k) };
  },
};

/** The allowances of masked_softmax's results, sized by the closed form's (on x' and g', settled). */
export function maskedSoftmaxAllowances(
  x: Float64Array,
  scaled: ScaledInputs,
  closedForm: MethodResult,
  spec: MaskedSoftmaxSpec,
  dead: Uint8Array,
  layout: SliceLayout,
  a: Arithmetic,
  tolerance: Tolerance,
): Allowances {
  const softmax = closedForm.forward;
  const inner = roundingAllowances({ x: scaled.x, g: scaled.g, softmax, grad: closedForm.grad, layout }, a, tolerance);
  const ud = UNIT_ROUNDOFF[a.dtype];
  const { scale } = spec;
  const roundedScale = roundToDType(scale, a.dtype);
  const powerOfTwo = scale !== 0 && Math.abs(scale) === 2 ** Math.round(Math.log2(Math.abs(scale)));
  // The composition's logit (scale and product rounded to the dtype) and a kernel's that rounds
  // only the scale: the farther from x'_j of the two.
  const logitDeviations = new Float64Array(scaled.x.length);
  for (let j = 0; j < logitDeviations.length; j++) {
    if (spec.keep[j] === 0) continue;
    const own = scaled.x[j];
    const product = roundedScale * x[j];
    logitDeviations[j] = Math.max(Math.abs(roundToDType(product, a.dtype) - own), Math.abs(a.round(product) - own));
  }
  const centres = new Float64Array(layout.count);
  const meanDeviations = new Float64Array(layout.count);
  const spreads = new Float64Array(layout.count);
  const terms: ScaledLogitsTerms = {
    layout,
    x: scaled.x,
    g: scaled.g,
    softmax,
    logitDeviations,
    // A scale of 0 makes every gradient exactly 0, however it is applied.
    rescaling: powerOfTwo || scale === 0 ? 0 : ud + Math.abs(roundedScale - scale) / Math.abs(scale),
    centres,
    meanDeviations,
    spreads,
  };
  forEachSlice(layout, [scaled.g, softmax, logitDeviations], [], ([gs, ss, ds], _, k) => {
    let centre = 0;
    let deviation = 0;
    for (let j = 0; j < gs.length; j++) {
      if (!(ss[j] > 0)) continue;
      centre += ss[j] * gs[j];
      deviation += ss[j] * ds[j];
    }
    centres[k] = centre;
    meanDeviations[k] = deviation;
    let spread = 0;
    for (let j = 0; j < gs.length; j++) {
      if (ss[j] > 0) spread += ss[j] * withHigherOrders(ds[j] + deviation) * Math.abs(gs[j] - centre);
    }
    spreads[k] = spread;
  });
  const wrap = (quantity: 'softmax' | 'grad', own: SoftmaxElementAllowance): MaskedSoftmaxElementAllowance => ({
    atol: own.atol,
    inner: own,
    quantity,
    terms,
    rule: MASKED_SOFTMAX_RULE,
  });
  const unmeasured = (bounds: Float64Array): Float64Array => bounds.map((bound, k) => (dead[k] === 1 ? NaN : bound));
  return {
    forward: wrap('softmax', inner.forward),
    grad: wrap('grad', inner.grad),
    slices: { softmaxSum: unmeasured(inner.slices.softmaxSum), gradSum: unmeasured(inner.slices.gradSum) },
    expectedSlices: { softmaxSum: unmeasured(inner.expectedSlices.softmaxSum), gradSum: unmeasured(inner.expectedSlices.gradSum) },
  };
}

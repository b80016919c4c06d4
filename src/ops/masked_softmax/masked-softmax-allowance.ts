/**
 * What rounding allows a correct masked_softmax kernel: softmax's allowance on (x', g') =
 * (scale·x with masked logits at −∞, scale·g), plus what a kernel that rounds scale·x to the
 * dtype before its softmax changes (PyTorch's `(x * scale).masked_fill(~mask, -inf).softmax(-1)`
 * in bfloat16 does; a fused kernel keeps the product in float). Each x'_j is then off by
 * δ_j ≤ u·|x'_j|, u = u_d (and u_d more where the scale itself is not a dtype number, which such
 * a kernel rounds first), and to first order
 *
 *   Δs_i  = s_i (δ_i − Σ_j s_j δ_j)                     ≤ s_i w_i,   w_i = u (|x'_i| + Σ_j s_j |x'_j|)
 *   Δdx_i = Δs_i (g'_i − c) − s_i Σ_j Δs_j (g'_j − c)   ≤ s_i w_i |g'_i − c| + s_i Σ_j s_j w_j |g'_j − c|
 *
 * with c = ⟨s, g'⟩ (Σ_j Δs_j = 0 lets c in), w to higher orders as μ is. A gradient scaled after
 * it is stored (autograd's mul backward behind softmax's) is rounded once more: u_d·|b|, unless
 * the scale is a power of two. A fully masked slice has no probabilities: its sums are not measured.
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
  /** u of the rounding of x'_j, relative to |x'_j|. */
  readonly logitRounding: number;
  /** u_d where the gradient may be rescaled after it is stored, else 0. */
  readonly rescaling: number;
  /** Per slice: c = ⟨s, g'⟩, Σ_j s_j |x'_j|, and Σ_j s_j w_j |g'_j − c|. */
  readonly centres: Float64Array;
  readonly meanMagnitudes: Float64Array;
  readonly spreads: Float64Array;
}

export interface MaskedSoftmaxElementAllowance extends ElementAllowance {
  readonly inner: SoftmaxElementAllowance;
  readonly quantity: 'softmax' | 'grad';
  readonly terms: ScaledLogitsTerms;
}

/** w_i of element i in slice k. */
function logitShare(t: ScaledLogitsTerms, i: number, k: number): number {
  return withHigherOrders(t.logitRounding * (Math.abs(t.x[i]) + t.meanMagnitudes[k]));
}

/** What rounding scale·x (and rescaling the gradient) adds to element i's allowance. */
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
  const scaleRounded = roundToDType(spec.scale, a.dtype) !== spec.scale;
  const powerOfTwo = spec.scale !== 0 && Number.isFinite(spec.scale) && Math.abs(spec.scale) === 2 ** Math.round(Math.log2(Math.abs(spec.scale)));
  const centres = new Float64Array(layout.count);
  const meanMagnitudes = new Float64Array(layout.count);
  const spreads = new Float64Array(layout.count);
  const terms = {
    layout,
    x: scaled.x,
    g: scaled.g,
    softmax,
    logitRounding: ud * (scaleRounded ? 2 : 1),
    rescaling: powerOfTwo || spec.scale === 1 ? 0 : ud,
    centres,
    meanMagnitudes,
    spreads,
  };
  forEachSlice(layout, [scaled.x, scaled.g, softmax], [], ([xs, gs, ss], _, k) => {
    let centre = 0;
    let magnitude = 0;
    for (let j = 0; j < xs.length; j++) {
      if (!(ss[j] > 0)) continue;
      centre += ss[j] * gs[j];
      magnitude += ss[j] * Math.abs(xs[j]);
    }
    centres[k] = centre;
    meanMagnitudes[k] = magnitude;
  });
  forEachSlice(layout, [scaled.x, scaled.g, softmax], [], ([xs, gs, ss], _, k) => {
    let spread = 0;
    for (let j = 0; j < xs.length; j++) {
      if (!(ss[j] > 0)) continue;
      spread += ss[j] * withHigherOrders(terms.logitRounding * (Math.abs(xs[j]) + meanMagnitudes[k])) * Math.abs(gs[j] - centres[k]);
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

/**
 * What rounding allows a correct masked_softmax kernel: softmax's allowance on (x', g') =
 * (scale·x with masked logits at −∞, scale·g), plus what a kernel that forms scale·x otherwise
 * changes. PyTorch's `(x * scale).masked_fill(~mask, -inf).softmax(-1)` in bfloat16 rounds the
 * scale to the dtype, then the product (a fused kernel keeps both in float, and rounds the product
 * to its compute type, as the methods do): its logit j is off from scale·x_j by up to D_j, worked
 * out element by element (0 where the product is exact, as for a scale of 1 or a power of two). Not to first order, since D_j is no longer small where scale·x is
 * large (bfloat16's spacing is 1 from 128 up): dividing by Σ_j exp(x'_j), a kernel's
 *
 *   s̃_i = s_i e^{δ_i} / Σ_j s_j e^{δ_j},  |δ_j| ≤ D_j,  is largest with δ_i = D_i and every other
 *   δ_j = −D_j:  s_i e^{D_i} / (s_i e^{D_i} + B − s_i e^{−D_i}),  and smallest in the mirror,
 *   s_i e^{−D_i} / (s_i e^{−D_i} + A − s_i e^{D_i}),
 *
 * with A = Σ_j s_j e^{D_j} and B = Σ_j s_j e^{−D_j} per slice: Δs_i is the wider side of that range.
 * The gradient s̃_i (g'_i − c̃), c̃ = ⟨s̃, g'⟩, moves by
 *
 *   |Δdx_i| ≤ Δs_i |g'_i − c| + (s_i + Δs_i) Σ_j Δs_j |g'_j − c|      (Σ_j (s̃_j − s_j) = 0 lets c in)
 *
 * with c = ⟨s, g'⟩. A gradient scaled after it is stored (autograd's mul backward behind softmax's)
 * is rounded once more, and by the rounded scale: (u_d + |scale_d − scale|/|scale|)·|b|, 0 for a
 * power of two; its slice sum by that much of Σ|dx|. A fully masked slice has no probabilities: its
 * sums are not measured.
 */
import { UNIT_ROUNDOFF, type Tolerance } from '../../dtype.js';
import type { AllowanceRule, Allowances, ElementAllowance } from '../../comparisons/allowance.js';
import type { MethodResult } from '../../methods/method-result.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import { roundToDType } from '../../numeric/round-dtype.js';
import { forEachSlice, sliceStart, type SliceLayout } from '../../numeric/slices.js';
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
  /** (1 + 2u_d) / (1 − 2u_d): how far apart two stored probabilities' roundings can put them. */
  readonly storedSpread: number;
  /** Per slice: 1 where some D_j is above 0. */
  readonly moved: Uint8Array;
  /** Per slice: c = ⟨s, g'⟩; Σ_j s_j; A = Σ_j s_j e^{D_j} and B = Σ_j s_j e^{−D_j}; Σ_j Δs_j |g'_j − c|. */
  readonly centres: Float64Array;
  readonly totals: Float64Array;
  readonly highs: Float64Array;
  readonly lows: Float64Array;
  readonly spreads: Float64Array;
}

export interface MaskedSoftmaxElementAllowance extends ElementAllowance {
  readonly inner: SoftmaxElementAllowance;
  readonly quantity: 'softmax' | 'grad';
  readonly terms: ScaledLogitsTerms;
}

/** Δs_i of element i in slice k: how far a kernel's own scale·x can move its probability. */
function probabilityShift(t: ScaledLogitsTerms, s: number, i: number, k: number): number {
  // A slice whose every product is exact: nothing moves.
  if (t.moved[k] === 0) return 0;
  const d = t.logitDeviations[i];
  // Its own logit up by D_i and every other down by D_j, and the mirror: the extremes of s̃_i,
  // against s_i as the stored s's own sum normalises it (so that D = 0 throughout moves nothing).
  // The s_j are the stored ones, each off by up to 2u_d from its exact value: the extremes take
  // s_i that much higher (lower) against the rest (a tie that rounding scale·x makes is an extreme).
  const spread = t.storedSpread;
  const up = s * Math.exp(d);
  const down = s * Math.exp(-d);
  // The rest of the slice with every other logit down by its D_j (for the upper end), or up.
  const restDown = Math.max(0, t.lows[k] - down) / spread;
  const restUp = Math.max(0, t.highs[k] - up) * spread;
  // Where e^{D} overflows (logits so large that the dtype's spacing there is beyond exp's range),
  // s̃_i can be anything from 0 to 1.
  const upper = Number.isFinite(up) ? (up * spread) / (up * spread + restDown) : 1;
  const lower = down === 0 || !(restUp < Infinity) ? 0 : down / spread / (down / spread + restUp);
  const own = s / t.totals[k];
  return Math.max(upper - own, own - lower, 0);
}

/** What forming scale·x otherwise (and rescaling the gradient) adds to element i's allowance. */
function scaledLogitsShare(allowance: MaskedSoftmaxElementAllowance, i: number, b: number, k: number): number {
  const t = allowance.terms;
  const s = t.softmax[i];
  // A masked element (s = 0), or a fully masked slice (NaN or 0 throughout): nothing of x' reaches it.
  if (!(s > 0)) return 0;
  const shift = probabilityShift(t, s, i, k);
  if (allowance.quantity === 'softmax') return shift;
  return shift * Math.abs(t.g[i] - t.centres[k]) + (s + shift) * t.spreads[k] + t.rescaling * Math.abs(b);
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
    // Against scale·x itself, which the exact result takes: the compute type's rounding of it (a
    // fused kernel's, and the methods' own) is no small share of |x' − m| when x' is large.
    const exact = spec.scale * x[j];
    const product = roundedScale * x[j];
    logitDeviations[j] = Math.max(Math.abs(roundToDType(product, a.dtype) - exact), Math.abs(a.round(product) - exact), Math.abs(scaled.x[j] - exact));
  }
  const centres = new Float64Array(layout.count);
  const totals = new Float64Array(layout.count);
  const moved = new Uint8Array(layout.count);
  const highs = new Float64Array(layout.count);
  const lows = new Float64Array(layout.count);
  const spreads = new Float64Array(layout.count);
  const terms: ScaledLogitsTerms = {
    layout,
    x: scaled.x,
    g: scaled.g,
    softmax,
    logitDeviations,
    // A scale of 0 makes every gradient exactly 0, however it is applied.
    rescaling: powerOfTwo || scale === 0 ? 0 : ud + Math.abs(roundedScale - scale) / Math.abs(scale),
    storedSpread: (1 + 2 * ud) / (1 - 2 * ud),
    moved,
    centres,
    totals,
    highs,
    lows,
    spreads,
  };
  forEachSlice(layout, [scaled.g, softmax, logitDeviations], [], ([gs, ss, ds], _, k) => {
    let centre = 0;
    let total = 0;
    let high = 0;
    let low = 0;
    let kept = false;
    for (let j = 0; j < gs.length; j++) {
      if (!(ss[j] > 0)) continue;
      kept = true;
      if (ds[j] > 0) moved[k] = 1;
      centre += ss[j] * gs[j];
      total += ss[j];
      high += ss[j] * Math.exp(ds[j]);
      low += ss[j] * Math.exp(-ds[j]);
    }
    centres[k] = centre;
    // A slice without probabilities (fully masked) has no shares to move.
    totals[k] = kept ? total : 1;
    highs[k] = kept ? high : 1;
    lows[k] = kept ? low : 1;
  });
  // Per slice, from each Δs_j: the gradient's spread Σ_j Δs_j |g'_j − c|, and its sum's bound (below).
  // A gradient scaled after it is stored is rounded once more, element by element: its sum strays
  // by up to that rounding of Σ|dx| (Σ dx = 0 holds for any logits, so the rest of the term adds nothing).
  // And a kernel whose probabilities moved by Δs_j rounds terms of that size: its stores, 2u_d each,
  // over Σ_j Δs_j (|g'_j| + |c|) beside the Σ_j s_j (|g'_j| + |c|) softmax's bound is made of.
  const magnitudes = new Float64Array(layout.count);
  forEachSlice(layout, [closedForm.grad, scaled.g, softmax], [], ([dxs, gs, ss], _, k) => {
    const start = sliceStart(layout, k);
    const centre = centres[k];
    let spread = 0;
    let total = 0;
    let moved = 0;
    for (let j = 0; j < gs.length; j++) {
      total += Math.abs(dxs[j]);
      if (!(ss[j] > 0)) continue;
      const shift = probabilityShift(terms, ss[j], start + j * layout.stride, k);
      spread += shift * Math.abs(gs[j] - centre);
      moved += shift * (Math.abs(gs[j]) + Math.abs(centre));
    }
    spreads[k] = spread;
    magnitudes[k] = terms.rescaling * total + 4 * ud * moved;
  });
  const wrap = (quantity: 'softmax' | 'grad', own: SoftmaxElementAllowance): MaskedSoftmaxElementAllowance => ({
    atol: own.atol,
    inner: own,
    quantity,
    terms,
    rule: MASKED_SOFTMAX_RULE,
  });
  const unmeasured = (bounds: Float64Array): Float64Array => bounds.map((bound, k) => (dead[k] === 1 ? NaN : bound));
  const rescaled = (bounds: Float64Array): Float64Array => unmeasured(bounds.map((bound, k) => bound + magnitudes[k]));
  return {
    forward: wrap('softmax', inner.forward),
    grad: wrap('grad', inner.grad),
    slices: { softmaxSum: unmeasured(inner.slices.softmaxSum), gradSum: rescaled(inner.slices.gradSum) },
    expectedSlices: { softmaxSum: unmeasured(inner.expectedSlices.softmaxSum), gradSum: rescaled(inner.expectedSlices.gradSum) },
  };
}

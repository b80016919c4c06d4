import { MASKED_SOFTMAX_HUNT } from './masked-softmax-hunt.js';
import { sliceForward } from '../../methods/slice-forward.js';
import { sliceLayout } from '../../numeric/slices.js';
import { isLeftUndecided } from '../../reference/reference-by-slices.js';
import type { OpDefinition, OpInput } from '../op-definition.js';
import { SOFTMAX } from '../softmax/index.js';
import { softmaxNormalisedSlice } from '../softmax/softmax-normalised.js';
import { computeReferenceWithin } from '../softmax/softmax-reference.js';
import { undefinedSliceNote } from '../undefined-slice-note.js';
import { maskedSoftmaxAllowances } from './masked-softmax-allowance.js';
import { MASKED_SOFTMAX_DIAGNOSES } from './masked-softmax-diagnoses.js';
import { MASKED_SOFTMAX_FIELDS_OUT, maskedSoftmaxSpec } from './masked-softmax-fields-out.js';
import { maskedSoftmaxFrom } from './masked-softmax-input.js';
import { MASKED_ROWS } from './masked-softmax-spec.js';
import { fullyMaskedSlices, scaledInputs, settleMasked, settleMaskedForward, type ScaledInputs } from './masked-softmax.js';

/**
 * masked_softmax, the softmax inside attention: y = softmax(scale·x) over the elements of each
 * slice the mask keeps (0 at the others), dx = scale·s ⊙ (g − ⟨s, g⟩) there and 0 at masked ones.
 * Run as softmax of x' = scale·x (−∞ where masked) and g' = scale·g (masked-softmax.ts).
 */
export const MASKED_SOFTMAX: OpDefinition<'masked_softmax'> = {
  op: 'masked_softmax',
  forwardName: 'softmax',
  forwardPerElement: true,
  fields: [
    {
      key: 'mask',
      kind: { type: 'mask' },
      what: 'mask',
      help: "booleans, true = takes part (scaled_dot_product_attention's boolean attn_mask): x's shape, or one that broadcasts to it; in the forms --x takes (default: all)",
    },
    { key: 'causal', kind: { type: 'boolean' }, what: 'causal', help: "keep j ≤ i over the last two dims, top-left aligned (PyTorch's is_causal), instead of a mask" },
    { key: 'scale', kind: { type: 'number' }, what: 'scale', help: 'the factor on the logits, as attention\'s 1/√d (default: 1)' },
    {
      key: 'masked_rows',
      kind: { type: 'choice', choices: MASKED_ROWS },
      what: 'masked rows',
      help: "a fully masked slice's forward: nan (PyTorch's softmax, torch._masked_softmax) or zero (scaled_dot_product_attention, FlashAttention) (default: nan)",
    },
  ],
  defaultDim: () => -1,
  fieldsAgainstX: (given, x) => maskedSoftmaxFrom(given, x),
  fieldsOut: MASKED_SOFTMAX_FIELDS_OUT,
  finiteDifferences: false,
  methods: (input) => {
    const spec = maskedSoftmaxSpec(input.spec);
    const softmax = SOFTMAX.methods(input);
    return {
      jacobian: (x, g, layout, a, materialiseLimit) => {
        const scaled = scaledOf(input, x, g, a.round);
        return settleMasked(softmax.jacobian(scaled.x, scaled.g, layout, a, materialiseLimit), spec, layout);
      },
      jacobianForward: (x, layout, a) => {
        const scaled = scaledOf(input, x, new Float64Array(x.length), a.round);
        return settleMaskedForward(sliceForward(scaled.x, layout, (xs, out) => softmaxNormalisedSlice(xs, out, a)), spec, layout);
      },
      closedForm: (x, g, layout, a) => {
        const scaled = scaledOf(input, x, g, a.round);
        return settleMasked(softmax.closedForm(scaled.x, scaled.g, layout, a), spec, layout);
      },
      accurateFloat64: (x, g, layout) => {
        const scaled = scaledOf(input, x, g);
        return settleMasked(softmax.accurateFloat64(scaled.x, scaled.g, layout), spec, layout);
      },
    };
  },
  allowances: (input, closedForm, layout, a, tolerance) => {
    const spec = maskedSoftmaxSpec(input.spec);
    return maskedSoftmaxAllowances(input.x.data, scaledOf(input, input.x.data, input.g.data, a.round), closedForm, spec, fullyMaskedSlices(spec, layout), layout, a, tolerance);
  },
  laws: {
    forward: 'softmax',
    // Its gradient is softmax's backward of g' = scale·g: its sums are measured against g'.
    gradient: (input, _layout, a) => scaledOf(input, input.x.data, input.g.data, a.round).g,
    gradientLaw: 'softmax',
  },
  reference: async (input, engine, policy) => {
    // softmax's exact result at x' = scale·x (exact where the product is, as for a power-of-two
    // scale; else within float64's rounding of it), then its gradient times the scale.
    const spec = maskedSoftmaxSpec(input.spec);
    const scaled = scaledOf(input, input.x.data, input.g.data);
    const g = input.g.data.map((v, i) => (spec.keep[i] === 1 ? v : 0));
    const loadBigNumber = async (deadline?: number) => (await import('../../reference/bignumber-reference.js')).loadBigNumberReference(deadline);
    const found = await computeReferenceWithin({ shape: input.x.shape, data: scaled.x }, { shape: input.x.shape, data: g }, input.axis, engine, loadBigNumber, policy);
    if (isLeftUndecided(found)) return found;
    const layout = sliceLayout(input.x.shape, input.axis);
    const settled = settleMasked({ forward: found.forward, grad: found.grad.map((v) => v * spec.scale) }, spec, layout);
    return { ...found, ...settled };
  },
  parallelJacobian: async (input, a, run, progress) => {
    const spec = maskedSoftmaxSpec(input.spec);
    const layout = sliceLayout(input.x.shape, input.axis);
    const scaled = scaledOf(input, input.x.data, input.g.data, a.round);
    return settleMasked(await run(scaled.x, scaled.g, layout, a, 'softmax', progress), spec, layout);
  },
  hunt: MASKED_SOFTMAX_HUNT,
  diagnoses: MASKED_SOFTMAX_DIAGNOSES,
  bigNumberMillisecondsPerElement: 0.2,
  words: {
    closeRule: "atol + rtol·(|b| + s_i Σ_j s_j |g'_j|) + arithmetic, g' = scale·g",
    closeRuleTerms: "s_i Σ_j s_j |g'_j|: what cancels in scale·(g_i − ⟨s, g⟩); scale·x may be rounded to the dtype first, as (x * scale).masked_fill(…).softmax() does",
    cancellationTerm: "rtol·s_i Σ s_j|g'_j|",
    closedForm: 'dx = scale·s ⊙ (g − ⟨s, g⟩), 0 where masked',
    closedFormForward: 's = softmax(scale·x) over the kept elements, 0 where masked',
    forwardSum: '|Σ s − 1|',
    gradScale: "Σ s(|g'| + |⟨s,g'⟩|)",
    sliceNote: (note, cause) =>
      note.reason === 'fully-masked'
        ? `slice x${note.slice} ${cause}: both methods give it masked_rows' forward (NaN, or 0 for "zero") and a gradient of 0, as PyTorch does`
        : undefinedSliceNote('softmax')(note, cause),
  },
};

/** x' and g' of one run, made once for each arithmetic the run asks in (the methods, allowances and laws share them). */
const scaledCache = new WeakMap<object, Map<unknown, { readonly x: Float64Array; readonly g: Float64Array; readonly scaled: ScaledInputs }>>();

function scaledOf(input: OpInput, x: Float64Array, g: Float64Array, round?: (value: number) => number): ScaledInputs {
  const spec = maskedSoftmaxSpec(input.spec);
  const byRounding = scaledCache.get(spec) ?? new Map<unknown, { readonly x: Float64Array; readonly g: Float64Array; readonly scaled: ScaledInputs }>();
  scaledCache.set(spec, byRounding);
  const key = round ?? 'exact';
  const cached = byRounding.get(key);
  if (cached !== undefined && cached.x === x && cached.g === g) return cached.scaled;
  const scaled = scaledInputs(x, g, spec, round);
  byRounding.set(key, { x, g, scaled });
  return scaled;
}

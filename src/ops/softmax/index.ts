import { roundingAllowances } from './softmax-allowance.js';
import { sliceLayout } from '../../numeric/slices.js';
import { sliceForward } from '../../methods/slice-forward.js';
import type { OpDefinition } from '../op-definition.js';
import { undefinedSliceNote } from '../undefined-slice-note.js';
import { softmaxExample } from './example.js';
import { SOFTMAX_DIAGNOSES } from './softmax-diagnoses.js';
import { runAccurateFloat64, runClosedFormMethod, runJacobianMethod } from './pipelines.js';
import { softmaxNormalisedSlice } from './softmax-normalised.js';
import { computeReferenceWithin } from './softmax-reference.js';

/** softmax: s = exp(x − m) / Σ exp(x − m) along dim, and dx = s ⊙ (g − ⟨s, g⟩). */
export const SOFTMAX: OpDefinition<'softmax'> = {
  op: 'softmax',
  forwardName: 'softmax',
  forwardPerElement: true,
  fields: [],
  defaultDim: () => -1,
  finiteDifferences: true,
  methods: () => ({
    jacobian: (x, g, layout, a, materialiseLimit) => runJacobianMethod(x, g, layout, materialiseLimit, a),
    jacobianForward: (x, layout, a) => sliceForward(x, layout, (xs, out) => softmaxNormalisedSlice(xs, out, a)),
    closedForm: runClosedFormMethod,
    accurateFloat64: runAccurateFloat64,
  }),
  allowances: (input, closedForm, layout, a, tolerance) =>
    roundingAllowances({ x: input.x.data, g: input.g.data, softmax: closedForm.forward, grad: closedForm.grad, layout }, a, tolerance),
  laws: { forward: 'softmax', gradient: (input) => input.g.data, gradientLaw: 'softmax' },
  reference: (input, engine, policy) => {
    const loadBigNumber = async (deadline?: number) => (await import('../../reference/bignumber-reference.js')).loadBigNumberReference(deadline);
    return computeReferenceWithin(input.x, input.g, input.axis, engine, loadBigNumber, policy);
  },
  parallelJacobian: (input, a, run, progress) => {
    return run(input.x.data, input.g.data, sliceLayout(input.x.shape, input.axis), a, 'softmax', progress);
  },
  bigNumberMillisecondsPerElement: 0.2,
  words: {
    closeRule: 'atol + rtol·(|b| + s_i Σ_j s_j |g_j|) + arithmetic',
    closeRuleTerms: "s_i Σ_j s_j |g_j|: what cancels in the gradient's g_i − ⟨s, g⟩",
    cancellationTerm: 'rtol·s_i Σ s_j|g_j|',
    closedForm: 'dx = s ⊙ (g − ⟨s, g⟩)',
    closedFormForward: 's = exp(x − m) / Σ exp(x − m)',
    forwardSum: '|Σ s − 1|',
    gradScale: 'Σ s(|g| + |⟨s,g⟩|)',
    sliceNote: undefinedSliceNote('softmax'),
  },
  example: softmaxExample,
  diagnoses: SOFTMAX_DIAGNOSES,
};

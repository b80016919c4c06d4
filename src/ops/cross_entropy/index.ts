import { CROSS_ENTROPY_HUNT } from './cross-entropy-hunt.js';
import { logSoftmaxClosedFormForwardSlice } from '../log_softmax/log-softmax.js';
import { sliceForward } from '../../methods/slice-forward.js';
import { sliceLayout } from '../../numeric/slices.js';
import type { OpDefinition, OpInput } from '../op-definition.js';
import { crossEntropyAllowances } from './cross-entropy-allowance.js';
import { crossEntropyOfLogSoftmax, lossLayer, runAccurateCrossEntropyFloat64, runCrossEntropyClosedFormMethod, runCrossEntropyJacobianMethod } from './cross-entropy.js';
import { REDUCTIONS, type CrossEntropySpec } from './cross-entropy-spec.js';
import { crossEntropyFrom } from './cross-entropy-input.js';
import { CROSS_ENTROPY_FIELDS_OUT, crossEntropySpec } from './cross-entropy-fields-out.js';
import { CROSS_ENTROPY_DIAGNOSES } from './cross-entropy-diagnoses.js';

/**
 * cross_entropy (torch.nn.functional.cross_entropy): the loss of log_softmax(x) against the
 * target, and its gradient, which is log_softmax's backward of h = dL/dy.
 */
export const CROSS_ENTROPY: OpDefinition<'cross_entropy'> = {
  op: 'cross_entropy',
  forwardName: 'loss',
  forwardPerElement: false,
  fields: [
    {
      key: 'target',
      kind: { type: 'values', orNumber: true, integers: true },
      what: 'target',
      required: { needs: "class indices (x's shape without the class dim) or class probabilities (x's shape)" },
      help: "class indices (x's shape without the class dim) or probabilities (x's shape), in the forms --x takes",
    },
    { key: 'reduction', kind: { type: 'choice', choices: REDUCTIONS }, what: 'reduction', help: 'mean, sum or none (default: mean)' },
    { key: 'label_smoothing', kind: { type: 'fraction' }, what: 'label smoothing', help: 'from 0 to 1 (default: 0)' },
    { key: 'ignore_index', kind: { type: 'integer' }, what: 'ignore index', help: 'a class index whose samples count for nothing (default: -100)' },
    { key: 'weight', kind: { type: 'values' }, what: 'weight', help: 'one weight per class' },
  ],
  // The classes run along dim 1, as PyTorch's (dim 0 for one sample of shape [C]).
  defaultDim: (rank) => Math.min(1, rank - 1),
  fieldsAgainstX: crossEntropyFrom,
  fieldsOut: CROSS_ENTROPY_FIELDS_OUT,
  finiteDifferences: false,
  methods: (input) => {
    const spec = specOf(input);
    return {
      jacobian: (x, g, layout, a) => runCrossEntropyJacobianMethod(x, g, spec, layout, a),
      // (cross_entropy always has its g: the loss's, 1 unless given.)
      jacobianForward: (x, layout, a) => runCrossEntropyJacobianMethod(x, new Float64Array(layout.count), spec, layout, a).forward,
      closedForm: (x, g, layout, a) => runCrossEntropyClosedFormMethod(x, g, spec, layout, a),
      accurateFloat64: (x, g, layout) => runAccurateCrossEntropyFloat64(x, g, spec, layout),
    };
  },
  allowances: (input, closedForm, layout, a, tolerance) => {
    const x = input.x.data;
    // The closed form's forward output is the loss: the log_softmax the allowances are sized by is its own.
    const y = sliceForward(x, layout, (xs, ys) => logSoftmaxClosedFormForwardSlice(xs, ys, a));
    const spec = specOf(input);
    return crossEntropyAllowances({ x, y, grad: closedForm.grad, layout, layer: lossLayer(spec, input.g.data, layout, a), spec }, a, tolerance);
  },
  laws: {
    forward: undefined,
    // Its gradient is log_softmax's backward of h = dL/dy: its sums are measured against h.
    gradient: (input, layout, a) => lossLayer(specOf(input), input.g.data, layout, a).h,
    gradientLaw: 'log_softmax',
  },
  reference: async (input, engine, policy) => {
    const { computeCrossEntropyReference } = await import('./cross-entropy-reference.js');
    return computeCrossEntropyReference(input.x, input.g, specOf(input), input.axis, engine, policy);
  },
  parallelJacobian: async (input, a, run, progress) => {
    // log_softmax's explicit method on h = dL/dy, its columns shared; the loss from its y.
    const spec = specOf(input);
    const layout = sliceLayout(input.x.shape, input.axis);
    const layer = lossLayer(spec, input.g.data, layout, a);
    const { forward: y, grad } = await run(input.x.data, layer.h, layout, a, 'log_softmax', progress);
    return crossEntropyOfLogSoftmax(y, grad, spec, layer, layout, a);
  },
  hunt: CROSS_ENTROPY_HUNT,
  diagnoses: CROSS_ENTROPY_DIAGNOSES,
  bigNumberMillisecondsPerElement: 0.6,
  words: {
    closeRule: 'atol + rtol·|b| + rtol·s_i |Σh| |y_i| (grad) + arithmetic',
    closeRuleTerms: "h = dL/dy = −w ⊙ q · scale, which log_softmax's backward takes; s_i |Σh| |y_i|: the stored log_softmax's rounding",
    cancellationTerm: 'rtol·s_i|Σh||y_i|',
    forwardCancellationTerm: 'rtol·(Σ|w q y|/D − |b|)',
    closedForm: 'dx = (s·Σ w q − w ⊙ q)·scale',
    closedFormForward: 'the loss',
    forwardSum: '',
    gradScale: '(Σ|h| + |Σh|)',
    sliceNote: (note, cause) => {
      const loss = note.ignored ? 'it adds nothing to the loss (its target is ignore_index)' : 'the loss is NaN';
      return `sample x${note.slice} ${cause}: its log_softmax is undefined, so both methods give its gradient NaN, as PyTorch does even for an ignored sample; ${loss}`;
    },
  },
};

function specOf(input: OpInput): CrossEntropySpec {
  return crossEntropySpec(input.spec);
}

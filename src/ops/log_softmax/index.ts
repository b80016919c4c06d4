import { sliceForward } from '../../methods/slice-forward.js';
import { sliceLayout } from '../../numeric/slices.js';
import type { OpDefinition } from '../op-definition.js';
import { undefinedSliceNote } from '../undefined-slice-note.js';
import { runAccurateLogSoftmaxFloat64 } from './accurate-log-softmax.js';
import { logSoftmaxExample } from './example.js';
import { LOG_SOFTMAX_DIAGNOSES } from './log-softmax-diagnoses.js';
import { logSoftmaxLseForwardSlice, runLogSoftmaxClosedFormMethod, runLogSoftmaxJacobianMethod } from './log-softmax.js';
import { logSoftmaxAllowances } from './log-softmax-allowance.js';

/** log_softmax: y = (x − m) − log Σ exp(x − m) along dim, and dx = g − exp(y)·Σg. */
export const LOG_SOFTMAX: OpDefinition<'log_softmax'> = {
  op: 'log_softmax',
  forwardName: 'log_softmax',
  forwardPerElement: true,
  fields: [],
  defaultDim: () => -1,
  finiteDifferences: false,
  methods: () => ({
    jacobian: runLogSoftmaxJacobianMethod,
    jacobianForward: (x, layout, a) => sliceForward(x, layout, (xs, out) => logSoftmaxLseForwardSlice(xs, out, a)),
    closedForm: runLogSoftmaxClosedFormMethod,
    accurateFloat64: runAccurateLogSoftmaxFloat64,
  }),
  allowances: (input, closedForm, layout, a, tolerance) =>
    logSoftmaxAllowances({ x: input.x.data, g: input.g.data, forward: closedForm.forward, grad: closedForm.grad, layout }, a, tolerance),
  laws: { forward: 'log_softmax', gradient: (input) => input.g.data, gradientLaw: 'log_softmax' },
  reference: async (input, engine, policy) => {
    const { computeLogSoftmaxReferenceWithin } = await import('./log-softmax-reference.js');
    return computeLogSoftmaxReferenceWithin(input.x, input.g, input.axis, engine, policy);
  },
  parallelJacobian: (input, a, run, progress) => run(input.x.data, input.g.data, sliceLayout(input.x.shape, input.axis), a, 'log_softmax', progress),
  bigNumberMillisecondsPerElement: 0.6,
  words: {
    closeRule: 'atol + rtol·|b| + rtol·s_i |Σg| |y_i| (grad) + arithmetic',
    closeRuleTerms: "s_i |Σg| |y_i|: the stored log_softmax's rounding, which backward's exp(y_i)·Σg reads",
    cancellationTerm: 'rtol·s_i|Σg||y_i|',
    closedForm: 'dx = g − exp(y)·Σg',
    closedFormForward: 'y = (x − m) − log Σ exp(x − m)',
    forwardSum: '|Σ exp(y) − 1|',
    gradScale: '(Σ|g| + |Σg|)',
    sliceNote: undefinedSliceNote('log_softmax'),
  },
  example: logSoftmaxExample,
  diagnoses: LOG_SOFTMAX_DIAGNOSES,
};

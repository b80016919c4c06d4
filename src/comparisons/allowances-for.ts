import type { Tolerance } from '../dtype.js';
import { lossLayer } from '../ops/cross_entropy/cross-entropy.js';
import { logSoftmaxClosedFormForwardSlice } from '../ops/log_softmax/log-softmax.js';
import type { MethodResult } from '../ops/softmax/pipelines.js';
import { forEachSlice, type SliceLayout } from '../numeric/slices.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import type { VerifyInput } from '../verify.js';
import { roundingAllowances, type Allowances } from './allowance.js';
import { crossEntropyAllowances } from '../ops/cross_entropy/cross-entropy-allowance.js';
import { logSoftmaxAllowances } from '../ops/log_softmax/log-softmax-allowance.js';

/** The allowances of the input's op, sized by the closed form's results, in arithmetic `a`. */
export function allowancesFor(input: VerifyInput, closedForm: MethodResult, layout: SliceLayout, a: Arithmetic, tolerance: Tolerance): Allowances {
  const x = input.x.data;
  const g = input.g.data;
  switch (input.op ?? 'softmax') {
    case 'softmax':
      return roundingAllowances({ x, g, softmax: closedForm.forward, grad: closedForm.grad, layout }, a, tolerance);
    case 'log_softmax':
      return logSoftmaxAllowances({ x, g, forward: closedForm.forward, grad: closedForm.grad, layout }, a, tolerance);
    case 'cross_entropy': {
      // The closed form's forward output is the loss: the log_softmax the allowances are sized by is its own.
      const y = new Float64Array(x.length);
      forEachSlice(layout, [x], [y], ([xs], [ys]) => logSoftmaxClosedFormForwardSlice(xs, ys, a));
      const spec = input.crossEntropy!;
      return crossEntropyAllowances({ x, y, grad: closedForm.grad, layout, layer: lossLayer(spec, g, layout, a), spec }, a, tolerance);
    }
  }
}

import type { CrossEntropySpec } from '../ops/cross_entropy/cross-entropy-spec.js';
import type { Op } from '../op.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import { runAccurateLogSoftmaxFloat64 } from '../ops/log_softmax/accurate-log-softmax.js';
import { runAccurateCrossEntropyFloat64, runCrossEntropyClosedFormMethod, runCrossEntropyJacobianMethod } from '../ops/cross_entropy/cross-entropy.js';
import { logSoftmaxLseForwardSlice, runLogSoftmaxClosedFormMethod, runLogSoftmaxJacobianMethod } from '../ops/log_softmax/log-softmax.js';
import { runAccurateFloat64, runClosedFormMethod, runJacobianMethod, type MethodResult } from '../ops/softmax/pipelines.js';
import { forEachSlice, type SliceLayout } from '../numeric/slices.js';
import { softmaxNormalisedSlice } from '../ops/softmax/softmax-normalised.js';

/** One op's two methods and its exact result (the judge of expected values), over all slices. */
export interface OpMethods {
  readonly jacobian: (x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic, materialiseLimit?: number) => MethodResult;
  /** The explicit method's forward output alone (no g: nothing to take the Jacobian to). */
  readonly jacobianForward: (x: Float64Array, layout: SliceLayout, a: Arithmetic) => Float64Array;
  readonly closedForm: (x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic) => MethodResult;
  readonly accurateFloat64: (x: Float64Array, g: Float64Array, layout: SliceLayout) => MethodResult;
}

export function methodsFor(op: Op, crossEntropy?: CrossEntropySpec): OpMethods {
  switch (op) {
    case 'softmax':
      return {
        jacobian: (x, g, layout, a, materialiseLimit) => runJacobianMethod(x, g, layout, materialiseLimit, a),
        jacobianForward: (x, layout, a) => forwardOf(x, layout, (xs, out) => softmaxNormalisedSlice(xs, out, a)),
        closedForm: runClosedFormMethod,
        accurateFloat64: runAccurateFloat64,
      };
    case 'log_softmax':
      return {
        jacobian: runLogSoftmaxJacobianMethod,
        jacobianForward: (x, layout, a) => forwardOf(x, layout, (xs, out) => logSoftmaxLseForwardSlice(xs, out, a)),
        closedForm: runLogSoftmaxClosedFormMethod,
        accurateFloat64: runAccurateLogSoftmaxFloat64,
      };
    case 'cross_entropy': {
      if (crossEntropy === undefined) throw new Error('cross_entropy without its target');
      const spec = crossEntropy;
      return {
        jacobian: (x, g, layout, a) => runCrossEntropyJacobianMethod(x, g, spec, layout, a),
        // (cross_entropy always has its g: the loss's, 1 unless given.)
        jacobianForward: (x, layout, a) => runCrossEntropyJacobianMethod(x, new Float64Array(layout.count), spec, layout, a).forward,
        closedForm: (x, g, layout, a) => runCrossEntropyClosedFormMethod(x, g, spec, layout, a),
        accurateFloat64: (x, g, layout) => runAccurateCrossEntropyFloat64(x, g, spec, layout),
      };
    }
  }
}

function forwardOf(x: Float64Array, layout: SliceLayout, slice: (xs: Float64Array, out: Float64Array) => void): Float64Array {
  const out = new Float64Array(x.length);
  forEachSlice(layout, [x], [out], ([xs], [ys]) => slice(xs, ys));
  return out;
}

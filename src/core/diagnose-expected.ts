import type { Allowances } from '../comparisons/allowance.js';
import { diagnose } from '../diagnosis/diagnose.js';
import { genericHypotheses } from '../diagnosis/generic-hypotheses.js';
import type { Diagnosis } from '../diagnosis/hypothesis.js';
import { DEFAULT_TOLERANCE, type Tolerance } from '../dtype.js';
import type { MethodResult } from '../methods/method-result.js';
import { arithmeticFor, FLOAT64_ARITHMETIC, type Arithmetic } from '../numeric/arithmetic.js';
import { sliceLayout, type SliceLayout } from '../numeric/slices.js';
import { opDefinition } from '../ops/index.js';
import type { OpSpec } from '../ops/op-definition.js';
import type { Comparison, ToleranceOrigin, VerifyInput } from './report.js';

/** What the judge has worked out that naming the likely bug reads. */
export interface JudgedExpected {
  readonly arithmetic: Arithmetic;
  readonly layout: SliceLayout;
  readonly exact: MethodResult;
  readonly closedForm: MethodResult;
  readonly comparisons: readonly Comparison[];
  readonly allowances: Allowances;
  readonly tolerance: Tolerance;
  readonly toleranceOrigin: ToleranceOrigin;
}

/**
 * The likely bugs behind expected values that failed (diagnosis/): the generic hypotheses and the
 * op's own, given the exact result, which elements failed, and how to recompute the op on a changed
 * input (another dim, g or spec) and judge it with other arithmetic's allowances.
 */
export function diagnoseExpected(input: VerifyInput, judged: JudgedExpected): Diagnosis[] {
  const { arithmetic, layout, exact, closedForm, allowances, tolerance, toleranceOrigin } = judged;
  const definition = opDefinition(input.op);
  return diagnose<OpSpec>(
    {
      x: input.x,
      g: input.g,
      logits: logitsSeen(input),
      axis: input.axis,
      spec: input.spec,
      dtype: input.dtype,
      arithmetic,
      layout,
      exact,
      expected: input.expected ?? {},
      // Every judged quantity, failing or not: a prediction must not break one that passed.
      failing: Object.fromEntries(judged.comparisons.filter((c) => c.actual === 'expected').map((c) => [c.quantity, c.closeness.closeMask.map((close) => 1 - close)])),
      allowances,
      allowancesIn: (dtype, compute) =>
        definition.allowances(input, closedForm, layout, arithmeticFor(dtype, { compute, accumulate: arithmetic.accumulate }), toleranceOrigin === 'dtype' ? DEFAULT_TOLERANCE[dtype] : tolerance),
      exactFor: (change) => {
        if (change.axis !== undefined && !definition.forwardPerElement) return undefined;
        const changed = { ...input, axis: change.axis ?? input.axis, spec: change.spec ?? input.spec, g: change.g === undefined ? input.g : { shape: input.g.shape, data: change.g } };
        // The closed form in float64 is close enough to judge a low-precision kernel by, at a fraction of the accurate form's cost.
        const methods = definition.methods(changed);
        const changedLayout = sliceLayout(input.x.shape, changed.axis);
        return input.dtype === 'float64' ? methods.accurateFloat64(input.x.data, changed.g.data, changedLayout) : methods.closedForm(input.x.data, changed.g.data, changedLayout, FLOAT64_ARITHMETIC);
      },
      names: { forward: definition.forwardName, grad: 'gradient' },
    },
    [...genericHypotheses<OpSpec>(), ...(definition.diagnoses ?? [])],
  );
}

/** The logits the op's softmax sees (an attention op's scale·x), −∞ where its mask leaves an element out. */
function logitsSeen(input: VerifyInput): Float64Array {
  const { spec, x } = input;
  const { keeps, logitsSeen: seen } = opDefinition(input.op).fieldsOut ?? {};
  if (spec === undefined || (keeps === undefined && seen === undefined)) return x.data;
  const logits = seen === undefined ? Float64Array.from(x.data) : seen(spec, x.data);
  if (keeps !== undefined) for (let i = 0; i < logits.length; i++) if (!keeps(spec, i)) logits[i] = -Infinity;
  return logits;
}

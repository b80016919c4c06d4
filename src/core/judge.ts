import { DEFAULT_TOLERANCE, EPSILON, UNIT_ROUNDOFF, type Tolerance } from '../dtype.js';
import { compareClose, difference, isClose } from '../comparisons/assert-close.js';
import { checkInvariants, type InvariantCheck } from '../comparisons/invariants.js';
import { ulpAccuracy } from '../comparisons/ulp-accuracy.js';
import { storedIn, type MethodResult } from '../methods/method-result.js';
import { arithmeticFor, type Arithmetic } from '../numeric/arithmetic.js';
import { roundToDType } from '../numeric/round-dtype.js';
import { sliceLabel, sliceLayout, sliceStart, type SliceLayout } from '../numeric/slices.js';
import { opDefinition } from '../ops/index.js';
import type { Quantity } from '../ops/op-definition.js';
import { checkFiniteDifferences } from '../ops/softmax/finite-differences.js';
import type { ReferenceResult } from '../reference/reference-result.js';
import type { Tensor } from '../tensor.js';
import { diagnoseExpected } from './diagnose-expected.js';
import {
  arithmeticTypesOf,
  METHOD_IDS,
  QUANTITIES,
  resultOf,
  type Accuracy,
  type Comparison,
  type MethodId,
  type MethodResults,
  type ReferenceReport,
  type Report,
  type SliceNote,
  type ToleranceOrigin,
  type VerifyInput,
  type VerifyOptions,
} from './report.js';
import { allowed, bothSidesRounded, type Allowances, type SliceBounds } from '../comparisons/allowance.js';

/**
 * The input as the methods see it: x and g rounded to its dtype (a no-op for float64), as a
 * kernel in that dtype receives them. A reference should be computed from this, not the original.
 */
export function roundedInput(input: VerifyInput): VerifyInput {
  if (input.dtype === 'float64' || ROUNDED.has(input)) return input;
  const round = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map((v) => roundToDType(v, input.dtype)) });
  const rounded = { ...input, x: round(input.x), g: round(input.g) };
  ROUNDED.add(rounded);
  return rounded;
}

/** Inputs roundedInput made: the run pipeline rounds once, and judge need not again (10^7 elements: 0.3 s). */
const ROUNDED = new WeakSet<VerifyInput>();

/**
 * Runs both methods on the input and compares them with each other; judges the input's expected
 * values, when it has them, against the exact result. Every comparison allows each element what
 * rounding allows a correct kernel there (allowance.ts), and the sums of every slice are held to
 * Σ s = 1 and Σ dx = 0 within what rounding allows.
 */
export function judge(original: VerifyInput, options: VerifyOptions = {}): Report {
  const input = roundedInput(original);
  const arithmetic = arithmeticFor(input.dtype, arithmeticTypesOf(input, options.arithmetic));
  const layout = sliceLayout(input.x.shape, input.axis);
  const x = input.x.data;
  const g = input.g.data;
  const skipped = options.jacobianSkipped;
  const op = input.op;
  const runsAccurate = options.accurate === true || skipped !== undefined;
  // The accurate closed form in float64 is both the judge of expected values and, stored in the
  // dtype, the optional third method: computed once for both.
  const definition = opDefinition(op);
  const opMethods = definition.methods(input);
  const exact = input.expected !== undefined || runsAccurate ? opMethods.accurateFloat64(x, g, layout) : undefined;
  const forwardOnly = input.forwardOnly === true;
  const quantities: readonly Quantity[] = forwardOnly ? ['forward'] : QUANTITIES;
  const explicit = (): MethodResult =>
    forwardOnly
      ? { forward: opMethods.jacobianForward(x, layout, arithmetic), grad: new Float64Array(x.length) }
      : (options.jacobianResult ?? opMethods.jacobian(x, g, layout, arithmetic, options.materialiseLimit));
  const results: MethodResults = {
    jacobian: skipped === undefined ? explicit() : undefined,
    closedForm: opMethods.closedForm(x, g, layout, arithmetic),
    accurate: runsAccurate && exact !== undefined ? storedIn(exact, arithmetic) : undefined,
  };
  const methods = METHOD_IDS.filter((method) => results[method] !== undefined);
  const witness: MethodId = skipped === undefined ? 'jacobian' : 'accurate';
  const finiteDifferences = options.finiteDifferences && !forwardOnly
    ? checkFiniteDifferences(x, g, results.closedForm.grad, layout, arithmetic)
    : undefined;

  const [tolerance, toleranceOrigin]: [Tolerance, ToleranceOrigin] =
    options.tolerance !== undefined
      ? [options.tolerance, 'flags']
      : input.tolerance !== undefined
        ? [input.tolerance, 'input']
        : [DEFAULT_TOLERANCE[input.dtype], 'dtype'];
  const { closedForm } = results;
  const allowancesIn = (a: Arithmetic): Allowances => definition.allowances(input, closedForm, layout, a, tolerance);
  const allowances = allowancesIn(arithmetic);

  const comparisons: Comparison[] = [];
  for (const quantity of quantities) {
    // Every other method against the closed form, then the expected values against the exact result.
    for (const method of methods) {
      if (method === 'closedForm') continue;
      // Both are rounded results: each may be off by the whole allowance, in opposite directions.
      const closeness = compareClose(resultOf(results, method)[quantity], closedForm[quantity], bothSidesRounded(allowances[quantity]));
      comparisons.push({ quantity, actual: method, expected: 'closedForm', closeness });
    }
    const expected = input.expected?.[quantity];
    if (expected === undefined || exact === undefined) continue;
    comparisons.push({ quantity, actual: 'expected', expected: 'exact', closeness: compareClose(expected, exact[quantity], allowances[quantity]) });
  }

  const rowClose = new Uint8Array(x.length).fill(1);
  // The rows are x's elements: a loss (cross_entropy's forward output) is not one of them.
  for (const { closeness } of comparisons.filter((c) => c.closeness.total === x.length)) {
    for (let k = 0; k < rowClose.length; k++) rowClose[k] &= closeness.closeMask[k];
  }

  const epsilon = EPSILON[input.dtype];
  const { laws } = definition;
  const lawGradient = laws.gradient(input, layout, arithmetic);
  const invariantsOf = (values: { forward?: Float64Array; grad?: Float64Array }, bounds = allowances.slices) =>
    checkInvariants(
      laws.forward === undefined ? { grad: values.grad } : forwardOnly ? { forward: values.forward } : values,
      closedForm.forward,
      lawGradient,
      layout,
      bounds,
      epsilon,
      laws.gradientLaw,
    );
  const invariants: Partial<Record<MethodId | 'expected', InvariantCheck>> = Object.fromEntries(
    methods.map((method) => [method, invariantsOf(resultOf(results, method))]),
  );
  if (input.expected !== undefined) invariants.expected = invariantsOf(input.expected, allowances.expectedSlices);

  // A kernel without float32 opmath rounds more than the run's arithmetic allows: when that alone
  // explains the failures, the report says which flag declares it.
  const failing = comparisons.filter((c) => c.closeness.mismatched > 0);
  const expectedFailsAlone = failing.every((c) => c.actual === 'expected') && (failing.length > 0 || (invariants.expected?.flaggedSlices ?? 0) > 0);
  const computesWider = UNIT_ROUNDOFF[arithmetic.compute] < UNIT_ROUNDOFF[input.dtype];
  const passesComputingInDtype =
    expectedFailsAlone && computesWider && exact !== undefined && input.expected !== undefined
      ? passesWithLooserArithmetic(
          input.expected,
          exact,
          failing,
          allowancesIn(arithmeticFor(input.dtype, { compute: input.dtype, accumulate: arithmetic.accumulate })),
          (values, bounds) => invariantsOf(values, bounds).flaggedSlices,
        )
      : undefined;

  const diagnosis =
    options.diagnose !== false && exact !== undefined && failing.some((c) => c.actual === 'expected')
      ? diagnoseExpected(input, { arithmetic, layout, exact, closedForm, comparisons, allowances, tolerance, toleranceOrigin })
      : [];

  const given = options.arithmetic ?? {};
  return {
    input,
    arithmetic: {
      dtype: arithmetic.dtype,
      compute: arithmetic.compute,
      accumulate: arithmetic.accumulate,
      fromInput: input.arithmetic !== undefined && given.compute === undefined && given.accumulate === undefined,
    },
    tolerance,
    toleranceOrigin,
    methods,
    results,
    exact: input.expected === undefined ? undefined : exact,
    jacobianSkipped: skipped,
    referenceSkipped: options.referenceSkipped,
    witness,
    // The difference column is the second witness minus the closed form.
    differences: {
      forward: elementwise(resultOf(results, witness).forward, closedForm.forward, difference),
      grad: elementwise(resultOf(results, witness).grad, closedForm.grad, difference),
    },
    comparisons,
    rowClose,
    sliceNotes: findNonFiniteSlices(input, layout),
    invariants,
    reference: options.reference && measureAgainst(options.reference, methods, results, input, quantities),
    finiteDifferences,
    passesComputingInDtype,
    diagnosis,
    passed:
      comparisons.every((c) => c.closeness.mismatched === 0) &&
      (finiteDifferences?.mismatched ?? 0) === 0 &&
      (invariants.expected?.flaggedSlices ?? 0) === 0,
  };
}

/** Whether every failing element, and every slice's sums, of the expected values are within `looser`. */
function passesWithLooserArithmetic(
  expected: NonNullable<VerifyInput['expected']>,
  exact: MethodResult,
  failing: readonly Comparison[],
  looser: Allowances,
  flaggedSlices: (values: NonNullable<VerifyInput['expected']>, bounds: SliceBounds) => number,
): boolean {
  const elementsPass = failing.every(({ quantity, closeness }) => {
    const a = expected[quantity]!;
    const b = exact[quantity];
    for (let k = 0; k < a.length; k++) {
      if (closeness.closeMask[k] === 0 && !isClose(a[k], b[k], allowed(looser[quantity], k, b[k]))) return false;
    }
    return true;
  });
  return elementsPass && flaggedSlices(expected, looser.expectedSlices) === 0;
}

function measureAgainst(
  reference: ReferenceResult,
  methods: readonly MethodId[],
  results: MethodResults,
  input: VerifyInput,
  quantities: readonly Quantity[],
): ReferenceReport {
  const accuracy: Accuracy[] = [];
  for (const quantity of quantities) {
    for (const of of methods) {
      accuracy.push({ quantity, of, ...ulpAccuracy(resultOf(results, of)[quantity], reference[quantity], input.dtype) });
    }
    const expected = input.expected?.[quantity];
    if (expected !== undefined) {
      accuracy.push({ quantity, of: 'expected', ...ulpAccuracy(expected, reference[quantity], input.dtype) });
    }
  }
  return { ...reference, accuracy };
}

function elementwise(a: Float64Array, b: Float64Array, f: (a: number, b: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = f(a[k], b[k]);
  return out;
}

function findNonFiniteSlices(input: VerifyInput, layout: SliceLayout): SliceNote[] {
  const { x, axis, spec } = input;
  const { ignoresSlice, keeps, logitsSeen } = opDefinition(input.op).fieldsOut ?? {};
  const logits = spec !== undefined && logitsSeen !== undefined ? logitsSeen(spec, x.data) : x.data;
  // An element the op's own mask leaves out takes no part, whatever its logit.
  const takesPart = (i: number) => spec === undefined || keeps === undefined || keeps(spec, i);
  const notes: SliceNote[] = [];
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    let masked = 0;
    let kept = 0;
    let reason: SliceNote['reason'] | undefined;
    for (let j = 0; j < layout.length && reason === undefined; j++) {
      const i = start + j * layout.stride;
      if (!takesPart(i)) continue;
      kept++;
      const v = logits[i];
      if (v !== v) reason = 'nan-logit';
      else if (v === Infinity) reason = 'positive-infinite-logit';
      else if (v === -Infinity) masked++;
    }
    if (reason === undefined && kept === 0) reason = 'fully-masked';
    else if (reason === undefined && masked === kept) reason = 'all-masked';
    if (reason === undefined) continue;
    const ignored = spec !== undefined && ignoresSlice !== undefined && ignoresSlice(spec, k);
    notes.push({ slice: sliceLabel(layout, x.shape, axis, k), reason, ...(ignored ? { ignored } : {}) });
  }
  return notes;
}

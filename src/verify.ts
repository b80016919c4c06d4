import { DEFAULT_TOLERANCE, EPSILON, UNIT_ROUNDOFF, type DType, type Tolerance } from './dtype.js';
import { allowed, bothSidesRounded, type Allowances, type SliceBounds } from './comparisons/allowance.js';
import { compareClose, difference, isClose, type Closeness } from './comparisons/assert-close.js';
import { checkFiniteDifferences, type FiniteDifferenceCheck } from './ops/softmax/finite-differences.js';
import { lossShape, type CrossEntropySpec } from './ops/cross_entropy/cross-entropy-spec.js';
import { sliceLabel, sliceLayout, sliceStart, type SliceLayout } from './numeric/slices.js';
import { checkInvariants, type InvariantCheck } from './comparisons/invariants.js';
import { ulpAccuracy, type UlpAccuracy } from './comparisons/ulp-accuracy.js';
import { arithmeticFor, type Arithmetic, type ArithmeticTypes } from './numeric/arithmetic.js';
import { roundToDType } from './numeric/round-dtype.js';
import type { Tensor } from './tensor.js';
import type { OverBudget } from './core/budget.js';
import { opDefinition, type Op } from './ops/index.js';
import type { Quantity } from './ops/op-definition.js';
import { storedIn, type MethodResult } from './methods/method-result.js';
import { type ReferenceResult } from './reference/reference-result.js';

/** Everything a run needs, already validated: shapes agree and `axis` is in range. */
export interface VerifyInput {
  /** Where the input came from, for the report's first line. */
  readonly label: string;
  readonly name?: string;
  readonly description?: string;
  /** Who produced `expected`. */
  readonly source?: string;
  readonly x: Tensor;
  readonly g: Tensor;
  /** `dim` as the user wrote it, and the axis it names. */
  readonly dim: number;
  readonly axis: number;
  readonly dtype: DType;
  /** Where the dtype came from, for the report (absent: the caller did not say). */
  readonly dtypeFrom?: DTypeOrigin;
  /** The operation verified (default softmax). */
  readonly op?: Op;
  /** cross_entropy's target, reduction, smoothing, ignore_index and weights (op cross_entropy only). */
  readonly crossEntropy?: CrossEntropySpec;
  readonly expected?: { readonly forward?: Float64Array; readonly grad?: Float64Array };
  /** A tolerance carried by the input itself (a fixture's). */
  readonly tolerance?: Tolerance;
  /**
   * No g was given (softmax, log_softmax): the forward output is checked alone. `g` then holds
   * zeros, so that every step runs as it does, and nothing of the gradient is compared, measured,
   * shown or judged; the report says so.
   */
  readonly forwardOnly?: boolean;
}

/** `--dtype`, the input document's `dtype`, the dtype x and g were stored in, or float64 by default. */
export type DTypeOrigin = 'flag' | 'input' | 'data' | 'default';

export interface VerifyOptions {
  /** `--rtol/--atol`: overrides the input's and the dtype's. */
  readonly tolerance?: Tolerance;
  /** The correctly rounded results, to measure every method (and `expected`) against in ulps. */
  readonly reference?: ReferenceResult;
  /** Largest slice for which the Jacobian is materialised; above it rows are streamed. */
  readonly materialiseLimit?: number;
  /** Run the third, optional method too: the accurate closed form. */
  readonly accurate?: boolean;
  /** `--compute` and `--accumulate`; by default PyTorch's for the input's dtype. */
  readonly arithmetic?: ArithmeticTypes;
  /** `--fd`: check the closed form's gradient against central differences too (O(n²)). */
  readonly finiteDifferences?: boolean;
  /**
   * Why the explicit Jacobian is not run (its O(n²) work is beyond the budget): the accurate
   * closed form then stands in as the closed form's second witness.
   */
  readonly jacobianSkipped?: OverBudget;
  /** The explicit-Jacobian method's results, when computed elsewhere (by worker threads). */
  readonly jacobianResult?: MethodResult;
  /** Why no reference was computed though one was asked for (its cost), for the report to say. */
  readonly referenceSkipped?: OverBudget;
}

export const METHOD_IDS = ['jacobian', 'closedForm', 'accurate'] as const;
export type MethodId = (typeof METHOD_IDS)[number];
export const METHOD_LABEL: Readonly<Record<MethodId, string>> = {
  jacobian: 'explicit Jacobian',
  closedForm: 'closed form',
  accurate: 'accurate closed form',
};

/** The closed form every run has; the explicit Jacobian unless skipped; the optional accurate form. */
export type MethodResults = Readonly<{ closedForm: MethodResult; jacobian?: MethodResult; accurate?: MethodResult }>;

export type { Quantity } from './ops/op-definition.js';
export const QUANTITIES: readonly Quantity[] = ['forward', 'grad'];

/**
 * The sides a comparison can have: a method's results, the input's expected values, or the exact
 * result they are judged against (the accurate closed form in float64: docs/verdict.md says how
 * close it is, a few billionths of the tightest allowance).
 */
export type Side = MethodId | 'expected' | 'exact';
export const SIDE_LABEL: Readonly<Record<Side, string>> = { ...METHOD_LABEL, expected: 'expected', exact: 'exact' };

export interface Comparison {
  readonly quantity: Quantity;
  /** Side `a`: a method checked against the closed form, or the expected values against the exact result. */
  readonly actual: MethodId | 'expected';
  /** The side taken as `b` in `|a − b| ≤ allowed(b)`. */
  readonly expected: MethodId | 'exact';
  readonly closeness: Closeness;
}

export type ToleranceOrigin = 'flags' | 'input' | 'dtype';

/** A slice whose softmax cannot be a probability vector, and why. */
export interface SliceNote {
  /** The slice as an index with `:` along the softmax dim, e.g. `[1, :]`. */
  readonly slice: string;
  readonly reason: 'all-masked' | 'nan-logit' | 'positive-infinite-logit';
  /** cross_entropy: the sample's target is ignore_index (it adds nothing to the loss, but its gradient is NaN all the same). */
  readonly ignored?: boolean;
}

/** How far one set of results is from the reference, in ulps of the input's dtype. */
export interface Accuracy extends UlpAccuracy {
  readonly quantity: Quantity;
  readonly of: MethodId | 'expected';
}

export interface ReferenceReport extends ReferenceResult {
  readonly accuracy: readonly Accuracy[];
}

export interface Report {
  /** The input as computed with: x and g rounded to its dtype. */
  readonly input: VerifyInput;
  /** The arithmetic the methods ran in. */
  readonly arithmetic: Arithmetic;
  readonly tolerance: Tolerance;
  readonly toleranceOrigin: ToleranceOrigin;
  /** The methods that ran, in the order reports list them. */
  readonly methods: readonly MethodId[];
  /** Why the explicit Jacobian did not run, when it did not. */
  readonly jacobianSkipped?: OverBudget;
  /** Why the reference was not computed, when `auto` left it out. */
  readonly referenceSkipped?: OverBudget;
  /** The closed form's second witness: the explicit Jacobian, or the accurate form standing in. */
  readonly witness: MethodId;
  readonly results: MethodResults;
  /** The exact result, to float64 precision, that expected values are judged against; when the input has them. */
  readonly exact?: MethodResult;
  /** The witness minus the closed form, 0 where both match exactly (NaN and NaN included). */
  readonly differences: Readonly<Record<Quantity, Float64Array>>;
  readonly comparisons: readonly Comparison[];
  /** 1 where every comparison holds at that element. */
  readonly rowClose: Uint8Array;
  readonly sliceNotes: readonly SliceNote[];
  /**
   * Σ s = 1 and Σ dx = 0 per slice, for each method that ran and for the expected values. A
   * flagged slice of the expected values fails the verdict; the methods' are information.
   */
  readonly invariants: Readonly<Partial<Record<MethodId | 'expected', InvariantCheck>>>;
  /** Present with `--fd`; part of the verdict. */
  readonly finiteDifferences?: FiniteDifferenceCheck;
  /** Present when a reference was computed; ulp figures are information, not part of the verdict. */
  readonly reference?: ReferenceReport;
  readonly passed: boolean;
  /**
   * Set when the expected values fail only because they round like a kernel that computes in
   * the dtype itself (no float32 opmath): every failing element is within the allowance of that
   * arithmetic, which `--compute <dtype>` declares.
   */
  readonly passesComputingInDtype?: boolean;
}

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

/** Inputs roundedInput made: the run pipeline rounds once, and verify need not again (10^7 elements: 0.3 s). */
const ROUNDED = new WeakSet<VerifyInput>();

/**
 * Runs both methods on the input and compares them with each other; judges the input's expected
 * values, when it has them, against the exact result. Every comparison allows each element what
 * rounding allows a correct kernel there (allowance.ts), and the sums of every slice are held to
 * Σ s = 1 and Σ dx = 0 within what rounding allows.
 */
export function verify(original: VerifyInput, options: VerifyOptions = {}): Report {
  const input = roundedInput(original);
  const arithmetic = arithmeticFor(input.dtype, options.arithmetic);
  const layout = sliceLayout(input.x.shape, input.axis);
  const x = input.x.data;
  const g = input.g.data;
  const skipped = options.jacobianSkipped;
  const op = input.op ?? 'softmax';
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

  return {
    input,
    arithmetic,
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
    sliceNotes: findNonFiniteSlices(input.x, input.axis, layout, input.crossEntropy),
    invariants,
    reference: options.reference && measureAgainst(options.reference, methods, results, input, quantities),
    finiteDifferences,
    passesComputingInDtype,
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

/** The shape a quantity's values have: x's, but cross_entropy's loss has its own (one number, or one a sample). */
export function quantityShape(input: VerifyInput, quantity: Quantity): readonly number[] {
  if (quantity === 'forward' && input.crossEntropy !== undefined) return lossShape(input.crossEntropy, input.x.shape, input.axis);
  return input.x.shape;
}

/** The values of one side of a comparison. */
export function sideValues(report: Report, side: Side, quantity: Quantity): Float64Array {
  const values = side === 'expected' ? report.input.expected?.[quantity] : side === 'exact' ? report.exact?.[quantity] : resultOf(report.results, side)[quantity];
  if (values === undefined) throw new Error(`the report has no ${side} ${quantity}`);
  return values;
}

/** A method's results; only asked for methods that ran. */
export function resultOf(results: MethodResults, method: MethodId): MethodResult {
  const result = results[method];
  if (result === undefined) throw new Error(`the ${METHOD_LABEL[method]} method did not run`);
  return result;
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

function findNonFiniteSlices(x: Tensor, axis: number, layout: SliceLayout, crossEntropy: CrossEntropySpec | undefined): SliceNote[] {
  const notes: SliceNote[] = [];
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    let masked = 0;
    let reason: SliceNote['reason'] | undefined;
    for (let j = 0; j < layout.length && reason === undefined; j++) {
      const v = x.data[start + j * layout.stride];
      if (v !== v) reason = 'nan-logit';
      else if (v === Infinity) reason = 'positive-infinite-logit';
      else if (v === -Infinity) masked++;
    }
    if (reason === undefined && masked === layout.length) reason = 'all-masked';
    if (reason === undefined) continue;
    const ignored = crossEntropy?.targetKind === 'index' && crossEntropy.target.data[k] === crossEntropy.ignoreIndex;
    notes.push({ slice: sliceLabel(layout, x.shape, axis, k), reason, ...(ignored ? { ignored } : {}) });
  }
  return notes;
}

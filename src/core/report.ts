import type { Diagnosis } from '../diagnosis/hypothesis.js';
import type { DType, Tolerance } from '../dtype.js';
import type { Closeness } from '../comparisons/assert-close.js';
import type { InvariantCheck } from '../comparisons/invariants.js';
import type { UlpAccuracy } from '../comparisons/ulp-accuracy.js';
import type { MethodResult } from '../methods/method-result.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import type { FiniteDifferenceCheck } from '../ops/softmax/finite-differences.js';
import type { Op, OpSpec, Quantity } from '../ops/op-definition.js';
import { opDefinition } from '../ops/index.js';
import type { ReferenceResult } from '../reference/reference-result.js';
import type { Tensor } from '../tensor.js';
import type { OverBudget } from './over-budget.js';

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
  readonly op: Op;
  /** The op's own fields, checked against x (cross_entropy's target and settings, …). */
  readonly spec?: OpSpec;
  readonly expected?: { readonly forward?: Float64Array; readonly grad?: Float64Array };
  /** A tolerance carried by the input itself (a fixture's). */
  readonly tolerance?: Tolerance;
  /** The arithmetic of the kernel the expected values came from, carried by the input (a fixture's): options' parts win. */
  readonly arithmetic?: ArithmeticTypes;
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
  /** false: name no likely bug (a hunt's search and shrink; the benchmark measuring what it costs). */
  readonly diagnose?: boolean;
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

export type { Quantity } from '../ops/op-definition.js';
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
  /** `fully-masked`: the op's own mask leaves out every element. */
  readonly reason: 'all-masked' | 'nan-logit' | 'positive-infinite-logit' | 'fully-masked';
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
  readonly arithmetic: ArithmeticUsed;
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
  /** The likely bugs behind failing expected values, best first; empty when none fail or nothing explains them. */
  readonly diagnosis: readonly Diagnosis[];
}

/**
 * The arithmetic a run's methods ran in, by its types' names; `fromInput`: the input's own (a
 * fixture's "arithmetic"), no option overriding any part of it.
 */
export interface ArithmeticUsed {
  readonly dtype: DType;
  readonly compute: DType;
  readonly accumulate: DType;
  readonly fromInput: boolean;
}

/** The arithmetic a run takes: each part given in the options, else the input's own, else PyTorch's for the dtype. */
export function arithmeticTypesOf(input: VerifyInput, given: ArithmeticTypes = {}): ArithmeticTypes {
  const compute = given.compute ?? input.arithmetic?.compute;
  const accumulate = given.accumulate ?? input.arithmetic?.accumulate;
  return { ...(compute === undefined ? {} : { compute }), ...(accumulate === undefined ? {} : { accumulate }) };
}

/** The shape a quantity's values have: x's, but cross_entropy's loss has its own (one number, or one a sample). */
export function quantityShape(input: VerifyInput, quantity: Quantity): readonly number[] {
  const shapeOf = opDefinition(input.op).fieldsOut?.forwardShape;
  if (quantity === 'forward' && input.spec !== undefined && shapeOf !== undefined) return shapeOf(input.spec, input.x.shape, input.axis);
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

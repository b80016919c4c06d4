import type { Allowances } from '../comparisons/allowance.js';
import type { DType } from '../dtype.js';
import type { MethodResult } from '../methods/method-result.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import type { SliceLayout } from '../numeric/slices.js';
import type { Tensor } from '../tensor.js';

/** The op's forward output and the input gradient (as ops/op-definition.ts names them). */
export type Quantity = 'forward' | 'grad';

/**
 * What a hypothesis may read of a failing run: the input as the kernel got it, the exact result,
 * the expected values, which of them failed, and how to get the exact result of a changed input
 * (another dim, another g, the op's fields changed), which is how most bugs are recomputed.
 */
export interface DiagnosisContext<Spec = unknown> {
  readonly x: Tensor;
  readonly g: Tensor;
  /** The logits the op's softmax sees: x, or an attention op's scale·x with −∞ where masked. */
  readonly logits: Float64Array;
  readonly axis: number;
  /** The op's own fields as checked against x (a loss's target, an attention mask). */
  readonly spec: Spec | undefined;
  readonly dtype: DType;
  readonly arithmetic: Arithmetic;
  readonly layout: SliceLayout;
  readonly exact: MethodResult;
  readonly expected: Readonly<Partial<Record<Quantity, Float64Array>>>;
  /** 1 where the expected value is beyond its allowance of the exact one. */
  readonly failing: Readonly<Partial<Record<Quantity, Uint8Array>>>;
  readonly allowances: Allowances;
  /** The allowances a kernel of other arithmetic gets (its own compute type, a narrower dtype). */
  readonly allowancesIn: (dtype: DType, compute: DType) => Allowances;
  /** The op's result on a changed input in float64 (exact for a float64 input); undefined where the change cannot be made. */
  readonly exactFor: (change: { readonly axis?: number; readonly g?: Float64Array; readonly spec?: Spec }) => MethodResult | undefined;
  /** How many failing elements these values (the quantities not given taken as exact) explain: to choose among a hypothesis's variants. */
  readonly explained: (values: PredictedValues) => number;
  /** The quantities' names in a sentence (`softmax`, `log_softmax`, `loss`; `gradient`). */
  readonly names: Readonly<Record<Quantity, string>>;
}

/**
 * A bug's values for the quantities it changes: an array, or element i's value made when asked for
 * (a bug that is one expression per element need not allocate a whole array for the failing few).
 */
export type PredictedValues = Readonly<Partial<Record<Quantity, Float64Array | ((i: number) => number)>>>;

/**
 * What a bug would have given: the quantities it changes, recomputed (the others are taken as
 * exact), or, for a bug known by where it shows rather than by its values, the elements it
 * accounts for.
 */
export interface Prediction {
  readonly values?: PredictedValues;
  /** 1 where the bug accounts for a failing element (a NaN where the logits overflow, a stray element). */
  readonly accounts?: Readonly<Partial<Record<Quantity, Uint8Array>>>;
  /** One sentence a kernel author reads: what the kernel likely did. */
  readonly message: string;
  /** What the hypothesis measured (the dim, the factor, the flag), kept in the JSON report. */
  readonly details?: Readonly<Record<string, number | string>>;
}

/** One bug a diagnosis tests: recomputes what it would give, or says it does not apply. */
export interface Hypothesis<Spec = unknown> {
  /** Stable, documented (docs/diagnosis.md): the JSON report's `code`. */
  readonly code: string;
  /** A bug of one op or one design, not a shape of error any bug could take: it ranks first among equals. */
  readonly specific: boolean;
  predict(context: DiagnosisContext<Spec>): Prediction | undefined;
}

/** A hypothesis that explains the failures: the JSON report's `diagnosis` entries, best first. */
export interface Diagnosis {
  readonly code: string;
  /** The quantity most of what it explains is in. */
  readonly quantity: Quantity;
  /** The failing elements it explains, of `failing`. */
  readonly explains: number;
  readonly failing: number;
  readonly message: string;
  readonly details?: Readonly<Record<string, number | string>>;
}

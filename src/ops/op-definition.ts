import type { DType, Tolerance } from '../dtype.js';
import type { MethodResult } from '../methods/method-result.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import type { SliceLayout } from '../numeric/slices.js';
import type { BigNumberPolicy, LeftUndecided } from '../reference/reference-by-slices.js';
import type { ReferenceResult } from '../reference/reference-result.js';
import type { ReferenceEngine } from '../reference/reference-slice.js';
import type { Progress } from '../progress.js';
import type { Tensor } from '../tensor.js';
import type { CrossEntropyFields } from './cross_entropy/cross-entropy-input.js';
import type { CrossEntropySpec } from './cross_entropy/cross-entropy-spec.js';
import { type Allowances } from '../comparisons/allowance.js';

/** What an op's pieces read of a validated input. */
export interface OpInput {
  readonly x: Tensor;
  readonly g: Tensor;
  readonly axis: number;
  /** cross_entropy's target, reduction, smoothing, ignore_index and weights. */
  readonly crossEntropy?: CrossEntropySpec;
}

/** An op's two methods and its exact result (the judge of expected values), over all slices. */
export interface OpMethods {
  readonly jacobian: (x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic, materialiseLimit?: number) => MethodResult;
  /** The explicit method's forward output alone (no g: nothing to take the Jacobian to). */
  readonly jacobianForward: (x: Float64Array, layout: SliceLayout, a: Arithmetic) => Float64Array;
  readonly closedForm: (x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic) => MethodResult;
  readonly accurateFloat64: (x: Float64Array, g: Float64Array, layout: SliceLayout) => MethodResult;
}

/** The explicit Jacobian's kernels the worker threads run, by name: softmax's rows, or log_softmax's columns (cross_entropy's too). */
export type JacobianKernel = 'softmax' | 'log_softmax';

/** The worker threads' explicit Jacobian, which the run pipeline hands an op (ops do not start threads). */
export type ParallelJacobian = (x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic, kernel: JacobianKernel, progress?: Progress) => Promise<MethodResult>;

/** What the invariants of an op's results are: the sums its forward output and gradient keep per slice. */
export interface OpLaws {
  /** Σ s = 1 (softmax) or Σ exp(y) = 1 (log_softmax); none for a loss. */
  readonly forward: 'softmax' | 'log_softmax' | undefined;
  /** The g the gradient's sum is measured against: g itself, or cross_entropy's h = dL/dy. */
  readonly gradient: (input: OpInput, layout: SliceLayout, a: Arithmetic) => Float64Array;
  /** How the sums' own dx law reads (softmax's, or log_softmax's backward). */
  readonly gradientLaw: 'softmax' | 'log_softmax';
}

/** The op's words in reports; chosen here so that no renderer switches on the op's name. */
export interface OpWords {
  /** The close rule's formula: `atol + rtol·(|b| + s_i Σ_j s_j |g_j|) + arithmetic`. */
  readonly closeRule: string;
  /** What the rule's op-specific term is, for the line under it. */
  readonly closeRuleTerms: string;
  /** The cancellation term of one element's allowance, as a failing element spells it out: the gradient's, and the forward output's where it has one. */
  readonly cancellationTerm: string;
  readonly forwardCancellationTerm?: string;
  /** The closed form's backward and forward, as a recorded fixture's source names them. */
  readonly closedForm: string;
  readonly closedFormForward: string;
  /** The invariants' column headers. */
  readonly forwardSum: string;
  readonly gradScale: string;
  /** The line that explains a slice with no probability vector (`cause`: "has every logit −inf", …). */
  readonly sliceNote: (note: { readonly slice: string; readonly reason: string; readonly ignored?: boolean }, cause: string) => string;
}

/** How a field's value is read, at every front door (flags, documents, dumps, the library). */
export type FieldKind =
  /** Numbers in the forms x takes (nested arrays, a flat list, .npy); `orNumber`: a single number too. */
  | { readonly type: 'values'; readonly orNumber?: boolean }
  | { readonly type: 'choice'; readonly choices: readonly string[] }
  /** A number from 0 to 1. */
  | { readonly type: 'fraction' }
  | { readonly type: 'integer' };

/**
 * A field an op takes beside x, g and dim. Its document key is PyTorch's keyword (`label_smoothing`);
 * the library's name is that in camelCase (`labelSmoothing`), the flag in kebab-case (`--label-smoothing`).
 */
export interface OpField {
  readonly key: string;
  readonly kind: FieldKind;
  /** What it is, for --help: `from 0 to 1 (default: 0)`. */
  readonly help: string;
  /** How messages name it in a sentence: `label smoothing`. */
  readonly what: string;
  /** A field the op cannot run without: what it needs there, for the message that says it is missing. */
  readonly required?: { readonly needs: string };
}

/** An input as the built-in example gives it (the fields of core's VerifyInput it sets). */
export interface OpExample {
  readonly label: string;
  readonly name: string;
  readonly source: string;
  readonly op: Op;
  readonly x: Tensor;
  readonly g: Tensor;
  readonly dim: number;
  readonly axis: number;
  readonly dtype: DType;
  readonly expected: { readonly forward: Float64Array; readonly grad: Float64Array };
}

/** The op's forward output (softmax, log_softmax, the loss) and the input gradient. */
export type Quantity = 'forward' | 'grad';

/** The ops, by name; the registry (index.ts) holds one definition of each. */
export const OP_NAMES = ['softmax', 'log_softmax', 'cross_entropy'] as const;
export type Op = (typeof OP_NAMES)[number];

/** The op of an input that names none (and a fixture need not name). */
export const DEFAULT_OP: Op = 'softmax';

/** What a request gives of an op's fields (read, not yet checked against x), with g and the expected forward output. */
export type GivenFields = CrossEntropyFields & { readonly expected?: { readonly forward?: Float64Array } };

/**
 * Everything that is one op's own, in one object: the registry lists one per op, and the run
 * pipeline, the judging and the renderers ask it rather than switch on the op's name.
 */
export interface OpDefinition<K extends Op = Op> {
  readonly op: K;
  /** The forward output's name in reports, documents and dumps. */
  readonly forwardName: 'softmax' | 'log_softmax' | 'loss';
  /** The fields it takes beside x, g and dim (none for softmax and log_softmax). */
  readonly fields: readonly OpField[];
  /** The dim it runs along when the input names none, for x of this rank. */
  readonly defaultDim: (rank: number) => number;
  /**
   * Its fields checked against x, for an op whose g is not x's shape (cross_entropy's is the
   * loss's): the parts of the input they make. Absent: g is x's shape, or absent (forward only).
   */
  readonly fieldsAgainstX?: (given: GivenFields, x: Tensor, axis: number) => { readonly crossEntropy: CrossEntropySpec; readonly g: Tensor };
  /** Whether the forward output has x's shape (a value per element), or is a loss of its own shape. */
  readonly forwardPerElement: boolean;
  /** Whether `--fd` (central differences of the gradient) is implemented for it. */
  readonly finiteDifferences: boolean;
  readonly methods: (input: OpInput) => OpMethods;
  /** The allowances, sized by the closed form's results, in arithmetic `a`. */
  readonly allowances: (input: OpInput, closedForm: MethodResult, layout: SliceLayout, a: Arithmetic, tolerance: Tolerance) => Allowances;
  readonly laws: OpLaws;
  /** The correctly rounded results, each engine loaded when asked for. */
  readonly reference: (input: OpInput, engine: ReferenceEngine, policy: BigNumberPolicy) => Promise<ReferenceResult | LeftUndecided>;
  /** The explicit Jacobian shared among worker threads, for large inputs. */
  readonly parallelJacobian: (input: OpInput, a: Arithmetic, run: ParallelJacobian, progress?: Progress) => Promise<MethodResult>;
  /** BigNumber's cost per element at 64 digits, measured (budget.ts). */
  readonly bigNumberMillisecondsPerElement: number;
  readonly words: OpWords;
  /** The run with no input and this op: PyTorch's values for x = 1..9, g = 11..19, where there are some. */
  readonly example?: () => OpExample;
}

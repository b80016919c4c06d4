import type { DType, Tolerance } from '../dtype.js';
import type { MethodResult } from '../methods/method-result.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import type { SliceLayout } from '../numeric/slices.js';
import type { BigNumberPolicy, LeftUndecided } from '../reference/reference-by-slices.js';
import type { ReferenceResult } from '../reference/reference-result.js';
import type { ReferenceEngine } from '../reference/reference-slice.js';
import type { Progress } from '../progress.js';
import type { Tensor } from '../tensor.js';
import type { Random } from '../numeric/random.js';
import type { CrossEntropyFields } from './cross_entropy/cross-entropy-input.js';
import type { CrossEntropySpec } from './cross_entropy/cross-entropy-spec.js';
import type { MaskedSoftmaxFields, MaskedSoftmaxSpec } from './masked_softmax/masked-softmax-spec.js';
import { type Allowances } from '../comparisons/allowance.js';
import type { Hypothesis } from '../diagnosis/hypothesis.js';

/** What an op's pieces read of a validated input. */
export interface OpInput {
  readonly x: Tensor;
  readonly g: Tensor;
  readonly axis: number;
  /** The op's own fields, checked against x (absent for an op that has none). */
  readonly spec?: OpSpec;
}

/**
 * An op's own fields as checked against x, discriminated by `op`: cross_entropy's target and
 * settings, masked_softmax's mask and scale. Only the op's own folder reads inside one; the
 * shared code hands it to the op's OpFieldsOut.
 */
export type OpSpec = CrossEntropySpec | MaskedSoftmaxSpec;

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
  | { readonly type: 'values'; readonly orNumber?: boolean; readonly integers?: boolean }
  /** Booleans in the forms x takes (true/false or 1/0; .npy `|b1`, safetensors BOOL): 1 where true. */
  | { readonly type: 'mask' }
  /** A flag: present (or `true`) or absent (`false`). */
  | { readonly type: 'boolean' }
  /** A finite number. */
  | { readonly type: 'number' }
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
export const OP_NAMES = ['softmax', 'log_softmax', 'cross_entropy', 'masked_softmax'] as const;
export type Op = (typeof OP_NAMES)[number];

/** The op of an input that names none (and a fixture need not name). */
export const DEFAULT_OP: Op = 'softmax';

/** What a request gives of an op's fields (read, not yet checked against x), with g and the expected forward output. */
export type GivenFields = CrossEntropyFields & MaskedSoftmaxFields & { readonly expected?: { readonly forward?: Float64Array } };

/** One hunt case's own fields for an op (hunt/): the fields by library name, the input class they exercise, and g where it is the op's own shape. */
export interface HuntFields {
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** g where it is the op's own shape (a loss's). */
  readonly g?: Tensor;
  /** x changed to fit the fields (a confident row: the target's logit raised). */
  readonly x?: Tensor;
}

/** How a tensor field follows x when a hunt's shrink keeps some slices, or some elements of each. */
export type FieldLayout =
  /** x's shape (a probability target, a mask). */
  | 'element'
  /** One value a slice (an index target; a loss's g under reduction none). */
  | 'slice'
  /** One class index a slice (an index target): renumbered when elements along dim go. */
  | 'class-index'
  /** One value an element along dim (per-class weights). */
  | 'class';

/** What a hunt varies of an op's own fields, and how they follow a shrunk x. */
export interface OpHunt {
  /** The input classes of its fields that exposed bugs in real kernels (KERNEL-BUGS.md), each a variant. */
  readonly variants: readonly string[];
  /** Its dim is fixed by its API (cross_entropy's classes at dim 1): a hunt keeps it, rather than try every dim. */
  readonly fixedDim?: boolean;
  /** The fields of one case of variant `variant` for x (along axis; `round` rounds to the dtype), drawn from `random`. */
  fields(random: Random, x: Tensor, axis: number, round: (value: number) => number, variant: number): HuntFields;
  /** Each tensor field's layout (g's too, under the key "g", where it is not x's shape). */
  layouts(fields: Readonly<Record<string, FieldValue>>): Readonly<Record<string, FieldLayout>>;
  /** The class index that names no class (cross_entropy's ignore_index): a shrink that drops classes leaves it as it is. */
  ignoredClass?(fields: Readonly<Record<string, FieldValue>>): number;
  /** The fields with what depends on x's layout made explicit (a causal mask as its mask), before a shrink reshapes x. */
  explicit?(fields: Readonly<Record<string, FieldValue>>, xShape: readonly number[]): Readonly<Record<string, FieldValue>>;
}

/** A value of an op's field as documents, reports and the library hold it. */
export type FieldValue = Tensor | number | string | boolean;

/** One field as a document writes it: a tensor of class indices as integers, a mask as booleans. */
export interface WrittenField {
  readonly key: string;
  readonly value: FieldValue;
  readonly as?: 'integers' | 'booleans';
}

/**
 * How an op's checked fields leave the core: in fixtures and the library's readInput (as written),
 * in JSON reports, in the text report's line, and what they change of the forward output's shape
 * and of which slices count. Each takes the op's own OpSpec.
 */
export interface OpFieldsOut {
  /** The fields as a fixture writes them (PyTorch's keys), in order; the library's readInput gives them camelCased. */
  written(spec: OpSpec): readonly WrittenField[];
  /** The fields in a JSON report's input (camelCase keys; null for what does not apply). */
  reported(spec: OpSpec): Readonly<Record<string, FieldValue | null>>;
  /** The text report's line about them. */
  described(spec: OpSpec, g: Tensor, formatValue: (value: number) => string): string;
  /** The forward output's shape where it is not x's (a loss's). */
  forwardShape?(spec: OpSpec, xShape: readonly number[], axis: number): number[];
  /** Whether slice k counts for nothing (a sample whose target is ignore_index). */
  ignoresSlice?(spec: OpSpec, k: number): boolean;
  /** Whether element i of x takes part (a mask's); absent: every element does. */
  keeps?(spec: OpSpec, i: number): boolean;
  /** The logits the op's softmax sees (scale·x); absent: x itself. */
  logitsSeen?(spec: OpSpec, x: Float64Array): Float64Array;
}

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
   * Its fields checked against x: the spec its pieces read, and g where g is not x's shape
   * (cross_entropy's is the loss's). Without g: g is x's shape, or absent (forward only).
   */
  readonly fieldsAgainstX?: (given: GivenFields, x: Tensor, axis: number) => { readonly spec: OpSpec; readonly g?: Tensor };
  /** How those fields leave the core, for an op that has fieldsAgainstX. */
  readonly fieldsOut?: OpFieldsOut;
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
  /** What a hunt varies of its own fields (an op with none needs nothing here). */
  readonly hunt?: OpHunt;
  /** The bugs of its own a diagnosis tests for (diagnosis/: the generic ones are tested for every op). */
  readonly diagnoses?: readonly Hypothesis<OpSpec>[];
}

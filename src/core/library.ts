import { DTYPES, isDType, type DType, type Tolerance } from '../dtype.js';
import { collectFixturePaths } from '../check/collect-fixtures.js';
import type { FixtureOutcome } from '../check/check-fixture.js';
import { runCheck, type CheckRun } from '../check/run-check.js';
import { inputFiles } from '../io/input-files.js';
import { inputFromDocument, resolveRequest } from '../input/resolve-input.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { InputError } from '../input-error.js';
import { readFraction, readTolerancePart } from '../input/input-document.js';
import { tensorFromNested } from '../input/nested-array.js';
import { renderJson } from '../output/render-json.js';
import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { quantityShape, type Report } from '../verify.js';
import { runVerification, type RunOptions } from './run.js';
import { FORWARD_NAME, isOp, supportedOp, SUPPORTED_OPS, type Op } from '../op.js';
import { REDUCTIONS, type Reduction } from '../cross-entropy-spec.js';
import { TOOL } from './tool.js';

/**
 * Values as a JavaScript caller holds them: nested arrays of numbers (N-D), a flat typed array or
 * array (1-D), or flat data with its shape (row-major).
 */
export type Values = NestedNumbers | ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };
type NestedNumbers = readonly (number | NestedNumbers)[];

export interface VerifyRequest {
  /** The operation: softmax (the default), log_softmax or cross_entropy. */
  readonly op?: Op;
  readonly x: Values;
  /** The upstream gradient: in x's shape; for cross_entropy, the loss's (a number for mean and sum, default 1). */
  readonly g?: Values | number;
  /** cross_entropy: class indices (x's shape without the class dim; a number for one sample) or probabilities (x's shape). */
  readonly target?: Values | number;
  /** cross_entropy: mean (default), sum or none. */
  readonly reduction?: Reduction;
  /** cross_entropy: from 0 to 1 (default 0). */
  readonly labelSmoothing?: number;
  /** cross_entropy with class indices: default -100. */
  readonly ignoreIndex?: number;
  /** cross_entropy: one weight per class. */
  readonly weight?: Values;
  /** The dimension softmax runs along; negative counts from the end (default -1). */
  readonly dim?: number;
  /** The dtype the kernel computes in (default float64). */
  readonly dtype?: DType;
  /** Your kernel's outputs, judged against the exact result: the op's forward output (by its name) and grad. */
  readonly expected?: { readonly softmax?: Values; readonly log_softmax?: Values; readonly loss?: Values | number; readonly grad?: Values };
  /** A tolerance of the input's own, instead of the dtype's. */
  readonly tolerance?: Tolerance;
  /** Who produced the expected values; a name and a description for the report. */
  readonly source?: string;
  readonly name?: string;
  readonly description?: string;
}

/**
 * Verifies softmax and its gradient on `request`, as the command line does: both methods, the
 * exact result, the comparisons, the invariants. `report.passed` is the verdict. Throws InputError
 * for input it cannot use, naming the field.
 */
export async function verify(request: VerifyRequest, options: RunOptions = {}): Promise<Report> {
  const x = tensorOf(request.x, 'x');
  // cross_entropy's g is the loss's and may be left out (1); every other op's is x's shape.
  const g = request.g === undefined ? undefined : tensorOrNumber(request.g, 'g');
  if (request.op !== undefined && !isOp(request.op)) throw new InputError(`op must be one of ${SUPPORTED_OPS.join(', ')}, got ${JSON.stringify(request.op)}`);
  const op = request.op === undefined ? undefined : supportedOp(request.op, 'op');
  const forwardName = FORWARD_NAME[op ?? 'softmax'];
  const misplaced = (['softmax', 'log_softmax', 'loss'] as const).find((key) => key !== forwardName && request.expected?.[key] !== undefined);
  if (misplaced !== undefined) throw new InputError(`expected.${misplaced} is not an output of op ${op ?? 'softmax'}: give expected.${forwardName}`);
  const expectedOf = (key: 'softmax' | 'log_softmax' | 'grad'): Float64Array | undefined => {
    const values = request.expected?.[key];
    if (values === undefined) return undefined;
    const tensor = tensorOf(values, `expected.${key}`);
    if (!sameShape(tensor.shape, x.shape)) {
      throw new InputError(`expected.${key} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor.data;
  };
  const loss = request.expected?.loss;
  const forward = forwardName === 'loss' ? (loss === undefined ? undefined : tensorOrNumber(loss, 'expected.loss').data) : expectedOf(forwardName);
  const grad = expectedOf('grad');
  if (request.dtype !== undefined && !isDType(request.dtype)) {
    throw new InputError(`dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(request.dtype)}`);
  }
  const tolerance = request.tolerance === undefined ? undefined : readTolerance(request.tolerance);
  const crossEntropyFields = ['target', 'reduction', 'labelSmoothing', 'ignoreIndex', 'weight'] as const;
  const stray = op === 'cross_entropy' ? undefined : crossEntropyFields.find((key) => request[key] !== undefined);
  if (stray !== undefined) throw new InputError(`${stray} is for op cross_entropy`);
  if (request.reduction !== undefined && !(REDUCTIONS as readonly string[]).includes(request.reduction)) {
    throw new InputError(`reduction must be one of ${REDUCTIONS.join(', ')}, got ${JSON.stringify(request.reduction)}`);
  }
  const input = inputFromDocument(request.name ?? 'library call', {
    op,
    x,
    g,
    target: request.target === undefined ? undefined : tensorOrNumber(request.target, 'target'),
    reduction: request.reduction,
    labelSmoothing: request.labelSmoothing === undefined ? undefined : readFraction(request.labelSmoothing, 'labelSmoothing'),
    ignoreIndex: request.ignoreIndex,
    weight: request.weight === undefined ? undefined : tensorOf(request.weight, 'weight'),
    dim: request.dim,
    dtype: request.dtype,
    expected: forward === undefined && grad === undefined ? undefined : { forward, grad },
    tolerance,
    source: request.source,
    name: request.name,
    description: request.description,
  });
  return runVerification(input, options);
}

export interface CheckRequest {
  /** A tolerance for every fixture, instead of each one's own. */
  readonly tolerance?: Tolerance;
  /** The arithmetic every fixture's kernel is taken to run in (default: each dtype's, PyTorch's). */
  readonly arithmetic?: ArithmeticTypes;
  /** Stop at the first fixture that fails or cannot be read. */
  readonly bail?: boolean;
  /** Run explicit Jacobians beyond the entry limit instead of skipping them. */
  readonly allowSlow?: boolean;
  /** Share large explicit Jacobians among worker threads (default true; the same bits). */
  readonly parallel?: boolean;
  /** Called as each fixture finishes. */
  readonly onOutcome?: (outcome: FixtureOutcome) => void;
}

/**
 * Checks fixture files as `softmax-verify check` does: `paths` are files, folders (searched for
 * *.json) or glob patterns, relative to the working directory. A path that matches nothing throws
 * InputError; a fixture that cannot be read is an `error` outcome, and the run goes on.
 */
export async function check(paths: readonly string[], request: CheckRequest = {}): Promise<CheckRun> {
  const files = processFiles();
  const fixtures = await collectFixturePaths(paths, files.cwd);
  return runCheck(fixtures, { ...request, cwd: files.cwd, npyBeside: inputFiles(files).npyBeside });
}

/**
 * What a file may not say for itself (an .npz carries no strings), as the command line's flags of
 * the same names: `op`, `dim` and `dtype` win over the file's own; cross_entropy's settings join a
 * file that lacks them (one the file has already is refused).
 */
export interface InputSettings {
  readonly op?: Op;
  readonly dim?: number;
  readonly dtype?: DType;
  readonly reduction?: Reduction;
  readonly labelSmoothing?: number;
  readonly ignoreIndex?: number;
}

/**
 * An input as the command line reads it with `--input`: a JSON document or fixture, an .npz archive
 * or a safetensors file, checked, with its dtype from the file where the file says or stores it.
 * The result is a request `verify` takes as it is.
 */
export async function readInput(path: string, settings: InputSettings = {}): Promise<VerifyRequest> {
  const text = (value: number | undefined) => (value === undefined ? undefined : String(value));
  const raw = {
    input: path,
    op: settings.op,
    dim: text(settings.dim),
    dtype: settings.dtype,
    reduction: settings.reduction,
    labelSmoothing: text(settings.labelSmoothing),
    ignoreIndex: text(settings.ignoreIndex),
  };
  const resolved = await resolveRequest(raw, inputFiles(processFiles()));
  if (!resolved.ok) throw resolved.error;
  const { input } = resolved.value;
  const shaped = (data: Float64Array | undefined) => (data === undefined ? undefined : { shape: input.x.shape, data });
  const forwardName = FORWARD_NAME[input.op ?? 'softmax'];
  const spec = input.crossEntropy;
  // A 0-d tensor (a reduced loss, its g, one sample's class) as the number it is.
  const asValues = (tensor: Tensor): Values | number => (tensor.shape.length === 0 ? tensor.data[0] : tensor);
  const lossShape = quantityShape(input, 'forward');
  return {
    ...(input.op === undefined ? {} : { op: input.op }),
    x: input.x,
    g: asValues(input.g),
    ...(spec === undefined
      ? {}
      : {
          target: asValues(spec.target),
          reduction: spec.reduction,
          labelSmoothing: spec.labelSmoothing,
          ...(spec.targetKind === 'index' ? { ignoreIndex: spec.ignoreIndex } : {}),
          ...(spec.weight === undefined ? {} : { weight: spec.weight }),
        }),
    dim: input.dim,
    dtype: input.dtype,
    expected:
      input.expected === undefined
        ? undefined
        : {
            [forwardName]: input.expected.forward === undefined ? undefined : asValues({ shape: forwardName === 'loss' ? lossShape : input.x.shape, data: input.expected.forward }),
            grad: shaped(input.expected.grad),
          },
    tolerance: input.tolerance,
    source: input.source,
    name: input.name,
    description: input.description,
  };
}

/** The library reads files as the command does, from the process's working directory. */
function processFiles() {
  return { stdin: process.stdin, cwd: process.cwd() };
}

/** The report as `--format json` writes it: one JSON document. */
export function toJson(report: Report): string {
  return renderJson(report, TOOL);
}

function tensorOf(values: Values, field: string): Tensor {
  if (isShaped(values)) {
    if (!Array.isArray(values.shape) || values.shape.length === 0 || !values.shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new InputError(`${field}.shape must be a non-empty list of whole numbers above 0, got ${JSON.stringify(values.shape)}`);
    }
    const size = values.shape.reduce((a, b) => a * b, 1);
    if (values.data.length !== size) {
      throw new InputError(`${field} has ${values.data.length} values, but its shape ${formatShape(values.shape)} holds ${size}`);
    }
    // Checked as nested arrays are: every value a number, the shape a list of whole numbers.
    const checked = tensorFromNested(Array.from(values.data), field);
    return { shape: [...values.shape], data: checked.data };
  }
  return tensorFromNested(ArrayBuffer.isView(values) ? Array.from(values as ArrayLike<number>) : values, field);
}

function isShaped(values: Values): values is { readonly shape: readonly number[]; readonly data: ArrayLike<number> } {
  return typeof values === 'object' && values !== null && !Array.isArray(values) && !ArrayBuffer.isView(values) && 'shape' in values;
}

function readTolerance(tolerance: Tolerance): Tolerance {
  return { rtol: readTolerancePart(tolerance.rtol, 'tolerance.rtol'), atol: readTolerancePart(tolerance.atol, 'tolerance.atol') };
}

/** A number (a reduced loss, its g, one sample's class) as a 0-d tensor; anything else as tensorOf reads it. */
function tensorOrNumber(values: Values | number, field: string): Tensor {
  return typeof values === 'number' ? { shape: [], data: Float64Array.of(values) } : tensorOf(values, field);
}

import { DTYPES, isDType, type DType, type Tolerance } from '../dtype.js';
import { collectFixturePaths } from '../check/collect-fixtures.js';
import type { FixtureOutcome } from '../check/check-fixture.js';
import { runCheck, type CheckRun } from '../check/run-check.js';
import { inputFiles } from '../io/input-files.js';
import { inputFromDocument, resolveRequest } from '../input/resolve-input.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { InputError } from '../input-error.js';
import { readTolerancePart } from '../input/input-document.js';
import { tensorFromNested } from '../input/nested-array.js';
import { renderJson } from '../output/render-json.js';
import { formatShape, sameShape, type Tensor } from '../tensor.js';
import type { Report } from '../verify.js';
import { runVerification, type RunOptions } from './run.js';
import { FORWARD_NAME, isOp, supportedOp, SUPPORTED_OPS, type Op } from '../op.js';
import { TOOL } from './tool.js';

/**
 * Values as a JavaScript caller holds them: nested arrays of numbers (N-D), a flat typed array or
 * array (1-D), or flat data with its shape (row-major).
 */
export type Values = NestedNumbers | ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };
type NestedNumbers = readonly (number | NestedNumbers)[];

export interface VerifyRequest {
  /** The operation: softmax (the default) or log_softmax. */
  readonly op?: Op;
  readonly x: Values;
  readonly g: Values;
  /** The dimension softmax runs along; negative counts from the end (default -1). */
  readonly dim?: number;
  /** The dtype the kernel computes in (default float64). */
  readonly dtype?: DType;
  /** Your kernel's outputs, judged against the exact result: the op's forward output (by its name) and grad. */
  readonly expected?: { readonly softmax?: Values; readonly log_softmax?: Values; readonly grad?: Values };
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
  const g = tensorOf(request.g, 'g');
  if (request.op !== undefined && !isOp(request.op)) throw new InputError(`op must be one of ${SUPPORTED_OPS.join(', ')}, got ${JSON.stringify(request.op)}`);
  const op = request.op === undefined ? undefined : supportedOp(request.op, 'op');
  const forwardName = FORWARD_NAME[op ?? 'softmax'];
  const misplaced = (['softmax', 'log_softmax'] as const).find((key) => key !== forwardName && request.expected?.[key] !== undefined);
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
  const forward = forwardName === 'loss' ? undefined : expectedOf(forwardName);
  const grad = expectedOf('grad');
  if (request.dtype !== undefined && !isDType(request.dtype)) {
    throw new InputError(`dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(request.dtype)}`);
  }
  const tolerance = request.tolerance === undefined ? undefined : readTolerance(request.tolerance);
  const input = inputFromDocument(request.name ?? 'library call', {
    op,
    x,
    g,
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
 * An input as the command line reads it with `--input`: a JSON document or fixture, an .npz archive
 * or a safetensors file, checked, with its dtype from the file where the file says or stores it.
 * The result is a request `verify` takes as it is.
 */
export async function readInput(path: string): Promise<VerifyRequest> {
  const resolved = await resolveRequest({ input: path }, inputFiles(processFiles()));
  if (!resolved.ok) throw resolved.error;
  const { input } = resolved.value;
  const shaped = (data: Float64Array | undefined) => (data === undefined ? undefined : { shape: input.x.shape, data });
  const forwardName = FORWARD_NAME[input.op ?? 'softmax'];
  return {
    ...(input.op === undefined ? {} : { op: input.op }),
    x: input.x,
    g: input.g,
    dim: input.dim,
    dtype: input.dtype,
    expected: input.expected === undefined ? undefined : { [forwardName]: shaped(input.expected.forward), grad: shaped(input.expected.grad) },
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

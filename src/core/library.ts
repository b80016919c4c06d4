import { DTYPES, isDType, type DType, type Tolerance } from '../dtype.js';
import { inputFromDocument } from '../input/resolve-input.js';
import { InputError } from '../input/input-error.js';
import { readTolerancePart } from '../input/input-document.js';
import { tensorFromNested } from '../input/nested-array.js';
import { renderJson } from '../output/render-json.js';
import { formatShape, sameShape, type Tensor } from '../tensor.js';
import type { Report } from '../verify.js';
import { runVerification, type RunOptions } from './run.js';
import { TOOL } from './tool.js';

/**
 * Values as a JavaScript caller holds them: nested arrays of numbers (N-D), a flat typed array or
 * array (1-D), or flat data with its shape (row-major).
 */
export type Values = NestedNumbers | ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };
type NestedNumbers = readonly (number | NestedNumbers)[];

export interface VerifyRequest {
  readonly x: Values;
  readonly g: Values;
  /** The dimension softmax runs along; negative counts from the end (default -1). */
  readonly dim?: number;
  /** The dtype the kernel computes in (default float64). */
  readonly dtype?: DType;
  /** Your kernel's outputs, judged against the exact result. */
  readonly expected?: { readonly softmax?: Values; readonly grad?: Values };
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
  const expectedOf = (key: 'softmax' | 'grad'): Float64Array | undefined => {
    const values = request.expected?.[key];
    if (values === undefined) return undefined;
    const tensor = tensorOf(values, `expected.${key}`);
    if (!sameShape(tensor.shape, x.shape)) {
      throw new InputError(`expected.${key} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor.data;
  };
  const softmax = expectedOf('softmax');
  const grad = expectedOf('grad');
  if (request.dtype !== undefined && !isDType(request.dtype)) {
    throw new InputError(`dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(request.dtype)}`);
  }
  const tolerance = request.tolerance === undefined ? undefined : readTolerance(request.tolerance);
  const input = inputFromDocument(request.name ?? 'library call', {
    x,
    g,
    dim: request.dim,
    dtype: request.dtype,
    expected: softmax === undefined && grad === undefined ? undefined : { softmax, grad },
    tolerance,
    source: request.source,
    name: request.name,
    description: request.description,
  });
  return runVerification(input, options);
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

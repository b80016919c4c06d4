import { DEFAULT_TOLERANCE, type DType, type Tolerance } from '../dtype.js';
import { builtInExample } from '../example.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { formatShape, normaliseDim, sameShape, type Tensor } from '../tensor.js';
import type { VerifyInput } from '../verify.js';
import { captureInputError, InputError, withInputLabel, type Result } from './input-error.js';
import { parseInputDocument, readDType, type InputDocument } from './input-document.js';
import { parseNumberToken } from './number-token.js';
import { tensorFromValuesText } from './values-text.js';

/** What the command line gave, as text: nothing here has been checked yet. */
export interface RawRequest {
  readonly x?: string;
  readonly g?: string;
  /** `--input`: a path, or `-` for stdin. */
  readonly input?: string;
  readonly dim?: string;
  readonly dtype?: string;
  readonly rtol?: string;
  readonly atol?: string;
}

/** The files a request may name; the CLI passes readers of the file system, tests pass fakes. */
export interface InputFiles {
  /** `--input`: a file's text, or stdin's for `-`, and what to call it in messages. Throws InputError. */
  readonly readDocument: (path: string) => Promise<{ readonly text: string; readonly label: string }>;
  /** `--x file.npy`, `--g file.npy`. Throws InputError. */
  readonly readNpy: (path: string, field: string) => Tensor;
  /** For a document at `path` (not stdin): reads .npy files it names, relative to its folder. */
  readonly npyBeside: (path: string) => (relativePath: string, field: string) => Tensor;
}

export interface ResolvedRequest {
  readonly input: VerifyInput;
  /** `--rtol/--atol`, when given. */
  readonly tolerance?: Tolerance;
}

/**
 * Turns the command line into a validated input: the built-in example when nothing is given,
 * else `--x/--g` or an `--input` document, with `--dim/--dtype` overriding the document's.
 */
export function resolveRequest(raw: RawRequest, files: InputFiles): Promise<Result<ResolvedRequest>> {
  return captureInputError(async () => {
    const tolerance = readToleranceFlags(raw);
    const overrides: Overrides = {
      dim: raw.dim === undefined ? undefined : readDimFlag(raw.dim),
      dtype: raw.dtype === undefined ? undefined : readDType(raw.dtype, '--dtype'),
    };
    if (raw.x === undefined && raw.g === undefined && raw.input === undefined) {
      const example = builtInExample();
      return { input: inputFromDocument(example.label, example, overrides), tolerance };
    }
    if (raw.input !== undefined && (raw.x !== undefined || raw.g !== undefined)) {
      throw new InputError('give x and g either with --x/--g or inside --input, not both');
    }
    if (raw.input !== undefined) {
      const { text, label } = await files.readDocument(raw.input);
      const loadNpy = raw.input === '-' ? undefined : files.npyBeside(raw.input);
      const doc = withInputLabel(label, () => parseInputDocument(text, { loadNpy }));
      return { input: withInputLabel(label, () => inputFromDocument(label, doc, overrides)), tolerance };
    }
    // A value ending in .npy names a file; anything else is the values themselves.
    const values = (text: string | undefined, field: string): Tensor | undefined => {
      if (text === undefined) return undefined;
      return /\.npy$/i.test(text.trim()) ? files.readNpy(text.trim(), field) : tensorFromValuesText(text, field);
    };
    const doc: InputDocument = { x: values(raw.x, 'x'), g: values(raw.g, 'g') };
    return { input: inputFromDocument('command line', doc, overrides), tolerance };
  });
}

/** `--dim` and `--dtype`, which win over the document's own. */
export interface Overrides {
  readonly dim?: number;
  readonly dtype?: DType;
}

/** Checks that a document's parts fit together (g's shape, dim's range) and fills in defaults. */
export function inputFromDocument(label: string, doc: InputDocument, overrides: Overrides = {}): VerifyInput {
  const { x, g } = doc;
  if (x === undefined) {
    throw new InputError('x is missing: give the logits with --x (for example --x 1,2,3) or as the field "x" of an --input file');
  }
  if (g === undefined) {
    throw new InputError('g is missing: give the upstream gradient with --g (for example --g 1,0,0) or as the field "g" of an --input file');
  }
  if (!sameShape(g.shape, x.shape)) {
    throw new InputError(`g has shape ${formatShape(g.shape)}, but x has shape ${formatShape(x.shape)}: they must match`);
  }
  const dim = overrides.dim ?? doc.dim ?? -1;
  const axis = normaliseDim(dim, x.shape.length);
  if (axis === undefined) {
    const rank = x.shape.length;
    throw new InputError(`dim ${dim} is out of range for x of shape ${formatShape(x.shape)} (expected ${-rank} to ${rank - 1})`);
  }
  const dtype = overrides.dtype ?? doc.dtype ?? 'float64';
  return {
    ...doc,
    label,
    x,
    g,
    dim,
    axis,
    dtype,
  };
}

function readDimFlag(text: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new InputError(`--dim must be an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `--rtol` and `--atol`, which come together or not at all. */
export function readToleranceFlags(raw: { readonly rtol?: string; readonly atol?: string }): Tolerance | undefined {
  if (raw.rtol === undefined && raw.atol === undefined) return undefined;
  if (raw.rtol === undefined || raw.atol === undefined) {
    throw new InputError(`--rtol and --atol must be given together (float64 defaults: --rtol ${DEFAULT_TOLERANCE.float64.rtol} --atol ${DEFAULT_TOLERANCE.float64.atol})`);
  }
  const read = (text: string, flag: string): number => {
    const value = parseNumberToken(text.trim());
    if (value === undefined || !Number.isFinite(value) || value < 0) {
      throw new InputError(`${flag} must be a finite number ≥ 0, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  return { rtol: read(raw.rtol, '--rtol'), atol: read(raw.atol, '--atol') };
}

/** `--compute` and `--accumulate`, each a dtype name when given; either left out means PyTorch's. */
export function readArithmeticFlags(raw: { readonly compute?: string; readonly accumulate?: string }): ArithmeticTypes {
  return {
    compute: raw.compute === undefined ? undefined : readDType(raw.compute, '--compute'),
    accumulate: raw.accumulate === undefined ? undefined : readDType(raw.accumulate, '--accumulate'),
  };
}

import type { DType, Tolerance } from '../dtype.js';
import { DEFAULT_OP } from '../ops/op-definition.js';
import { collectFixturePaths } from '../check/collect-fixtures.js';
import type { FixtureOutcome } from '../check/check-fixture.js';
import { runCheck, type CheckRun } from '../check/run-check.js';
import { inputFiles } from '../io/input-files.js';
import { inputFromDocument, resolveRequest } from '../input/resolve-input.js';
import { LIBRARY_REQUEST_WORDS } from '../input/request-words.js';
import { RequestError } from '../input/request-problem.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { describeValue, InputError } from '../input-error.js';
import { renderJson } from '../output/render-json.js';
import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { REFERENCE_CHOICES, runVerification, type RunOptions } from './run.js';
import { FORWARD_NAME, OPS, type Op } from '../op.js';
import type { Reduction } from '../ops/cross_entropy/cross-entropy-spec.js';
import { TOOL } from './tool.js';
import {
  guarded,
  readArithmetic,
  readBoolean,
  readChoice,
  readDType,
  readFunction,
  readInteger,
  readObject,
  readOpField,
  readOp,
  readString,
  readTolerance,
  readValues,
  readValuesOrNumber,
} from './library-arguments.js';
import { quantityShape, type Report } from './report.js';
import { libraryName, OP_FIELDS, opDefinition } from '../ops/index.js';

/**
 * Values as a JavaScript caller holds them: nested arrays of numbers (N-D), a flat typed array or
 * array (1-D), or flat data with its shape (row-major).
 */
export type Values = NestedNumbers | ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };
type NestedNumbers = readonly (number | NestedNumbers)[];
type NestedBooleans = readonly (boolean | NestedBooleans)[];

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
  /** masked_softmax: booleans (or 1/0), true where the element takes part; x's shape, or one that broadcasts to it (default: all). */
  readonly mask?: Values | NestedBooleans;
  /** masked_softmax: keep j ≤ i over the last two dims (PyTorch's is_causal), instead of a mask. */
  readonly causal?: boolean;
  /** masked_softmax: the factor on the logits (default 1). */
  readonly scale?: number;
  /** masked_softmax: a fully masked slice's forward, NaN (default) or 0. */
  readonly maskedRows?: 'nan' | 'zero';
  /** The dimension softmax runs along; negative counts from the end (default -1). */
  readonly dim?: number;
  /** The dtype the kernel computes in (default float64). */
  readonly dtype?: DType;
  /** Your kernel's outputs, judged against the exact result: the op's forward output (by its name) and grad. */
  readonly expected?: { readonly softmax?: Values; readonly log_softmax?: Values; readonly loss?: Values | number; readonly grad?: Values };
  /** A tolerance of the input's own, instead of the dtype's. */
  readonly tolerance?: Tolerance;
  /** The arithmetic of the kernel the expected values came from, as a fixture carries it (options.arithmetic's parts win). */
  readonly arithmetic?: ArithmeticTypes;
  /** Who produced the expected values; a name and a description for the report. */
  readonly source?: string;
  readonly name?: string;
  readonly description?: string;
}

/**
 * Verifies softmax and its gradient on `request`, as the command line does: both methods, the
 * exact result, the comparisons, the invariants. `report.passed` is the verdict. Throws InputError
 * for input or options it cannot use, naming the field: every field is checked, and one the
 * request or the options do not have is refused, as the JSON documents refuse theirs.
 */
export async function verify(request: VerifyRequest, options: RunOptions = {}): Promise<Report> {
  const fields = readObject(request, undefined, REQUEST_FIELDS, 'with x (and g)');
  const runOptions = readRunOptions(options);
  const op = fields.op === undefined ? undefined : readOp(fields.op, 'op');
  if (fields.x === undefined) throw new RequestError({ code: 'input-missing', field: 'x' }, LIBRARY_REQUEST_WORDS);
  const x = readValues(fields.x, 'x');
  // cross_entropy's g is the loss's and may be left out (1); every other op's is x's shape.
  const g = fields.g === undefined ? undefined : readValuesOrNumber(fields.g, 'g');
  const forwardName = FORWARD_NAME[op ?? DEFAULT_OP];
  const expected = fields.expected === undefined ? undefined : readObject(fields.expected, 'expected', EXPECTED_FIELDS, `with ${forwardName} and/or grad`);
  const misplaced = EXPECTED_FIELDS.find((key) => key !== forwardName && key !== 'grad' && expected?.[key] !== undefined);
  if (misplaced !== undefined) throw new InputError(`expected.${misplaced} is not an output of op ${op ?? DEFAULT_OP}: give expected.${forwardName}`);
  const expectedOf = (key: ExpectedName): Float64Array | undefined => {
    const values = expected?.[key];
    if (values === undefined) return undefined;
    const tensor = readValues(values, `expected.${key}`);
    if (!sameShape(tensor.shape, x.shape)) {
      throw new InputError(`expected.${key} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor.data;
  };
  // A forward output with a value per element has x's shape; a loss its own (a number for mean and sum).
  const forwardValues = expected?.[forwardName];
  const forward = opDefinition(op).forwardPerElement ? expectedOf(forwardName) : forwardValues === undefined ? undefined : readValuesOrNumber(forwardValues, `expected.${forwardName}`).data;
  const grad = expectedOf('grad');
  const own = opDefinition(op).fields.map(libraryName);
  const stray = OP_FIELDS.find((field) => !own.includes(libraryName(field)) && fields[libraryName(field) as OpFieldName] !== undefined);
  if (stray !== undefined) throw new RequestError({ code: 'field-of-other-op', field: libraryName(stray), op: stray.op }, LIBRARY_REQUEST_WORDS);
  const text = (key: 'source' | 'name' | 'description'): string | undefined => (fields[key] === undefined ? undefined : readString(fields[key], key));
  const name = text('name');
  const opFields = Object.fromEntries(
    opDefinition(op).fields.flatMap((field) => {
      const name = libraryName(field);
      const value = fields[name as OpFieldName];
      return value === undefined ? [] : [[name, readOpField(field, value, name)]];
    }),
  );
  const input = inputFromDocument(
    name ?? 'library call',
    {
      op,
      x,
      g,
      ...opFields,
      dim: fields.dim === undefined ? undefined : readInteger(fields.dim, 'dim'),
      dtype: fields.dtype === undefined ? undefined : readDType(fields.dtype, 'dtype'),
      expected: forward === undefined && grad === undefined ? undefined : { forward, grad },
      tolerance: fields.tolerance === undefined ? undefined : readTolerance(fields.tolerance, 'tolerance'),
      arithmetic: fields.arithmetic === undefined ? undefined : readArithmetic(fields.arithmetic, 'arithmetic'),
      source: text('source'),
      name,
      description: text('description'),
    },
    {},
    LIBRARY_REQUEST_WORDS,
  );
  return remembered(await runVerification(input, runOptions));
}

/** The library's names of the ops' own fields (the registry's), as the request type spells them. */
type OpFieldName = 'target' | 'reduction' | 'labelSmoothing' | 'ignoreIndex' | 'weight' | 'mask' | 'causal' | 'scale' | 'maskedRows';
const OP_FIELD_NAMES = OP_FIELDS.map(libraryName) as OpFieldName[];
const REQUEST_FIELDS = ['op', 'x', 'g', ...OP_FIELD_NAMES, 'dim', 'dtype', 'expected', 'tolerance', 'arithmetic', 'source', 'name', 'description'] as const;
/** The expected outputs a request may give: each op's forward output by its name (the registry's), and grad. */
type ExpectedName = keyof NonNullable<VerifyRequest['expected']>;
const EXPECTED_FIELDS = [...new Set(OPS.map((op) => FORWARD_NAME[op])), 'grad'] as ExpectedName[];
const RUN_OPTIONS = ['tolerance', 'arithmetic', 'reference', 'accurate', 'finiteDifferences', 'allowSlow', 'parallel'] as const;

/** verify's options, each checked; named `options.…` in messages, apart from the request's fields. */
function readRunOptions(options: unknown): RunOptions {
  const fields = readObject(options, 'options', RUN_OPTIONS, `with ${RUN_OPTIONS.join(', ')}`);
  const flag = (key: 'accurate' | 'finiteDifferences' | 'allowSlow' | 'parallel') =>
    fields[key] === undefined ? {} : { [key]: readBoolean(fields[key], `options.${key}`) };
  return {
    ...(fields.tolerance === undefined ? {} : { tolerance: readTolerance(fields.tolerance, 'options.tolerance') }),
    ...(fields.arithmetic === undefined ? {} : { arithmetic: readArithmetic(fields.arithmetic, 'options.arithmetic') }),
    ...(fields.reference === undefined ? {} : { reference: readChoice(fields.reference, 'options.reference', REFERENCE_CHOICES) }),
    ...flag('accurate'),
    ...flag('finiteDifferences'),
    ...flag('allowSlow'),
    ...flag('parallel'),
  };
}

/** The reports this library made: toJson writes those, and refuses anything else by name rather than failing inside. */
const madeReports = new WeakSet<object>();

function remembered(report: Report): Report {
  madeReports.add(report);
  return report;
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
 * Checks fixture files as `softmax-verify check` does: `paths` is one path or a list of them, each
 * a file, a folder (searched for *.json) or a glob pattern, relative to the working directory. A
 * path that matches nothing throws InputError; a fixture that cannot be read is an `error`
 * outcome, and the run goes on.
 */
export async function check(paths: string | readonly string[], request: CheckRequest = {}): Promise<CheckRun> {
  const list = readPaths(paths);
  const fields = readObject(request, 'request', CHECK_FIELDS, `with ${CHECK_FIELDS.join(', ')}`);
  const flag = (key: 'bail' | 'allowSlow' | 'parallel') => (fields[key] === undefined ? {} : { [key]: readBoolean(fields[key], `request.${key}`) });
  const onOutcome = fields.onOutcome === undefined ? undefined : readFunction<(outcome: FixtureOutcome) => void>(fields.onOutcome, 'request.onOutcome');
  const options = {
    ...(fields.tolerance === undefined ? {} : { tolerance: readTolerance(fields.tolerance, 'request.tolerance') }),
    ...(fields.arithmetic === undefined ? {} : { arithmetic: readArithmetic(fields.arithmetic, 'request.arithmetic') }),
    ...flag('bail'),
    ...flag('allowSlow'),
    ...flag('parallel'),
  };
  const files = processFiles();
  const fixtures = await collectFixturePaths(list, files.cwd);
  const run = await runCheck(fixtures, {
    ...options,
    // Each outcome's report, like verify's, can go to toJson.
    onOutcome: (outcome) => {
      if (outcome.status !== 'error') remembered(outcome.report);
      onOutcome?.(outcome);
    },
    cwd: files.cwd,
    npyBeside: inputFiles(files).npyBeside,
    edge: 'library-check',
  });
  return run;
}

const CHECK_FIELDS = ['tolerance', 'arithmetic', 'bail', 'allowSlow', 'parallel', 'onOutcome'] as const;

function readPaths(paths: unknown): readonly string[] {
  const list = typeof paths === 'string' ? [paths] : guarded(() => (Array.isArray(paths) ? [...paths] : undefined), 'paths');
  if (list === undefined) throw new InputError(`paths must be a path or a list of paths, got ${describeValue(paths)}`);
  if (list.length === 0) throw new InputError('paths is empty: give a fixture file, a folder or a glob pattern');
  list.forEach((path, i) => {
    if (typeof path !== 'string' || path === '') throw new InputError(`paths[${i}] must be a path (a non-empty string), got ${describeValue(path)}`);
  });
  return list as string[];
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
  readonly causal?: boolean;
  readonly scale?: number;
  readonly maskedRows?: 'nan' | 'zero';
}

/**
 * An input as the command line reads it with `--input`: a JSON document or fixture, an .npz archive
 * or a safetensors file, checked, with its dtype from the file where the file says or stores it.
 * The result is a request `verify` takes as it is.
 */
export async function readInput(path: string, settings: InputSettings = {}): Promise<VerifyRequest> {
  if (typeof path !== 'string' || path === '') throw new InputError(`path must be a path (a non-empty string), got ${describeValue(path)}`);
  const given = readObject(settings, 'settings', SETTINGS, `with ${SETTINGS.join(', ')}`);
  const text = (value: number | undefined) => (value === undefined ? undefined : String(value));
  // Each setting as the command line would give it: text, or true for a flag (causal).
  const settingFields = Object.fromEntries(
    SETTING_FIELDS.flatMap((field) => {
      const name = libraryName(field);
      const value = given[name as SettingName];
      if (value === undefined) return [];
      const read = readOpField(field, value, `settings.${name}`);
      return [[name, typeof read === 'boolean' || typeof read === 'string' ? read : String(read)]];
    }),
  );
  const raw = {
    input: path,
    op: given.op === undefined ? undefined : readOp(given.op, 'settings.op'),
    dim: text(given.dim === undefined ? undefined : readInteger(given.dim, 'settings.dim')),
    dtype: given.dtype === undefined ? undefined : readDType(given.dtype, 'settings.dtype'),
    ...settingFields,
  };
  const resolved = await resolveRequest(raw, inputFiles(processFiles()), LIBRARY_REQUEST_WORDS);
  if (!resolved.ok) throw inLibraryWords(resolved.error, path);
  const { input } = resolved.value;
  // Plain { shape, data }, as verify takes them (a Tensor's `stored` dtype is said by `dtype`).
  const plain = (tensor: Tensor): Values => ({ shape: tensor.shape, data: tensor.data });
  const shaped = (data: Float64Array | undefined) => (data === undefined ? undefined : plain({ shape: input.x.shape, data }));
  const forwardName = FORWARD_NAME[input.op];
  const fields = input.spec === undefined ? [] : (opDefinition(input.op).fieldsOut?.written(input.spec) ?? []);
  // A 0-d tensor (a reduced loss, its g, one sample's class) as the number it is.
  const asValues = (tensor: Tensor): Values | number => (tensor.shape.length === 0 ? tensor.data[0] : plain(tensor));
  const forwardShape = quantityShape(input, 'forward');
  return {
    ...(input.op === undefined ? {} : { op: input.op }),
    x: plain(input.x),
    g: asValues(input.g),
    ...Object.fromEntries(fields.map(({ key, value }) => [libraryName({ key }), typeof value === 'object' ? asValues(value) : value])),
    dim: input.dim,
    dtype: input.dtype,
    expected:
      input.expected === undefined
        ? undefined
        : {
            [forwardName]: input.expected.forward === undefined ? undefined : asValues({ shape: forwardShape, data: input.expected.forward }),
            grad: shaped(input.expected.grad),
          },
    tolerance: input.tolerance,
    ...(input.arithmetic === undefined ? {} : { arithmetic: input.arithmetic }),
    source: input.source,
    name: input.name,
    description: input.description,
  };
}

/** The ops' fields a file's settings may give: the single values, not the arrays (those are the file's). */
const SETTING_FIELDS = OP_FIELDS.filter((field) => field.kind.type !== 'values' && field.kind.type !== 'mask');
type SettingName = Exclude<keyof InputSettings, 'op' | 'dim' | 'dtype'>;
const SETTINGS = ['op', 'dim', 'dtype', ...(SETTING_FIELDS.map(libraryName) as SettingName[])] as const;

/**
 * The file readers (src/io) name the file as the command line's `--input PATH`; to a library
 * caller it is the path given to readInput. Their messages put `--input ` before the path (or
 * before `stdin` for `-`), so that prefix goes, and nothing else changes.
 */
function inLibraryWords(error: InputError, path: string): InputError {
  const label = path === '-' ? 'stdin' : path;
  const message = error.message.replace(`--input ${label}`, label);
  return message === error.message ? error : error.withMessage(message);
}

/** The library reads files as the command does, from the process's working directory. */
function processFiles() {
  return { stdin: process.stdin, cwd: process.cwd() };
}

/** The report as `--format json` writes it: one JSON document. `report` must be one verify (or check) returned. */
export function toJson(report: Report): string {
  if (typeof report !== 'object' || report === null || !madeReports.has(report)) {
    throw new InputError(`report must be a report that verify or check returned, got ${describeValue(report)}`);
  }
  return renderJson(report, TOOL);
}

import { DEFAULT_TOLERANCE, type DType, type Tolerance } from '../dtype.js';
import { flagName, libraryName, OP_FIELDS, opDefinition } from '../ops/index.js';
import { DEFAULT_OP, type OpField } from '../ops/op-definition.js';
import { narrowerThanDType, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { formatShape, normaliseDim, sameShape, type Tensor } from '../tensor.js';
import { captureInputError, describeValue, InputError, withInputLabel, type Result } from '../input-error.js';
import { readDTypeFlag, readFiniteNumber, readFraction, type InputDocument } from './input-document.js';
import { parseNumberToken, readIntegerText } from './number-token.js';
import { FORWARD_NAME, isOp, OPS, quantityName, type Op } from '../op.js';
import { tensorFromValuesText } from './values-text.js';
import type { NumberOptions } from './nested-array.js';
import { checkedMask } from './mask-values.js';
import { FLAG_REQUEST_WORDS, type RequestWords } from './request-words.js';
import { RequestError } from './request-problem.js';
import { QUANTITIES, type DTypeOrigin, type VerifyInput } from '../core/report.js';

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
  /** `--op`: softmax (the default), log_softmax or cross_entropy. */
  readonly op?: string;
  /** `--expected-softmax` (`--expected-log-softmax`), `--expected-grad`: values to judge, in the forms `--x` takes. */
  readonly expectedSoftmax?: string;
  readonly expectedLogSoftmax?: string;
  readonly expectedLoss?: string;
  readonly expectedGrad?: string;
  /** `--source`: who produced the expected values. */
  readonly source?: string;
  /**
   * Each op's own fields (the registry's), by library name: cross_entropy's `target`, `reduction`,
   * …; a flag without a value (`--causal`) is `true`.
   */
  readonly [opField: string]: string | boolean | undefined;
}

/** The files a request may name; the CLI passes readers of the file system, tests pass fakes. */
export interface InputFiles {
  /**
   * `--input`: a JSON document (a file, or stdin for `-`), a .npz archive or a safetensors file,
   * parsed, with what to call it in messages. Throws InputError, prefixed with the label.
   */
  readonly readInput: (path: string) => Promise<{ readonly doc: InputDocument; readonly label: string }>;
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
 * `words` name the settings in messages (the library's readInput gives them by field name).
 */
export function resolveRequest(raw: RawRequest, files: InputFiles, words: RequestWords = FLAG_REQUEST_WORDS): Promise<Result<ResolvedRequest>> {
  return captureInputError(async () => {
    const tolerance = readToleranceFlags(raw);
    const overrides: Overrides = {
      dim: raw.dim === undefined ? undefined : readIntegerText(raw.dim, '--dim'),
      dtype: raw.dtype === undefined ? undefined : readDTypeFlag(raw.dtype, '--dtype'),
      op: raw.op === undefined ? undefined : readOpFlag(raw.op),
    };
    // A value ending in .npy names a file; anything else is the values themselves.
    const values = (text: string | undefined, field: string, options: NumberOptions = {}): Tensor | undefined => {
      if (text === undefined) return undefined;
      return /\.npy$/i.test(text.trim()) ? files.readNpy(text.trim(), field) : tensorFromValuesText(text, field, options);
    };
    if (raw.source !== undefined && raw.source.trim() === '') {
      throw new InputError('--source is empty: say who produced the expected values (a kernel, a framework and its version)');
    }
    // Each op's expected forward output has its flag (--expected-softmax, --expected-loss, …).
    const texts = raw as Readonly<Record<string, string | undefined>>;
    // One flag a forward name (two ops may share one), each under the first op of that name.
    const namedOps = OPS.filter((op, i) => OPS.findIndex((other) => FORWARD_NAME[other] === FORWARD_NAME[op]) === i);
    const forwardFlags = namedOps.map((op) => [op, texts[expectedFlagKey(op)]] as const).filter(([, text]) => text !== undefined);
    if (forwardFlags.length > 1) {
      throw new InputError(`${forwardFlags.map(([op]) => expectedFlagOf(op)).join(' and ')} belong to different ops: give the one of --op`);
    }
    const [forwardOp, forwardText] = forwardFlags[0] ?? [undefined, undefined];
    const given: ExpectedFlags = {
      forward: forwardOp === undefined ? undefined : values(forwardText, expectedFlagOf(forwardOp)),
      forwardOp,
      grad: values(raw.expectedGrad, '--expected-grad'),
      source: raw.source,
    };
    if (raw.x === undefined && raw.g === undefined && raw.input === undefined) {
      if (given.forward !== undefined || given.grad !== undefined || given.source !== undefined) {
        throw new InputError('--expected-softmax, --expected-grad and --source need an input: give --x and --g, or --input');
      }
      const example = opDefinition(overrides.op).example?.();
      if (example === undefined) {
        // Its required fields by name, then --g and one optional field: cross_entropy's "--x, --target (and --g, --reduction, …)".
        const { fields } = opDefinition(overrides.op);
        const required = fields.filter((field) => field.required !== undefined).map((field) => `, ${flagName(field)}`);
        const optional = fields.find((field) => field.required === undefined);
        throw new InputError(`--op ${overrides.op} has no built-in example: give --x${required.join('')} (and --g${optional === undefined ? '' : `, ${flagName(optional)}`}, …), or --input`);
      }
      return { input: inputFromDocument(example.label, example, overrides), tolerance };
    }
    if (raw.input !== undefined && (raw.x !== undefined || raw.g !== undefined)) {
      throw new InputError('give x and g either with --x/--g or inside --input, not both');
    }
    if (raw.input !== undefined) {
      const { label, doc } = await files.readInput(raw.input);
      const merged = withOpFieldFlags(withExpectedFlags(doc, given, label, overrides.op), raw, values, label, words);
      return { input: withInputLabel(label, () => inputFromDocument(label, merged, overrides, words)), tolerance };
    }
    const doc = withOpFieldFlags(
      withExpectedFlags({ x: values(raw.x, 'x'), g: values(raw.g, 'g') }, given, 'command line', overrides.op),
      raw,
      values,
      'command line',
      words,
    );
    return { input: inputFromDocument('command line', doc, overrides, words), tolerance };
  });
}

interface ExpectedFlags {
  readonly forward?: Tensor;
  /** The op whose forward output the flag gave (`--expected-softmax`: softmax). */
  readonly forwardOp?: Op;
  readonly grad?: Tensor;
  readonly source?: string;
}

/**
 * Adds `--expected-softmax/--expected-grad/--source` to a document. A quantity given both ways is
 * refused rather than one silently winning; so is a `--source` with nothing to label.
 */
function withExpectedFlags(doc: InputDocument, given: ExpectedFlags, label: string, op: Op | undefined): InputDocument {
  const fromDoc = doc.expected ?? {};
  const docOp = op ?? doc.op ?? DEFAULT_OP;
  if (given.forwardOp !== undefined && FORWARD_NAME[given.forwardOp] !== FORWARD_NAME[docOp]) {
    throw new InputError(`${expectedFlagOf(given.forwardOp)} gives ${FORWARD_NAME[given.forwardOp]} values, but the op is ${docOp}: give ${expectedFlagOf(docOp)}`);
  }
  for (const quantity of QUANTITIES) {
    const name = quantityName(docOp, quantity);
    if (given[quantity] !== undefined && fromDoc[quantity] !== undefined) {
      throw new InputError(`${label} has expected ${name} values already: give them there or with --expected-${name.replace('_', '-')}, not both`);
    }
    const tensor = given[quantity];
    if (tensor !== undefined && doc.x !== undefined && !(!opDefinition(docOp).forwardPerElement && quantity === 'forward') && !sameShape(tensor.shape, doc.x.shape)) {
      throw new InputError(`--expected-${name.replace('_', '-')} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(doc.x.shape)}`);
    }
  }
  const forward = given.forward?.data ?? fromDoc.forward;
  const grad = given.grad?.data ?? fromDoc.grad;
  const expected = forward === undefined && grad === undefined ? undefined : { forward, grad };
  if (given.source !== undefined && expected === undefined) {
    throw new InputError('--source names who produced expected values, but there are none: give them with --expected-softmax/--expected-grad, or leave --source out');
  }
  const expectedStored = {
    forward: given.forward === undefined ? doc.expectedStored?.forward : given.forward.stored,
    grad: given.grad === undefined ? doc.expectedStored?.grad : given.grad.stored,
  };
  return { ...doc, expected, expectedStored, source: given.source ?? doc.source };
}

/** `--dim`, `--dtype` and `--op`, which win over the document's own (an `--op` the document contradicts is refused). */
export interface Overrides {
  readonly dim?: number;
  readonly dtype?: DType;
  readonly op?: Op;
}

/** Checks that a document's parts fit together (g's shape, dim's range) and fills in defaults. */
export function inputFromDocument(label: string, doc: InputDocument, overrides: Overrides = {}, words: RequestWords = FLAG_REQUEST_WORDS): VerifyInput {
  const { x } = doc;
  if (x === undefined) {
    throw new RequestError({ code: 'input-missing', field: 'x' }, words);
  }
  if (overrides.op !== undefined && doc.op !== undefined && overrides.op !== doc.op) {
    throw new RequestError({ code: 'op-contradicts-input', field: 'op', op: overrides.op, inputOp: doc.op }, words);
  }
  // An input that names no op is softmax's, said here once: everything after reads input.op.
  const op = overrides.op ?? doc.op ?? DEFAULT_OP;
  const definition = opDefinition(op);
  const dim = overrides.dim ?? doc.dim ?? definition.defaultDim(x.shape.length);
  const axis = normaliseDim(dim, x.shape.length);
  if (axis === undefined) {
    const rank = x.shape.length;
    throw new InputError(`dim ${dim} is out of range for x of shape ${formatShape(x.shape)} (expected ${-rank} to ${rank - 1})`);
  }
  const { dtype, dtypeFrom } = chooseDType(doc, overrides, words);
  // The input's own arithmetic, named as the input names it (the options' is checked by the run).
  const narrower = doc.arithmetic === undefined ? undefined : narrowerThanDType(dtype, doc.arithmetic);
  if (narrower !== undefined) {
    throw new InputError(`arithmetic.${narrower.setting} ${narrower.type} is narrower than the dtype ${dtype}: a kernel computes and sums at least as wide as the values it reads`);
  }
  const missing = definition.fields.find((field) => field.required !== undefined && (doc as Readonly<Record<string, unknown>>)[libraryName(field)] === undefined);
  if (missing?.required !== undefined) {
    throw new RequestError({ code: 'required-field-missing', field: libraryName(missing), key: missing.key, op, needs: missing.required.needs }, words);
  }
  // The op's own fields, checked against x; an op whose g is not x's shape gives its g with them.
  const own = definition.fieldsAgainstX?.(doc, x, axis);
  if (own?.g !== undefined) return { ...doc, op, spec: own.spec, g: own.g, label, x, dim, axis, dtype, dtypeFrom };
  const spec = own === undefined ? {} : { spec: own.spec };
  const { g } = doc;
  if (g === undefined) {
    // No g: the forward output is checked alone (an inference kernel's, an onnxruntime session's).
    if (doc.expected?.grad !== undefined) {
      throw new RequestError({ code: 'expected-grad-without-g', field: 'g' }, words);
    }
    return {
      ...doc,
      op,
      ...spec,
      label,
      x,
      g: { shape: x.shape, data: new Float64Array(x.data.length) },
      forwardOnly: true,
      dim,
      axis,
      dtype,
      dtypeFrom,
    };
  }
  if (!sameShape(g.shape, x.shape)) {
    throw new InputError(`g has shape ${formatShape(g.shape)}, but x has shape ${formatShape(x.shape)}: they must match`);
  }
  return {
    ...doc,
    op,
    ...spec,
    label,
    x,
    g,
    dim,
    axis,
    dtype,
    dtypeFrom,
  };
}

/**
 * `--dtype`, else the document's `dtype`, else the dtype the arrays were stored in (a float32 .npy
 * is float32 data: run as float64 it would be judged against the wrong tolerance and arithmetic),
 * else float64. Arrays stored in different dtypes leave the choice to the user: a kernel's inputs
 * and outputs share one dtype, so a mix is a mistake in the dump or a choice to state.
 */
function chooseDType(doc: InputDocument, overrides: Overrides, words: RequestWords): { dtype: DType; dtypeFrom: DTypeOrigin } {
  if (overrides.dtype !== undefined) return { dtype: overrides.dtype, dtypeFrom: 'flag' };
  if (doc.dtype !== undefined) return { dtype: doc.dtype, dtypeFrom: 'input' };
  const stored: [string, DType | undefined][] = [
    ['x', doc.x?.stored],
    ['g', doc.g?.stored],
    [`expected ${quantityName(overrides.op ?? doc.op, 'forward')}`, doc.expectedStored?.forward],
    ['expected grad', doc.expectedStored?.grad],
  ];
  const known = stored.filter((entry): entry is [string, DType] => entry[1] !== undefined);
  if (known.length === 0) return { dtype: 'float64', dtypeFrom: 'default' };
  const other = known.find(([, dtype]) => dtype !== known[0][1]);
  if (other !== undefined) {
    throw new InputError(
      `${known[0][0]} is stored as ${known[0][1]} but ${other[0]} as ${other[1]}: give ${words.setting('dtype')} to say which the kernel computes in`,
    );
  }
  return { dtype: known[0][1], dtypeFrom: 'data' };
}

/** `--rtol` and `--atol`, which come together or not at all. */
export function readToleranceFlags(raw: { readonly rtol?: string; readonly atol?: string }): Tolerance | undefined {
  const read = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined;
    const value = parseNumberToken(text.trim());
    if (value === undefined || !Number.isFinite(value) || value < 0) {
      throw new InputError(`${flag} must be a finite number ≥ 0, got ${describeValue(text)}`);
    }
    return value;
  };
  // A bad value is named before a missing partner: fixing the pairing first would only meet it next.
  const rtol = read(raw.rtol, '--rtol');
  const atol = read(raw.atol, '--atol');
  if (rtol === undefined && atol === undefined) return undefined;
  if (rtol === undefined || atol === undefined) {
    throw new InputError(`--rtol and --atol must be given together (float64 defaults: --rtol ${DEFAULT_TOLERANCE.float64.rtol} --atol ${DEFAULT_TOLERANCE.float64.atol})`);
  }
  return { rtol, atol };
}

/** `--compute` and `--accumulate`, each a dtype name when given; either left out means PyTorch's. */
export function readArithmeticFlags(raw: { readonly compute?: string; readonly accumulate?: string }): ArithmeticTypes {
  return {
    compute: raw.compute === undefined ? undefined : readDTypeFlag(raw.compute, '--compute'),
    accumulate: raw.accumulate === undefined ? undefined : readDTypeFlag(raw.accumulate, '--accumulate'),
  };
}

/** `--op`: one of the ops, as written (log-softmax and cross-entropy, with hyphens, too). */
export function readOpFlag(text: string): Op {
  const name = text.trim().replace('-', '_');
  if (isOp(name)) return name;
  throw new InputError(`--op must be one of ${OPS.join(', ')}, got ${describeValue(text)}`);
}

/** The flag that gives an op's expected forward output. */
function expectedFlagOf(op: Op): string {
  return `--expected-${FORWARD_NAME[op].replace('_', '-')}`;
}

/** That flag's property as commander hands it over: `expectedLogSoftmax`. */
function expectedFlagKey(op: Op): string {
  return `expected_${FORWARD_NAME[op]}`.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Adds the flags of the ops' own fields (`--target`, `--reduction`, …) to a document; one the
 * document has already is refused rather than one silently winning, and one of another op than
 * the input's is refused by name.
 */
function withOpFieldFlags(
  doc: InputDocument,
  raw: RawRequest,
  values: (text: string | undefined, field: string, options?: NumberOptions) => Tensor | undefined,
  label: string,
  words: RequestWords,
): InputDocument {
  const texts: Readonly<Record<string, string | boolean | undefined>> = raw;
  const given = OP_FIELDS.flatMap((field) => {
    const text = texts[libraryName(field)];
    return text === undefined ? [] : [{ field, value: readFlagField(field, text, values) }];
  });
  const merged: Record<string, unknown> = { ...doc };
  for (const { field, value } of given) {
    const name = libraryName(field);
    if ((doc as Record<string, unknown>)[name] !== undefined) throw new RequestError({ code: 'given-twice', field: name, what: field.what, where: label }, words);
    merged[name] = value;
  }
  const op = doc.op ?? raw.op?.trim().replace('-', '_');
  const stray = given.find(({ field }) => field.op !== op);
  if (stray !== undefined) throw new RequestError({ code: 'field-of-other-op', field: libraryName(stray.field), op: stray.field.op }, words);
  return merged as InputDocument;
}

/** One op field's flag, read by its kind. */
function readFlagField(
  field: OpField,
  given: string | boolean,
  values: (text: string | undefined, field: string, options?: NumberOptions) => Tensor | undefined,
): Tensor | number | string | boolean | undefined {
  const flag = flagName(field);
  // Only a flag without a value (--causal) is given as `true`.
  if (typeof given === 'boolean') return given;
  const text = given;
  switch (field.kind.type) {
    case 'values':
      return values(text, flag);
    case 'mask': {
      const mask = values(text, flag, { booleans: true });
      return mask === undefined ? undefined : checkedMask(mask, flag);
    }
    case 'boolean':
      throw new InputError(`${flag} takes no value, got ${describeValue(text)}`);
    case 'number':
      return readFiniteNumber(parseNumberToken(text.trim()) ?? text, flag);
    case 'choice': {
      const name = text.trim();
      if (field.kind.choices.includes(name)) return name;
      throw new InputError(`${flag} must be one of ${field.kind.choices.join(', ')}, got ${describeValue(text)}`);
    }
    case 'fraction':
      return readFraction(parseNumberToken(text.trim()) ?? text, flag);
    case 'integer':
      return readIntegerText(text, flag);
  }
}

import type { DType } from '../dtype.js';
import { bfloat16FromBits, float16FromBits } from '../numeric/round-dtype.js';
import { formatShape, MAX_RANK, type Tensor } from '../tensor.js';
import { describeValue, InputError } from '../input-error.js';
import { acceptanceOf } from './array-acceptance.js';
import { locateJsonError } from './lenient-json.js';

/**
 * Reads the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header size N, N bytes of JSON naming each tensor's dtype, shape and byte range,
 * then the data, little-endian in C order. Tensors of F64, F32, F16 and BF16 are read; any other
 * dtype, a scalar (shape []) or an array with no values is refused, naming the tensor, since
 * nothing in softmax-verify can use it.
 *
 * The header is checked, not trusted: the header size must fit the file and the official reader's
 * 100 MB cap; the header must be UTF-8 JSON, an object, starting with '{' (the format's README
 * requires it; the Rust crate has never enforced it), with no key twice in one object;
 * each tensor entry has exactly `dtype`, `shape` and `data_offsets`, of the right types; its byte
 * range holds exactly shape × itemsize bytes; and the ranges, sorted, tile the data from its
 * first byte to its last, with no overlap and no gap (the crate's `Metadata::validate` and
 * `read_metadata`). `__metadata__`, when present, maps strings to strings. Stricter than the
 * crate, which ignores them: an unknown field in an entry, and a tensor named twice. Every failure
 * is an InputError of one line, naming the tensor, the field and the numbers.
 *
 * A little-endian F64 tensor whose data is 8-byte aligned in memory is viewed in place (no copy);
 * everything else is read through a DataView, at any byteOffset.
 */

export interface SafetensorsFile {
  /** Tensors by name, each a Tensor (row-major float64 data, shape, and `stored`: its dtype). */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** The `__metadata__` strings, empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The official reader's cap: a larger header is refused before it is read. */
const MAX_HEADER_BYTES = 100_000_000;
const SIZE_BYTES = 8;
const METADATA_KEY = '__metadata__';
const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'] as const;

interface StoredFormat {
  readonly code: string;
  /** The float dtype, or undefined for an integer one (cross_entropy's class indices). */
  readonly dtype: DType | undefined;
  readonly itemSize: number;
  readonly read: (view: DataView, at: number) => number;
}

const READABLE_FORMATS: readonly StoredFormat[] = [
  { code: 'F64', dtype: 'float64', itemSize: 8, read: (view, at) => view.getFloat64(at, true) },
  { code: 'F32', dtype: 'float32', itemSize: 4, read: (view, at) => view.getFloat32(at, true) },
  { code: 'F16', dtype: 'float16', itemSize: 2, read: (view, at) => float16FromBits(view.getUint16(at, true)) },
  { code: 'BF16', dtype: 'bfloat16', itemSize: 2, read: (view, at) => bfloat16FromBits(view.getUint16(at, true)) },
];
/** Integer tensors, read for cross_entropy's target alone (array-acceptance.ts); exact while within ±2^53. */
const INTEGER_FORMATS: readonly StoredFormat[] = [
  { code: 'I64', dtype: undefined, itemSize: 8, read: (view, at) => Number(view.getBigInt64(at, true)) },
  { code: 'I32', dtype: undefined, itemSize: 4, read: (view, at) => view.getInt32(at, true) },
  { code: 'I16', dtype: undefined, itemSize: 2, read: (view, at) => view.getInt16(at, true) },
  { code: 'I8', dtype: undefined, itemSize: 1, read: (view, at) => view.getInt8(at) },
  { code: 'U8', dtype: undefined, itemSize: 1, read: (view, at) => view.getUint8(at) },
];
// A Map, not an object: a dtype string such as "constructor" must find nothing.
const FORMAT_OF_CODE: ReadonlyMap<string, StoredFormat> = new Map(READABLE_FORMATS.map((format) => [format.code, format]));
const INTEGER_FORMAT_OF_CODE: ReadonlyMap<string, StoredFormat> = new Map(INTEGER_FORMATS.map((format) => [format.code, format]));
/** A mask's booleans, one byte each (0 or 1). */
const BOOL_FORMAT: StoredFormat = { code: 'BOOL', dtype: undefined, itemSize: 1, read: (view, at) => view.getUint8(at) };

/** A tensor's header entry once checked: its data is bytes [begin, end) of the data buffer. */
interface TensorEntry {
  readonly name: string;
  readonly format: StoredFormat;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

type Fail = (what: string) => never;

/** `label` names the file in messages (e.g. the path). Throws InputError with one line. */
export function parseSafetensors(bytes: Uint8Array, label: string): SafetensorsFile {
  // A broken file is "not valid"; a valid one holding something this tool cannot use is not.
  const invalid: Fail = (what) => {
    throw new InputError(`${label} is not a valid safetensors file: ${what}`);
  };
  const unusable: Fail = (what) => {
    throw new InputError(`${label}: ${what}`);
  };
  const { header, dataStart } = readHeader(bytes, invalid);
  const metadata = readMetadata(Object.hasOwn(header, METADATA_KEY) ? header[METADATA_KEY] : undefined, invalid);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => checkEntry(name, value, invalid, unusable));
  checkLayout(entries, bytes.length - dataStart, invalid);
  const tensors = new Map<string, Tensor>();
  for (const entry of entries) tensors.set(entry.name, readTensor(bytes, dataStart + entry.begin, entry));
  return { tensors, metadata };
}

function readHeader(bytes: Uint8Array, invalid: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < SIZE_BYTES) invalid(`it is ${bytes.length} bytes long, too short for the 8-byte header size`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(MAX_HEADER_BYTES)) invalid(`its header size is ${claimed} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  const headerBytes = Number(claimed);
  const dataStart = SIZE_BYTES + headerBytes;
  if (dataStart > bytes.length) invalid(`its header size is ${headerBytes} bytes but only ${bytes.length - SIZE_BYTES} bytes follow`);

  let text = '';
  try {
    // ignoreBOM keeps a leading byte-order mark in the text, where JSON.parse refuses it, as the
    // official reader does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(SIZE_BYTES, dataStart));
  } catch {
    invalid('its header is not valid UTF-8');
  }
  const header = parseHeaderJson(text, invalid);
  // JSON.parse accepts leading whitespace; the format's README does not.
  if (text[0] !== '{') invalid(`its header starts with ${describeValue(text[0])}, not "{"`);
  const repeated = findRepeatedKey(text);
  if (repeated !== undefined) invalid(`its header has the key ${quote(repeated)} twice in one object`);
  return { header, dataStart };
}

/** JSON.parse only: the header is data, never evaluated. Trailing space padding is whitespace to it. */
function parseHeaderJson(text: string, invalid: Fail): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const { offset, message } = locateJsonError(text);
    // locateJsonError also accepts NaN and Infinity, which JSON.parse does not: then it finds nothing.
    invalid(message === 'no error' ? 'its header is not valid JSON' : `its header is not valid JSON: ${message} at character ${offset + 1}`);
  }
  if (!isPlainObject(parsed)) invalid(`its header is JSON but not an object: it is ${describeJsonKind(parsed)}`);
  return parsed as Record<string, unknown>;
}

/**
 * JSON.parse keeps the last of two equal keys, silently: a file listing tensor "x" twice would
 * read as whichever came last. So the (already valid) text is walked once, keeping the keys of
 * each open object. A string is a key exactly when ':' follows it.
 */
function findRepeatedKey(text: string): string | undefined {
  const keysOfOpen: (Set<string> | undefined)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') keysOfOpen.push(new Set());
    else if (c === '[') keysOfOpen.push(undefined);
    else if (c === '}' || c === ']') keysOfOpen.pop();
    else if (c === '"') {
      const end = endOfString(text, i);
      const keys = keysOfOpen[keysOfOpen.length - 1];
      if (keys !== undefined && nextNonSpace(text, end) === ':') {
        const key = JSON.parse(text.slice(i, end)) as string; // unescaped, so "\u0078" equals "x"
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end - 1;
    }
  }
  return undefined;
}

/** The index just past the closing quote of the string literal opening at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function nextNonSpace(text: string, from: number): string | undefined {
  let i = from;
  while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  return text[i];
}

function readMetadata(value: unknown, invalid: Fail): Readonly<Record<string, string>> {
  // No prototype, so that a key such as "__proto__" is stored as itself.
  const metadata: Record<string, string> = Object.create(null);
  // The official reader takes null as absent (an Option), and so does this one.
  if (value === undefined || value === null) return metadata;
  if (!isPlainObject(value)) invalid(`its ${METADATA_KEY} is ${describeValue(value)}, not an object of strings`);
  for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
    if (typeof text !== 'string') invalid(`its ${METADATA_KEY} entry ${quote(key)} is ${describeValue(text)}, not a string`);
    metadata[key] = text as string;
  }
  return metadata;
}

function checkEntry(name: string, value: unknown, invalid: Fail, unusable: Fail): TensorEntry {
  const tensor = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) invalid(`${tensor} is ${describeValue(value)}, not an object with dtype, shape and data_offsets`);
  const fields = value as Record<string, unknown>;
  for (const field of ENTRY_FIELDS) if (!Object.hasOwn(fields, field)) invalid(`${tensor} lacks ${field}`);
  for (const field of Object.keys(fields)) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(field)) {
      invalid(`${tensor} has an unknown field ${quote(field)}; a tensor has only dtype, shape and data_offsets`);
    }
  }
  const { dtype, shape, data_offsets: offsets } = fields;

  if (typeof dtype !== 'string') invalid(`${tensor} has dtype ${describeValue(dtype)}, not a string`);
  const accept = acceptanceOf(name);
  const format = FORMAT_OF_CODE.get(dtype) ?? (accept.integers ? INTEGER_FORMAT_OF_CODE.get(dtype) : undefined) ?? (accept.booleans && dtype === 'BOOL' ? BOOL_FORMAT : undefined);
  if (format === undefined) unusable(`${tensor} has dtype ${describeValue(dtype)}; only F64, F32, F16 and BF16 can be read`);

  if (!Array.isArray(shape) || !shape.every(isWholeNumber)) {
    invalid(`${tensor} has shape ${describeValue(shape)}; a shape is a list of whole numbers ≥ 0`);
  }
  const dims = shape;
  if (dims.length > MAX_RANK) unusable(`${tensor} has ${dims.length} dimensions; at most ${MAX_RANK} can be read`);

  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isWholeNumber) || offsets[0] > offsets[1]) {
    invalid(`${tensor} has data_offsets ${describeValue(offsets)}; they must be [begin, end], whole numbers with begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];

  // BigInt: a product of large dimensions could pass 2^53 and round to a coincidence.
  const needed = dims.reduce((product, size) => product * BigInt(size), 1n) * BigInt(format.itemSize);
  if (needed !== BigInt(end - begin)) {
    invalid(`${tensor} has data_offsets [${begin}, ${end}] but shape ${formatShape(dims)} of ${format.code} needs ${needed} bytes`);
  }
  if (dims.length === 0 && !accept.scalar) unusable(`${tensor} has shape [] (a scalar); an array of rank ≥ 1 is needed`);
  if (needed === 0n) unusable(`${tensor} has shape ${formatShape(dims)}, which holds no values; a non-empty array is needed`);
  return { name, format, shape: dims, begin, end };
}

/**
 * In order of their begin, each tensor must start where the one before ended (the first at 0) and
 * the last must end where the buffer does: the format's rule that the data is covered exactly.
 */
function checkLayout(entries: readonly TensorEntry[], bufferBytes: number, invalid: Fail): void {
  const inOrder = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const entry of inOrder) {
    const tensor = `tensor ${quote(entry.name)}`;
    const range = `[${entry.begin}, ${entry.end}]`;
    if (entry.end > bufferBytes) invalid(`${tensor} has data_offsets ${range} but the data after the header is ${bufferBytes} bytes`);
    if (entry.begin < covered) {
      invalid(`${tensor} has data_offsets ${range}, which overlap those of tensor ${quote(previous!.name)}, [${previous!.begin}, ${previous!.end}]`);
    }
    if (entry.begin > covered) invalid(`bytes ${covered} to ${entry.begin} of the data belong to no tensor (${tensor} has data_offsets ${range})`);
    covered = entry.end;
    previous = entry;
  }
  if (covered < bufferBytes) {
    invalid(
      previous === undefined
        ? `its header lists no tensors but ${bufferBytes} bytes of data follow it`
        : `bytes ${covered} to ${bufferBytes} of the data belong to no tensor (the last, ${quote(previous.name)}, ends at ${covered})`,
    );
  }
}

function readTensor(bytes: Uint8Array, start: number, entry: TensorEntry): Tensor {
  const { format, shape } = entry;
  const count = (entry.end - entry.begin) / format.itemSize;
  const absoluteStart = bytes.byteOffset + start;
  let data: Float64Array;
  if (format.dtype === 'float64' && absoluteStart % 8 === 0) {
    data = new Float64Array(bytes.buffer, absoluteStart, count);
  } else {
    const view = new DataView(bytes.buffer, absoluteStart, count * format.itemSize);
    data = new Float64Array(count);
    for (let k = 0; k < count; k++) data[k] = format.read(view, k * format.itemSize);
  }
  return { shape, data, stored: format.dtype };
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describeJsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : 'a boolean';
}

/** A name as it appears in a message: quoted, escaped onto one line. */
function quote(name: string): string {
  return JSON.stringify(name);
}

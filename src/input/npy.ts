import { float16FromBits } from '../numeric/round-dtype.js';
import { MAX_RANK, type Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import type { ArrayAcceptance } from './array-acceptance.js';

/**
 * Reads numpy's .npy format (versions 1 to 3), as np.save writes it: float64, float32 and float16,
 * either byte order, C or Fortran order, any shape. The header is checked, not trusted: a
 * truncated file, a data size that disagrees with the shape, or a dtype other than these three is
 * an input error naming what is wrong.
 *
 * Little-endian float64 in C order is viewed in place when aligned (no copy); everything else is
 * read once through a DataView into a float64 array, and Fortran order is transposed to row-major.
 *
 * (npyjs, the npm package for this, reads neither big-endian nor Fortran order, nor detects
 * truncation, and needs an 8-byte-aligned buffer; hence this reader.)
 */
export function parseNpy(bytes: Uint8Array, field: string, accept: ArrayAcceptance = {}): Tensor {
  const fail = (what: string): never => {
    throw new InputError(`${field} is not a valid .npy file: ${what}`);
  };
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== '\x93NUMPY') fail('it does not start with \\x93NUMPY');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`format version ${major}.${bytes[7]} is not one numpy writes (1, 2 or 3)`);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) fail('it is truncated inside the header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prefix + headerLength;
  if (dataStart > bytes.length) fail(`the header claims ${headerLength} bytes but the file ends before them`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(prefix, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, fail);

  // numpy's bool is one byte, 0 or 1: read as the unsigned byte it is.
  const integer = accept.integers ? /^([<>=|])([iu])([1248])$/.exec(descr) ?? (accept.booleans ? /^([|])(b)(1)$/.exec(descr) : null) : null;
  if (integer !== null) return integerArray(bytes, view, dataStart, integer, shape, fortranOrder, field, accept, fail);
  const match = /^([<>=|])f([248])$/.exec(descr);
  if (match === null) fail(`dtype ${JSON.stringify(descr)} is not float64, float32 or float16 ('<f8', '<f4', '<f2', or big-endian '>')`);
  const [, order, sizeText] = match!;
  const itemSize = Number(sizeText);
  const littleEndian = order !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  const expectedBytes = count * itemSize;
  const actualBytes = bytes.length - dataStart;
  if (actualBytes !== expectedBytes) {
    fail(`the header's shape (${shape.join(', ')}) of ${descr} needs ${expectedBytes} bytes of data, but ${actualBytes} follow`);
  }

  const absoluteStart = bytes.byteOffset + dataStart;
  let data: Float64Array;
  if (itemSize === 8 && littleEndian && absoluteStart % 8 === 0) {
    data = new Float64Array(bytes.buffer, absoluteStart, count);
  } else {
    data = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      const at = dataStart + k * itemSize;
      data[k] =
        itemSize === 8
          ? view.getFloat64(at, littleEndian)
          : itemSize === 4
            ? view.getFloat32(at, littleEndian)
            : float16FromBits(view.getUint16(at, littleEndian));
    }
  }
  if (shape.length === 0 && !accept.scalar) fail('it holds a 0-d array (a scalar), not an array');
  if (count === 0) throw new InputError(`${field} is empty (shape [${shape.join(', ')}])`);
  const stored = itemSize === 8 ? 'float64' : itemSize === 4 ? 'float32' : 'float16';
  return { shape, data: fortranOrder && shape.length > 1 ? toRowMajor(data, shape) : data, stored };
}

/**
 * The header is a Python dict literal, e.g. `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
 * It is matched field by field with patterns, never evaluated.
 */
function parseHeader(header: string, fail: (what: string) => never): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`its header lacks 'descr', 'fortran_order' or 'shape': ${JSON.stringify(header.trim().slice(0, 80))}`);
  }
  const parts = shapeText!.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length > MAX_RANK) fail(`its shape has more than ${MAX_RANK} dimensions`);
  const shape = parts.map((part) => {
    if (!/^\d+$/.test(part)) fail(`its shape (${shapeText}) is not a tuple of whole numbers`);
    return Number(part);
  });
  if (!shape.every(Number.isSafeInteger)) fail(`its shape (${shapeText}) is too large`);
  return { descr: descr!, fortranOrder: fortran === 'True', shape };
}

/** An integer array (cross_entropy's class indices), each value exact as a float64 while within ±2^53. */
function integerArray(
  bytes: Uint8Array,
  view: DataView,
  dataStart: number,
  [, order, kind, sizeText]: RegExpExecArray,
  shape: number[],
  fortranOrder: boolean,
  field: string,
  accept: ArrayAcceptance,
  fail: (what: string) => never,
): Tensor {
  const itemSize = Number(sizeText);
  const littleEndian = order !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataStart !== count * itemSize) {
    fail(`the header's shape (${shape.join(', ')}) needs ${count * itemSize} bytes of data, but ${bytes.length - dataStart} follow`);
  }
  const signed = kind === 'i';
  const data = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const at = dataStart + k * itemSize;
    const value =
      itemSize === 1
        ? signed ? view.getInt8(at) : view.getUint8(at)
        : itemSize === 2
          ? signed ? view.getInt16(at, littleEndian) : view.getUint16(at, littleEndian)
          : itemSize === 4
            ? signed ? view.getInt32(at, littleEndian) : view.getUint32(at, littleEndian)
            : Number(signed ? view.getBigInt64(at, littleEndian) : view.getBigUint64(at, littleEndian));
    if (!Number.isSafeInteger(value)) fail(`its value at ${k} is beyond ±2^53`);
    data[k] = value;
  }
  if (shape.length === 0 && !accept.scalar) fail('it holds a 0-d array (a scalar), not an array');
  if (count === 0) throw new InputError(`${field} is empty (shape [${shape.join(', ')}])`);
  return { shape, data: fortranOrder && shape.length > 1 ? toRowMajor(data, shape) : data };
}

/** Column-major data of `shape` rearranged into row-major order. */
function toRowMajor(data: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(data.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  // Walk the output in row-major order; the Fortran offset has the first index varying fastest.
  const fortranStride = new Array<number>(rank);
  let stride = 1;
  for (let d = 0; d < rank; d++) {
    fortranStride[d] = stride;
    stride *= shape[d];
  }
  for (let k = 0; k < out.length; k++) {
    let offset = 0;
    for (let d = 0; d < rank; d++) offset += index[d] * fortranStride[d];
    out[k] = data[offset];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

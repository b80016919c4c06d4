import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseSafetensors } from '../../src/input/safetensors.js';
import { ROOT } from '../helpers/run-cli.js';

const DATA = join(ROOT, 'test', 'data', 'safetensors');
/** The generated files that are valid and readable: those with a sidecar of their values. */
const written = readdirSync(DATA)
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.replace(/\.json$/, '.safetensors'))
  .sort();
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DATA, name)));

interface Sidecar {
  readonly metadata: Record<string, string>;
  readonly tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
}
const sidecarOf = (name: string): Sidecar => JSON.parse(readFileSync(join(DATA, name.replace(/\.safetensors$/, '.json')), 'utf8'));
/** The sidecars spell non-finite values as strings, JSON having no NaN or Infinity. */
const numberOf = (value: number | string): number =>
  value === 'NaN' ? NaN : value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : (value as number);
const sameBits = (actual: ArrayLike<number>, expected: readonly number[]): boolean =>
  actual.length === expected.length && expected.every((v, i) => Object.is(actual[i], v));

/** The same bytes at `byteOffset` inside a larger buffer, as Node's pooled Buffers hand them out. */
function atOffset(bytes: Uint8Array, byteOffset: number): Uint8Array {
  const host = new Uint8Array(byteOffset + bytes.length + 5);
  host.set(bytes, byteOffset);
  return host.subarray(byteOffset, byteOffset + bytes.length);
}

/**
 * A file of `header` (an object, written as JSON, or the header text itself) and `data` (bytes, or
 * a count of zero bytes), its header size the true one unless `claimedSize` lies.
 */
function safetensors(header: unknown, data: Uint8Array | number = 0, claimedSize?: bigint): Uint8Array {
  const headerBytes = typeof header === 'string' || header instanceof Uint8Array ? header : JSON.stringify(header);
  const text = typeof headerBytes === 'string' ? new TextEncoder().encode(headerBytes) : headerBytes;
  const buffer = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, claimedSize ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(buffer, 8 + text.length);
  return out;
}
const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const floats = (...values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

const INVALID = 'x.safetensors is not a valid safetensors file: ';
const parse = (bytes: Uint8Array) => () => parseSafetensors(bytes, 'x.safetensors');

describe('parseSafetensors reads the generated files', () => {
  test('there are files of every dtype, rank, layout and special value', () => {
    expect(written).toEqual([
      'bf16-2x3.safetensors',
      'f16-2x3x2.safetensors',
      'f32-3x4.safetensors',
      'f64-5.safetensors',
      'padded-header.safetensors',
      'several-tensors.safetensors',
      'special-values.safetensors',
    ]);
  });

  test.each(written)('reads %s to the values its bits stand for, with its shapes, dtypes and metadata', (name) => {
    const expected = sidecarOf(name);
    const file = parseSafetensors(bytesOf(name), name);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [tensorName, want] of Object.entries(expected.tensors)) {
      const tensor = file.tensors.get(tensorName)!;
      expect(tensor.shape, tensorName).toEqual(want.shape);
      expect(tensor.stored, tensorName).toBe(want.dtype);
      expect(sameBits(tensor.data, want.values.map(numberOf)), tensorName).toBe(true);
    }
    expect({ ...file.metadata }).toEqual(expected.metadata);
  });

  test.each(written.flatMap((name) => [1, 3, 6].map((offset) => [name, offset] as const)))(
    'reads %s the same at byteOffset %i',
    (name, offset) => {
      const aligned = parseSafetensors(bytesOf(name), name);
      const shifted = parseSafetensors(atOffset(bytesOf(name), offset), name);
      for (const [tensorName, tensor] of aligned.tensors) {
        expect(sameBits(shifted.tensors.get(tensorName)!.data, Array.from(tensor.data)), tensorName).toBe(true);
      }
    },
  );

  test('covers every dtype, ranks 1 to 3, and metadata both present and absent', () => {
    const files = written.map((name) => sidecarOf(name));
    const tensors = files.flatMap((file) => Object.values(file.tensors));
    expect(new Set(tensors.map((t) => t.dtype))).toEqual(new Set(['float64', 'float32', 'float16', 'bfloat16']));
    expect(new Set(tensors.map((t) => t.shape.length))).toEqual(new Set([1, 2, 3]));
    expect(files.some((file) => Object.keys(file.metadata).length === 0)).toBe(true);
    expect(files.some((file) => Object.keys(file.metadata).length > 0)).toBe(true);
  });

  test('several-tensors lists its tensors in the header in another order than their data', () => {
    const bytes = bytesOf('several-tensors.safetensors');
    const headerSize = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerSize)));
    const headerOrder = Object.keys(header).filter((key) => key !== '__metadata__');
    const dataOrder = [...headerOrder].sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
    expect(headerOrder).not.toEqual(dataOrder);
    // The F64 tensor starts 6 bytes into the data: it cannot be viewed in place, and is copied.
    expect(header['layer.0.weight'].data_offsets[0]).toBe(6);
  });

  test('padded-header has its header padded with spaces', () => {
    const bytes = bytesOf('padded-header.safetensors');
    const headerSize = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(headerSize).toBe(128);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + headerSize))).toMatch(/\} {10,}$/);
  });

  test('special-values holds NaN, both infinities, -0 and subnormals in every dtype', () => {
    const file = parseSafetensors(bytesOf('special-values.safetensors'), 'special');
    for (const name of ['f64', 'f32', 'f16', 'bf16']) {
      const data = Array.from(file.tensors.get(name)!.data);
      expect(data.slice(0, 5), name).toEqual([NaN, NaN, Infinity, -Infinity, -0]);
      expect(Object.is(data[4], -0), name).toBe(true);
      expect(data[5] > 0 && data[5] < data[8], `${name}: the smallest subnormal is below the smallest normal`).toBe(true);
      expect(data[7], name).toBe(-data[5]);
    }
    expect(file.tensors.get('f16')!.data[5]).toBe(2 ** -24);
    expect(file.tensors.get('bf16')!.data[5]).toBe(2 ** -133);
    expect(file.tensors.get('f32')!.data[5]).toBe(2 ** -149);
    expect(file.tensors.get('f64')!.data[5]).toBe(2 ** -1074);
  });

  test('views aligned float64 data in place, and copies it when it is not 8-byte aligned', () => {
    const bytes = bytesOf('f64-5.safetensors');
    const aligned = atOffset(bytes, 8);
    expect(parseSafetensors(aligned, 'f64').tensors.get('x')!.data.buffer).toBe(aligned.buffer);
    const odd = atOffset(bytes, 1);
    const copied = parseSafetensors(odd, 'f64').tensors.get('x')!.data;
    expect(copied.buffer).not.toBe(odd.buffer);
    expect(Array.from(copied)).toEqual(sidecarOf('f64-5.safetensors').tensors.x.values);
  });

  test('refuses the generated file with overlapping tensors', () => {
    expect(() => parseSafetensors(bytesOf('invalid-overlapping-offsets.safetensors'), 'overlap.safetensors')).toThrow(
      'overlap.safetensors is not a valid safetensors file: tensor "b" has data_offsets [8, 24], which overlap those of tensor "a", [0, 16]',
    );
  });

  test('refuses the generated file of an integer dtype', () => {
    expect(() => parseSafetensors(bytesOf('unsupported-dtype-i32.safetensors'), 'ids.safetensors')).toThrow(
      'ids.safetensors: tensor "ids" has dtype "I32"; only F64, F32, F16 and BF16 can be read',
    );
  });
});

describe('parseSafetensors on files built here', () => {
  test('reads a minimal file, a tensor of any name, metadata null as absent', () => {
    const file = parseSafetensors(safetensors({ __metadata__: null, 'a b.c': entry('F32', [2], [0, 8]) }, floats(1.5, -2)), 'x');
    expect(file.tensors.get('a b.c')).toEqual({ shape: [2], data: Float64Array.from([1.5, -2]), stored: 'float32' });
    expect({ ...file.metadata }).toEqual({});
  });

  test('keeps "__proto__" as an ordinary name, in the metadata and among tensors', () => {
    const bytes = safetensors('{"__metadata__": {"__proto__": "p", "k": "v"}, "__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', floats(3));
    const file = parseSafetensors(bytes, 'x');
    expect(Object.getPrototypeOf(file.metadata)).toBe(null);
    expect(Object.hasOwn(file.metadata, '__proto__')).toBe(true);
    expect(file.metadata['__proto__']).toBe('p');
    expect(file.metadata.k).toBe('v');
    expect(Array.from(file.tensors.get('__proto__')!.data)).toEqual([3]);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  test('a file with no tensors and no data holds nothing', () => {
    const file = parseSafetensors(safetensors({ __metadata__: { format: 'pt' } }), 'x');
    expect(file.tensors.size).toBe(0);
    expect({ ...file.metadata }).toEqual({ format: 'pt' });
  });

  test.each<[string, Uint8Array, string]>([
    ['a file shorter than the header size', new Uint8Array(5), `${INVALID}it is 5 bytes long, too short for the 8-byte header size`],
    ['a header size beyond the file', safetensors('{}', 0, 1000n), `${INVALID}its header size is 1000 bytes but only 2 bytes follow`],
    ['a header size over 100 MB', safetensors('{}', 0, 100_000_001n), `${INVALID}its header size is 100000001 bytes, over the limit of 100000000`],
    ['a header size of 2^64 - 1', safetensors('{}', 0, 2n ** 64n - 1n), `${INVALID}its header size is 18446744073709551615 bytes, over the limit of 100000000`],
    ['a header that is not UTF-8', safetensors(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), `${INVALID}its header is not valid UTF-8`],
    ['a header that is not JSON', safetensors('{"a": }'), `${INVALID}its header is not valid JSON: expected a value, found "}" at character 7`],
    ['a header with NaN', safetensors('{"a": NaN}'), `${INVALID}its header is not valid JSON`],
    ['a header with a byte-order mark', safetensors('\ufeff{}'), `${INVALID}its header is not valid JSON: expected a value, found "\ufeff" at character 1`],
    ['a header that is a JSON array', safetensors('[1, 2]'), `${INVALID}its header is JSON but not an object: it is an array`],
    ['a header that is a JSON number', safetensors('7'), `${INVALID}its header is JSON but not an object: it is a number`],
    ['a header that does not start with "{"', safetensors('  {}'), `${INVALID}its header starts with " ", not "{"`],
    [
      'a tensor named twice',
      safetensors('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "\\u0061": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', 4),
      `${INVALID}its header has the key "a" twice in one object`,
    ],
    ['a field named twice', safetensors('{"a": {"dtype": "F64", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', 4), `${INVALID}its header has the key "dtype" twice in one object`],
    ['a tensor entry that is not an object', safetensors({ a: [0, 4] }, 4), `${INVALID}tensor "a" is [0,4], not an object with dtype, shape and data_offsets`],
    ['a tensor without data_offsets', safetensors({ a: { dtype: 'F32', shape: [1] } }, 4), `${INVALID}tensor "a" lacks data_offsets`],
    ['a tensor with an unknown field', safetensors({ a: { ...entry('F32', [1], [0, 4]), offset: 0 } }, 4), `${INVALID}tensor "a" has an unknown field "offset"; a tensor has only dtype, shape and data_offsets`],
    ['a dtype that is not a string', safetensors({ a: entry(4 as unknown as string, [1], [0, 4]) }, 4), `${INVALID}tensor "a" has dtype 4, not a string`],
    ['a shape with a negative size', safetensors({ a: entry('F32', [2, -1], [0, 8]) }, 8), `${INVALID}tensor "a" has shape [2,-1]; a shape is a list of whole numbers ≥ 0`],
    ['a shape with a fraction', safetensors({ a: entry('F32', [2.5], [0, 8]) }, 8), `${INVALID}tensor "a" has shape [2.5]; a shape is a list of whole numbers ≥ 0`],
    ['a shape that is not a list', safetensors({ a: entry('F32', '2', [0, 8]) }, 8), `${INVALID}tensor "a" has shape "2"; a shape is a list of whole numbers ≥ 0`],
    ['offsets with begin after end', safetensors({ a: entry('F32', [1], [8, 4]) }, 8), `${INVALID}tensor "a" has data_offsets [8,4]; they must be [begin, end], whole numbers with begin ≤ end`],
    ['offsets that are not a pair', safetensors({ a: entry('F32', [1], [4]) }, 4), `${INVALID}tensor "a" has data_offsets [4]; they must be [begin, end], whole numbers with begin ≤ end`],
    ['offsets beyond the data', safetensors({ a: entry('F32', [4], [0, 16]) }, 8), `${INVALID}tensor "a" has data_offsets [0, 16] but the data after the header is 8 bytes`],
    [
      'overlapping tensors',
      safetensors({ b: entry('F32', [4], [8, 24]), a: entry('F32', [4], [0, 16]) }, 24),
      `${INVALID}tensor "b" has data_offsets [8, 24], which overlap those of tensor "a", [0, 16]`,
    ],
    [
      'a hole between tensors',
      safetensors({ b: entry('F32', [2], [12, 20]), a: entry('F32', [2], [0, 8]) }, 20),
      `${INVALID}bytes 8 to 12 of the data belong to no tensor (tensor "b" has data_offsets [12, 20])`,
    ],
    ['a hole before the first tensor', safetensors({ a: entry('F32', [2], [4, 12]) }, 12), `${INVALID}bytes 0 to 4 of the data belong to no tensor (tensor "a" has data_offsets [4, 12])`],
    ['data past the last tensor', safetensors({ a: entry('F32', [2], [0, 8]) }, 12), `${INVALID}bytes 8 to 12 of the data belong to no tensor (the last, "a", ends at 8)`],
    ['data but no tensors', safetensors({}, 4), `${INVALID}its header lists no tensors but 4 bytes of data follow it`],
    ['metadata that is not an object', safetensors({ __metadata__: ['pt'] }), `${INVALID}its __metadata__ is ["pt"], not an object of strings`],
    ['metadata with a value that is not a string', safetensors({ __metadata__: { format: 'pt', epoch: 3 } }), `${INVALID}its __metadata__ entry "epoch" is 3, not a string`],
    ['a dtype it does not read', safetensors({ a: entry('I32', [2], [0, 8]) }, 8), 'x.safetensors: tensor "a" has dtype "I32"; only F64, F32, F16 and BF16 can be read'],
    ['a dtype named like an Object method', safetensors({ a: entry('constructor', [2], [0, 8]) }, 8), 'x.safetensors: tensor "a" has dtype "constructor"; only F64, F32, F16 and BF16 can be read'],
    ['a rank above 64', safetensors({ a: entry('F32', new Array(65).fill(1), [0, 4]) }, 4), 'x.safetensors: tensor "a" has 65 dimensions; at most 64 can be read'],
    ['a scalar', safetensors({ a: entry('F32', [], [0, 4]), b: entry('F32', [1], [4, 8]) }, 8), 'x.safetensors: tensor "a" has shape [] (a scalar); an array of rank ≥ 1 is needed'],
    ['a tensor with no values', safetensors({ a: entry('F32', [2, 0], [0, 0]), b: entry('F32', [1], [0, 4]) }, 4), 'x.safetensors: tensor "a" has shape [2, 0], which holds no values; a non-empty array is needed'],
  ])('refuses %s, saying what is wrong', (_, bytes, message) => {
    expect(parse(bytes)).toThrow(message);
    // The whole message, on one line.
    expect(parse(bytes)).toThrow(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  test('refuses a size that disagrees with shape × itemsize, naming the tensor, the field and the numbers', () => {
    const bytes = safetensors({ f: entry('F32', [4], [0, 16]), g: entry('F32', [2, 3], [16, 48]) }, 48);
    expect(() => parseSafetensors(bytes, 'dump.safetensors')).toThrow(
      /^dump\.safetensors is not a valid safetensors file: tensor "g" has data_offsets \[16, 48\] but shape \[2, 3\] of F32 needs 24 bytes$/,
    );
  });
});

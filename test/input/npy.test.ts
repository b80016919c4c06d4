import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseNpy } from '../../src/input/npy.js';
import { ROOT } from '../helpers/run-cli.js';

const NPY = join(ROOT, 'test', 'data', 'npy');
const written = readdirSync(NPY).filter((name) => name.endsWith('.npy') && !name.startsWith('fixture-')).sort();
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(join(NPY, name)));

/** A file as np.save writes it (version 1.0), built here so that each test can lie in one place. */
function npy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const padded = header.padEnd(Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + padded.length + data.length);
  out.set([0x93, ...'NUMPY'.split('').map((c) => c.charCodeAt(0)), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), prefix);
  out.set(data, prefix + padded.length);
  return out;
}
const doubles = (...values: number[]): Uint8Array => new Uint8Array(Float64Array.from(values).buffer);

describe('parseNpy', () => {
  test('there are numpy-written files of every dtype, order and byte order', () => {
    expect(written).toHaveLength(36);
  });

  test.each(written)("reads %s to numpy's own values, bit for bit, in row-major order", (name) => {
    const expected = JSON.parse(readFileSync(join(NPY, name.replace(/\.npy$/, '.json')), 'utf8'));
    const tensor = parseNpy(bytesOf(name), name);
    expect(tensor.shape).toEqual(expected.shape);
    expect(Array.from(tensor.data).every((v, i) => Object.is(v, expected.values[i]))).toBe(true);
  });

  test('views aligned little-endian float64 in place, without a copy', () => {
    const file = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", doubles(1, 2, 3));
    const tensor = parseNpy(file, 'x');
    expect(tensor.data.buffer).toBe(file.buffer);
    expect(Array.from(tensor.data)).toEqual([1, 2, 3]);
  });

  test('reads a version 2.0 header', () => {
    expect(Array.from(parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", doubles(4, 5), 2), 'x').data)).toEqual([4, 5]);
  });

  test.each<[string, Uint8Array, string]>([
    ['a file that is not .npy', new TextEncoder().encode('{"x": [1, 2]}'), 'x is not a valid .npy file: it does not start with \\x93NUMPY'],
    ['a truncated data section', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", doubles(1, 2)), "x is not a valid .npy file: the header's shape (3) of <f8 needs 24 bytes of data, but 16 follow"],
    ['a header that claims too little', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", doubles(1, 2)), "x is not a valid .npy file: the header's shape (1) of <f8 needs 8 bytes of data, but 16 follow"],
    ['a file cut inside its header', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", doubles(1)).subarray(0, 40), 'x is not a valid .npy file: the header claims 118 bytes but the file ends before them'],
    ['an integer dtype', npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", doubles(1)), 'x is not a valid .npy file: dtype "<i8" is not float64, float32 or float16'],
    ['a header without a shape', npy("{'descr': '<f8', 'fortran_order': False, }", doubles(1)), "x is not a valid .npy file: its header lacks 'descr', 'fortran_order' or 'shape'"],
    ['a shape that is not numbers', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (n,), }", doubles(1)), 'x is not a valid .npy file: its shape (n,) is not a tuple of whole numbers'],
    ['a 0-d array', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", doubles(1)), 'x is not a valid .npy file: it holds a 0-d array (a scalar), not an array'],
    ['an unknown version', (() => { const f = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", doubles(1)); f[6] = 9; return f; })(), 'x is not a valid .npy file: format version 9.0 is not one numpy writes (1, 2 or 3)'],
  ])('refuses %s, saying what is wrong', (_, bytes, message) => {
    expect(() => parseNpy(bytes, 'x')).toThrow(message);
  });

  test('an empty array is an empty input', () => {
    expect(() => parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", new Uint8Array()), 'x')).toThrow('x is empty (shape [0])');
  });
});

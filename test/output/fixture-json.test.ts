import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { fixtureToJson, pythonFloat, type FixtureV1 } from '../../src/output/fixture-json.js';
import { f64 } from '../helpers/fixtures.js';

/** Awkward float64s: signed zeros, subnormals, extremes, values with 17 significant digits, non-finite. */
const AWKWARD = [
  0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
  0.1, 1 / 3, -2 / 3, Math.PI, 1e21, 1e-7, 123456789012345680, 0.30000000000000004, NaN, Infinity, -Infinity, 2, -17,
];

function randomDoubles(count: number): number[] {
  // Random bit patterns cover every exponent, which random values in [0, 1) would not.
  const bits = new BigUint64Array(count);
  let state = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < count; i++) {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    bits[i] = state;
  }
  return Array.from(new Float64Array(bits.buffer));
}

function fixtureOf(values: number[]): FixtureV1 {
  const data = f64(values);
  return {
    name: 'round trip',
    source: 'test',
    dtype: 'float64',
    dim: -1,
    x: { shape: [values.length], data },
    g: { shape: [values.length], data },
    expected: { forward: data, grad: data },
  };
}

const sameBits = (a: number, b: number): boolean => Object.is(a, b);

describe('fixtureToJson', () => {
  test('reads back bit for bit, awkward and random float64s alike', () => {
    const values = [...AWKWARD, ...randomDoubles(2000)];
    const doc = parseInputDocument(fixtureToJson(fixtureOf(values)), { requireFixture: true });
    for (const array of [doc.x!.data, doc.g!.data, doc.expected!.forward!, doc.expected!.grad!]) {
      values.forEach((v, i) => expect(sameBits(array[i], v), `element ${i}: ${v}`).toBe(true));
    }
  });

  test('keeps N-D nesting, dim, dtype, tolerance, description', () => {
    const data = f64([1, 2, 3, 4, 5, 6]);
    const fixture: FixtureV1 = {
      name: 'n-d',
      description: 'a 2×3 case',
      source: 'test',
      dtype: 'float32',
      dim: 0,
      tolerance: { rtol: 1e-3, atol: 0 },
      x: { shape: [2, 3], data },
      g: { shape: [2, 3], data },
      expected: { grad: data },
    };
    const text = fixtureToJson(fixture);
    expect(text).toContain('"x": [\n    [1.0,2.0,3.0],\n    [4.0,5.0,6.0]\n  ]');
    const doc = parseInputDocument(text, { requireFixture: true });
    expect(doc).toMatchObject({ name: 'n-d', description: 'a 2×3 case', dtype: 'float32', dim: 0, tolerance: { rtol: 1e-3, atol: 0 } });
    expect(doc.x!.shape).toEqual([2, 3]);
    expect(doc.expected!.forward).toBeUndefined();
  });

  // python3 is on every machine of this project, CI's included.
  test("loads in Python's json.load to the same float64s", () => {
    const values = [...AWKWARD, ...randomDoubles(300)];
    const script =
      'import json, sys, struct\n' +
      'doc = json.load(sys.stdin)\n' +
      'print(" ".join(struct.pack(">d", float(v)).hex() for v in doc["x"]))\n';
    const result = spawnSync('python3', ['-c', script], { input: fixtureToJson(fixtureOf(values)), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const hex = (v: number): string => Buffer.from(new Float64Array([v]).buffer).reverse().toString('hex');
    // Python has one NaN bit pattern of its own; compare NaN as NaN, the rest bit for bit.
    const expected = values.map((v) => (Number.isNaN(v) ? 'nan' : hex(v)));
    const got = result.stdout.trim().split(' ').map((h, i) => (Number.isNaN(values[i]) ? 'nan' : h));
    expect(got).toEqual(expected);
  });
});

describe('pythonFloat', () => {
  test.each([
    [2, '2.0'],
    [-17, '-17.0'],
    [-0, '-0.0'],
    [0, '0.0'],
    [0.5, '0.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('%d is written %s', (value, text) => {
    expect(pythonFloat(value)).toBe(text);
  });
});

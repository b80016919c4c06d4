import { describe, expect, test } from 'vitest';
import type { DType } from '../../src/dtype.js';
import { parseInputDocument } from '../../src/input/input-document.js';
import { InputError, withInputLabel } from '../../src/input-error.js';
import { resolveRequest, type InputFiles, type RawRequest } from '../../src/input/resolve-input.js';

const missing = (path: string): never => {
  throw new InputError(`cannot read --input ${path}: no such file`);
};
const noFiles: InputFiles = {
  readInput: async (path) => missing(path),
  readNpy: (path) => missing(path),
  npyBeside: () => (path) => missing(path),
};
const file = (text: string): InputFiles => ({
  ...noFiles,
  readInput: async (path) => ({ label: path, doc: withInputLabel(path, () => parseInputDocument(text)) }),
});

async function resolve(raw: RawRequest, reader: InputFiles = noFiles) {
  const result = await resolveRequest(raw, reader);
  if (!result.ok) throw result.error;
  return result.value;
}

async function refusal(raw: RawRequest, reader: InputFiles = noFiles): Promise<string> {
  const result = await resolveRequest(raw, reader);
  if (result.ok) throw new Error('expected an input error');
  return result.error.message;
}

describe('resolveRequest', () => {
  test('runs the built-in example x = 1..9, g = 11..19 when given nothing', async () => {
    const { input, tolerance } = await resolve({});
    expect(Array.from(input.x.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(input.g.data)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(input.dtype).toBe('float64');
    expect(tolerance).toBeUndefined();
  });

  test('takes x and g from the flags, dim -1 and float64 by default', async () => {
    const { input } = await resolve({ x: '[[1, 2], [3, 4]]', g: '[[1, 0], [0, 1]]' });
    expect(input.x.shape).toEqual([2, 2]);
    expect(input.dim).toBe(-1);
    expect(input.axis).toBe(1);
    expect(input.dtype).toBe('float64');
  });

  test('normalises negative dims the way PyTorch does', async () => {
    const { input } = await resolve({ x: '[[1, 2], [3, 4]]', g: '[[1, 0], [0, 1]]', dim: '-2' });
    expect(input.axis).toBe(0);
  });

  test('--dim and --dtype override the document', async () => {
    const { input } = await resolve(
      { input: 'in.json', dim: '0', dtype: 'float16' },
      file('{"x": [[1, 2]], "g": [[1, 2]], "dim": 1, "dtype": "float32"}'),
    );
    expect(input.dim).toBe(0);
    expect(input.dtype).toBe('float16');
  });

  test('reads --rtol and --atol together', async () => {
    const { tolerance } = await resolve({ rtol: '1e-3', atol: '0' });
    expect(tolerance).toEqual({ rtol: 1e-3, atol: 0 });
  });

  test.each<[string, RawRequest, string]>([
    ['expected gradients without g', { x: '1,2', expectedGrad: '0,0' }, 'expected grad values need g, the upstream gradient they were computed from: give it with --g (for example --g 1,0,0) or as the field "g"'],
    ['missing x', { g: '1,2' }, 'x is missing: give the logits with --x'],
    ['shape mismatch', { x: '1,2,3', g: '1,2' }, 'g has shape [2], but x has shape [3]: they must match'],
    ['N-D shape mismatch', { x: '[[1,2],[3,4]]', g: '[1,2,3,4]' }, 'g has shape [4], but x has shape [2, 2]: they must match'],
    ['dim out of range', { x: '1,2', g: '1,2', dim: '1' }, 'dim 1 is out of range for x of shape [2] (expected -1 to 0)'],
    ['dim too negative', { x: '[[1]]', g: '[[1]]', dim: '-3' }, 'dim -3 is out of range for x of shape [1, 1] (expected -2 to 1)'],
    ['dim not an integer', { x: '1,2', g: '1,2', dim: '1.5' }, '--dim must be an integer, got "1.5"'],
    ['unknown dtype', { dtype: 'float8' }, '--dtype must be one of float64, float32, float16, bfloat16 (or fp32, bf16, half, …), got "float8"'],
    ['rtol alone', { rtol: '1e-3' }, '--rtol and --atol must be given together'],
    ['negative atol', { rtol: '0', atol: '-1' }, '--atol must be a finite number ≥ 0, got "-1"'],
    ['infinite rtol', { rtol: 'inf', atol: '0' }, '--rtol must be a finite number ≥ 0, got "inf"'],
    ['a bad rtol before its missing atol', { rtol: 'abc' }, '--rtol must be a finite number ≥ 0, got "abc"'],
    ['flags and a file', { x: '1', input: 'in.json' }, 'give x and g either with --x/--g or inside --input, not both'],
    ['an unreadable file', { input: 'missing.json' }, 'cannot read --input missing.json: no such file'],
  ])('refuses %s', async (_, raw, message) => {
    expect(await refusal(raw)).toContain(message);
  });

  test('prefixes errors inside a document with its name', async () => {
    expect(await refusal({ input: 'in.json' }, file('{"x": [1, "abc"], "g": [1, 2]}'))).toBe(
      'in.json: x[1] is not a number: "abc"',
    );
  });

  test('reads --x and --g ending in .npy as files, the rest as values', async () => {
    const files: InputFiles = { ...noFiles, readNpy: (path, field) => ({ shape: [2], data: Float64Array.of(path.length, field.length) }) };
    const { input } = await resolve({ x: 'a.npy', g: '1,2' }, files);
    expect(Array.from(input.x.data)).toEqual([5, 1]);
    expect(Array.from(input.g.data)).toEqual([1, 2]);
  });

  describe('the dtype when neither --dtype nor the document says', () => {
    const stored = (dtypes: Record<string, DType | undefined>): InputFiles => ({
      ...noFiles,
      readNpy: (path) => ({ shape: [2], data: Float64Array.of(1, 2), stored: dtypes[path] }),
    });

    test('is the one x and g are stored in', async () => {
      const { input } = await resolve({ x: 'x.npy', g: 'g.npy' }, stored({ 'x.npy': 'float32', 'g.npy': 'float32' }));
      expect([input.dtype, input.dtypeFrom]).toEqual(['float32', 'data']);
    });

    test('is the stored one when only one of them was stored', async () => {
      const { input } = await resolve({ x: '1,2', g: 'g.npy' }, stored({ 'g.npy': 'float16' }));
      expect([input.dtype, input.dtypeFrom]).toEqual(['float16', 'data']);
    });

    test('is float64 for values given as text', async () => {
      const { input } = await resolve({ x: '1,2', g: '1,2' });
      expect([input.dtype, input.dtypeFrom]).toEqual(['float64', 'default']);
    });

    test('is the one the expected values are stored in, when x and g are text', async () => {
      const { input } = await resolve({ x: '1,2', g: '1,0', expectedGrad: 'e.npy' }, stored({ 'e.npy': 'float32' }));
      expect([input.dtype, input.dtypeFrom]).toEqual(['float32', 'data']);
    });

    test('is an input error when the expected values are stored in another dtype than x and g', async () => {
      const files = stored({ 'x.npy': 'float32', 'g.npy': 'float32', 'e.npy': 'float64' });
      expect(await refusal({ x: 'x.npy', g: 'g.npy', expectedGrad: 'e.npy' }, files)).toBe(
        'x is stored as float32 but expected grad as float64: give --dtype to say which the kernel computes in',
      );
      const { input } = await resolve({ x: 'x.npy', g: 'g.npy', expectedGrad: 'e.npy', dtype: 'float32' }, files);
      expect(input.dtype).toBe('float32');
    });

    test('is an input error naming both when x and g are stored differently', async () => {
      expect(await refusal({ x: 'x.npy', g: 'g.npy' }, stored({ 'x.npy': 'float32', 'g.npy': 'float64' }))).toBe(
        'x is stored as float32 but g as float64: give --dtype to say which the kernel computes in',
      );
    });

    test('gives way to --dtype, and to the document', async () => {
      const files = stored({ 'x.npy': 'float32', 'g.npy': 'float64' });
      const flagged = await resolve({ x: 'x.npy', g: 'g.npy', dtype: 'bf16' }, files);
      expect([flagged.input.dtype, flagged.input.dtypeFrom]).toEqual(['bfloat16', 'flag']);
      const { input } = await resolve({ input: 'in.json' }, file('{"x": [1, 2], "g": [1, 2], "dtype": "float16"}'));
      expect([input.dtype, input.dtypeFrom]).toEqual(['float16', 'input']);
    });
  });

  test.each([
    ['fp64', 'float64'],
    ['f64', 'float64'],
    ['double', 'float64'],
    ['fp32', 'float32'],
    ['f32', 'float32'],
    ['FP16', 'float16'],
    ['f16', 'float16'],
    ['half', 'float16'],
    ['bf16', 'bfloat16'],
    ['BFloat16', 'bfloat16'],
  ])('reads the dtype alias %s as %s', async (alias, dtype) => {
    const { input } = await resolve({ x: '1,2', g: '1,2', dtype: alias });
    expect(input.dtype).toBe(dtype);
  });

  describe('--expected-softmax, --expected-grad and --source', () => {
    test('carry the values to judge and who produced them', async () => {
      const { input } = await resolve({ x: '1,2', g: '1,0', expectedGrad: '[0.19, -0.19]', source: 'my kernel' });
      expect(input.expected).toEqual({ forward: undefined, grad: Float64Array.of(0.19, -0.19) });
      expect(input.source).toBe('my kernel');
    });

    test('add to a document that has no expected values of that quantity', async () => {
      const doc = file('{"x": [1, 2], "g": [1, 0], "expected": {"softmax": [0.25, 0.75]}, "source": "torch"}');
      const { input } = await resolve({ input: 'in.json', expectedGrad: '0.1,-0.1' }, doc);
      expect(input.expected).toEqual({ forward: Float64Array.of(0.25, 0.75), grad: Float64Array.of(0.1, -0.1) });
      expect(input.source).toBe('torch');
    });

    test('read .npy files as --x does', async () => {
      const files: InputFiles = { ...noFiles, readNpy: (_, field) => ({ shape: [2], data: Float64Array.of(field.length, 0) }) };
      const { input } = await resolve({ x: '1,2', g: '1,0', expectedSoftmax: 'mine.npy' }, files);
      expect(input.expected?.forward).toEqual(Float64Array.of('--expected-softmax'.length, 0));
    });

    test.each<[string, RawRequest, string]>([
      ['given twice', { input: 'in.json', expectedSoftmax: '0.5,0.5' }, 'in.json has expected softmax values already: give them there or with --expected-softmax, not both'],
      ['of another shape', { x: '1,2', g: '1,0', expectedGrad: '1,2,3' }, '--expected-grad has shape [3], but x has shape [2]'],
      ['--source with nothing to label', { x: '1,2', g: '1,0', source: 'me' }, '--source names who produced expected values, but there are none: give them with --expected-softmax/--expected-grad, or leave --source out'],
      ['without an input', { expectedGrad: '1,2' }, '--expected-softmax, --expected-grad and --source need an input: give --x and --g, or --input'],
      ['with a bad value', { x: '1,2', g: '1,0', expectedGrad: '1,zz' }, '--expected-grad[1] is not a number: "zz"'],
    ])('are refused %s', async (_, raw, message) => {
      expect(await refusal(raw, file('{"x": [1, 2], "g": [1, 0], "expected": {"softmax": [0.25, 0.75]}}'))).toBe(message);
    });
  });

  test('refuses expected gradients in a document without g, saying how to give it', async () => {
    expect(await refusal({ input: 'in.json' }, file('{"x": [1, 2], "expected": {"grad": [0, 0]}}'))).toMatch(/^in\.json: expected grad values need g, the upstream gradient they were computed from: give it with --g/);
  });
});

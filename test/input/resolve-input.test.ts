import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/input/input-error.js';
import { resolveRequest, type InputFiles, type RawRequest } from '../../src/input/resolve-input.js';

const missing = (path: string): never => {
  throw new InputError(`cannot read --input ${path}: no such file`);
};
const noFiles: InputFiles = {
  readDocument: async (path) => missing(path),
  readNpy: (path) => missing(path),
  npyBeside: () => (path) => missing(path),
};
const file = (text: string): InputFiles => ({ ...noFiles, readDocument: async (path) => ({ text, label: path }) });

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
    ['missing g', { x: '1,2' }, 'g is missing: give the upstream gradient with --g (for example --g 1,0,0) or as the field "g"'],
    ['missing x', { g: '1,2' }, 'x is missing: give the logits with --x'],
    ['shape mismatch', { x: '1,2,3', g: '1,2' }, 'g has shape [2], but x has shape [3]: they must match'],
    ['N-D shape mismatch', { x: '[[1,2],[3,4]]', g: '[1,2,3,4]' }, 'g has shape [4], but x has shape [2, 2]: they must match'],
    ['dim out of range', { x: '1,2', g: '1,2', dim: '1' }, 'dim 1 is out of range for x of shape [2] (expected -1 to 0)'],
    ['dim too negative', { x: '[[1]]', g: '[[1]]', dim: '-3' }, 'dim -3 is out of range for x of shape [1, 1] (expected -2 to 1)'],
    ['dim not an integer', { x: '1,2', g: '1,2', dim: '1.5' }, '--dim must be an integer, got "1.5"'],
    ['unknown dtype', { dtype: 'float8' }, '--dtype must be one of float64, float32, float16, bfloat16, got "float8"'],
    ['rtol alone', { rtol: '1e-3' }, '--rtol and --atol must be given together'],
    ['negative atol', { rtol: '0', atol: '-1' }, '--atol must be a finite number ≥ 0, got "-1"'],
    ['infinite rtol', { rtol: 'inf', atol: '0' }, '--rtol must be a finite number ≥ 0, got "inf"'],
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

  test('reports a missing g in a document with how to give it', async () => {
    expect(await refusal({ input: 'in.json' }, file('{"x": [1, 2]}'))).toMatch(/^in\.json: g is missing: give the upstream gradient/);
  });
});

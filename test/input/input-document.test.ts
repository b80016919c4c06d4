import { describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { fixtureText, pytorchFixtureNames } from '../helpers/fixtures.js';

const FIXTURE_HEAD = '"format": "softmax-verify.fixture/v1", "name": "n", "source": "s", "dtype": "float64", "dim": -1';

describe('parseInputDocument', () => {
  test('reads a plain input with only x and g', () => {
    const doc = parseInputDocument('{"x": [1, 2], "g": [3, 4]}');
    expect(doc.x?.shape).toEqual([2]);
    expect(Array.from(doc.g!.data)).toEqual([3, 4]);
    expect(doc.dim).toBeUndefined();
    expect(doc.dtype).toBeUndefined();
  });

  test('reads dim, dtype, tolerance and expected', () => {
    const doc = parseInputDocument(
      '{"x": [[1, 2]], "g": [[3, 4]], "dim": 0, "dtype": "float32", "tolerance": {"rtol": 0.01, "atol": 0},' +
        '"expected": {"grad": [[0, 0]]}}',
    );
    expect(doc.dim).toBe(0);
    expect(doc.dtype).toBe('float32');
    expect(doc.tolerance).toEqual({ rtol: 0.01, atol: 0 });
    expect(doc.expected?.forward).toBeUndefined();
    expect(Array.from(doc.expected!.grad!)).toEqual([0, 0]);
  });

  test.each(pytorchFixtureNames())('reads the PyTorch fixture %s', (name) => {
    const doc = parseInputDocument(fixtureText(name));
    expect(doc.source).toMatch(/^PyTorch 1\.13/);
    expect(doc.expected?.forward?.length).toBe(doc.x!.data.length);
    expect(doc.expected?.grad?.length).toBe(doc.x!.data.length);
  });

  test.each([
    ['{"x": [1, 2], "g": [1, 2]', "invalid JSON at line 1, column 26: expected ',' or '}', found the end of the input"],
    ['[1, 2]', 'expected a JSON object with fields "x" and "g", got an array'],
    ['{"x": [1], "g": [1], "dtpye": "float32"}', 'unknown field "dtpye" (known fields: format, name, description'],
    ['{"x": [1], "g": [1], "__proto__": {"dim": 5}}', 'unknown field "__proto__"'],
    ['{"x": [1], "g": [1], "dtype": "float8"}', 'dtype must be one of float64, float32, float16, bfloat16, got "float8"'],
    // Aliases are for flags users type; a document's dtype is the fixture schema's, exactly.
    ['{"x": [1], "g": [1], "dtype": "bf16"}', 'dtype must be one of float64, float32, float16, bfloat16, got "bf16"'],
    ['{"x": [1], "g": [1], "dim": 1.5}', 'dim must be an integer, got 1.5'],
    ['{"x": [1], "g": [1], "dim": "0"}', 'dim must be an integer, got "0"'],
    ['{"x": [1, 2], "g": [1, 2], "expected": {"grad": [1]}}', 'expected.grad has shape [1], but x has shape [2]'],
    ['{"x": [1], "g": [1], "expected": {}}', 'expected must have "softmax", "grad" or both'],
    ['{"x": [1], "g": [1], "expected": {"dx": [1]}}', 'expected has an unknown field "dx" (known: softmax, grad)'],
    ['{"x": [1], "g": [1], "tolerance": {"rtol": 1e-3}}', 'tolerance.atol is missing: give both rtol and atol'],
    ['{"x": [1], "g": [1], "tolerance": {"rtol": -1, "atol": 0}}', 'tolerance.rtol must be a finite number ≥ 0, got -1'],
    ['{"x": [1], "g": [1], "name": 3}', 'name must be a string, got 3'],
    [`{"format": "softmax-verify.fixture/v2", "x": [1], "g": [1]}`, 'format is "softmax-verify.fixture/v2", but this version reads "softmax-verify.fixture/v1"'],
    [`{${FIXTURE_HEAD}, "x": [1], "g": [1]}`, 'expected is missing: a softmax-verify.fixture/v1 fixture must have it'],
    [`{${FIXTURE_HEAD}, "x": [1, "z"], "g": [1, 2], "expected": {"grad": [0, 0]}}`, 'x[1] is not a number: "z"'],
  ])('refuses %s', (text, message) => {
    expect(() => parseInputDocument(text)).toThrow(message);
  });

  test.each([
    ['a name nested 5,000 deep', `{"x": [1], "g": [1], "name": ${'['.repeat(5000)}1${']'.repeat(5000)}}`, 'name is nested more than 100 levels deep (line 1, column 129): JSON input nests at most 100 levels'],
    ['an expected grad nested 5,000 deep, unclosed', `{"x": [1], "g": [1], "expected": {"grad": ${'['.repeat(5000)}}}`, 'expected.grad is nested more than 100 levels deep (line 1, column 141): JSON input nests at most 100 levels'],
    ['a document nested 200 deep', '['.repeat(200), 'the document is nested more than 100 levels deep (line 1, column 101): JSON input nests at most 100 levels'],
    ['a key of 8.4 million characters', `{"x": [1], "g": [1], "${'k'.repeat(8_400_000)}": 1}`, 'unknown field "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (known fields: format'],
    ['a name of 8.4 million characters beside a NaN', `{"x": [1], "g": [1], "name": ["${'n'.repeat(8_400_000)}", NaN]}`, 'name must be a string, got ["nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...'],
  ])('refuses %s in one line', (_, text, message) => {
    expect(() => parseInputDocument(text)).toThrow(message);
  });
});

import { describe, expect, test } from 'vitest';
import { tensorFromNested } from '../../src/input/nested-array.js';

describe('tensorFromNested', () => {
  test('reads a 1-D array', () => {
    const t = tensorFromNested([1, 2, 3], 'x');
    expect(t.shape).toEqual([3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });

  test('reads a 2×3×1 array in row-major order', () => {
    const t = tensorFromNested([[[1], [2], [3]], [[4], [5], [6]]], 'x');
    expect(t.shape).toEqual([2, 3, 1]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('reads the non-finite spellings Python writes or float() accepts', () => {
    const t = tensorFromNested(['NaN', '-Infinity', 'inf', '-inf', 'nan'], 'x');
    expect(Array.from(t.data)).toEqual([NaN, -Infinity, Infinity, -Infinity, NaN]);
  });

  test.each([
    [[[1, 2], [3, 'abc']], 'x[1][1] is not a number: "abc"'],
    [[[1, 2], [3]], 'x[1] has 1 element, but x[0] has 2 (ragged array)'],
    [[[1, 2, 3], [4, 5]], 'x[1] has 2 elements, but x[0] has 3 (ragged array)'],
    [[[1, 2], 3], 'x[1] is 3 where an array was expected (ragged nesting)'],
    [[1, [2]], 'x[1] is an array where a number was expected (ragged nesting)'],
    [[1, null], 'x[1] is null, not a number (write NaN as NaN or "nan")'],
    [[1, true], 'x[1] is not a number: true'],
    [[1, { a: 1 }], 'x[1] is not a number: {"a":1}'],
    [[1, '0x10'], 'x[1] is not a number: "0x10"'],
    [[], 'x is empty (shape [0])'],
    [[[], []], 'x is empty (shape [2, 0])'],
    [5, 'x must be an array of numbers, got 5'],
    [{ a: 1 }, 'x must be an array of numbers, got {"a":1}'],
  ])('refuses %j: %s', (value, message) => {
    expect(() => tensorFromNested(value, 'x')).toThrow(message);
  });

  test('refuses nesting deeper than 64 levels instead of recursing into it', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(() => tensorFromNested(value, 'g')).toThrow('g is nested more than 64 levels deep');
  });

  test('names the field it was given in messages', () => {
    expect(() => tensorFromNested([[1], ['a']], 'expected.grad')).toThrow('expected.grad[1][0] is not a number: "a"');
  });
});

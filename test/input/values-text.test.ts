import { describe, expect, test } from 'vitest';
import { tensorFromValuesText } from '../../src/input/values-text.js';

describe('tensorFromValuesText', () => {
  test.each([
    ['1,2,3', [1, 2, 3]],
    ['1 2 3', [1, 2, 3]],
    ['1, 2, 3', [1, 2, 3]],
    ['  1\t2\n3  ', [1, 2, 3]],
    ['1,2,3,', [1, 2, 3]],
    ['-1e3, .5, +2', [-1000, 0.5, 2]],
    ['0.5,-inf,nan', [0.5, -Infinity, NaN]],
  ])('reads the list %j', (text, values) => {
    const t = tensorFromValuesText(text, 'x');
    expect(t.shape).toEqual([values.length]);
    expect(Array.from(t.data)).toEqual(values);
  });

  test('reads a nested JSON array with Python tokens as an N-D input', () => {
    const t = tensorFromValuesText('[[1, NaN], [-Infinity, 4]]', 'g');
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data)).toEqual([1, NaN, -Infinity, 4]);
  });

  test.each([
    ['1,abc,3', 'x[1] is not a number: "abc"'],
    ['1,,2', 'x[1] is missing: two separators in a row'],
    ['   ', 'x is empty'],
    ['[1, a]', 'x is not valid JSON at column 5: expected a value, found "a"'],
    ['[1, 2', "x is not valid JSON at column 6: expected ',' or ']', found the end of the input"],
    ['[]', 'x is empty (shape [0])'],
    ['['.repeat(101) + '1' + ']'.repeat(101), 'x is nested more than 100 levels deep, at column 101: JSON input nests at most 100 levels'],
    ['[{"a": ' + '['.repeat(100) + '1' + ']'.repeat(100) + '}]', 'x is nested more than 100 levels deep (at a), at column 106: JSON input nests at most 100 levels'],
    [`1,${'2'.repeat(100_000)}x`, 'x[1] is not a number: "222222222222222222222222222222222222...'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => tensorFromValuesText(text, 'x')).toThrow(message);
  });
});

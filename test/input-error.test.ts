import { describe, expect, test } from 'vitest';
import { describeValue } from '../src/input-error.js';

describe('describeValue', () => {
  test.each<[string, unknown, string]>([
    ['a string', 'abc', '"abc"'],
    ['a number, as JavaScript writes it', 1.5, '1.5'],
    ['NaN alone', Number.NaN, 'NaN'],
    ['NaN in an array, as JSON writes it', [Number.NaN, 1], '[null,1]'],
    ['an object', { a: 1, b: [true, null] }, '{"a":1,"b":[true,null]}'],
    ['undefined', undefined, 'undefined'],
    ['fields JSON leaves out', { a: undefined, f: () => 1, b: 2 }, '{"b":2}'],
    ['a BigInt', 10n, '10n'],
    ['a BigInt in an array', [1n, 2], '[1n,2]'],
    ['a function', () => 1, 'a function'],
    ['a string with a line break, escaped', 'a\nb', '"a\\nb"'],
    ['a long string, cut short', 'x'.repeat(100), `"${'x'.repeat(36)}...`],
    // What JSON.stringify's whole text, cut at 37, would show.
    ['a long array, cut short', Array.from({ length: 1000 }, (_, i) => i), '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,1...'],
  ])('writes %s', (_, value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  test('writes a string of 8.4 million characters in 40', () => {
    expect(describeValue('y'.repeat(8_400_000))).toBe(`"${'y'.repeat(36)}...`);
  });

  test('writes an array nested 100,000 deep without overflowing the stack', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(describeValue(value)).toBe(`${'['.repeat(37)}...`);
  });

  test('writes a cyclic value, as far as it shows', () => {
    const cycle: unknown[] = [1];
    cycle.push(cycle);
    expect(describeValue(cycle)).toBe('[1,[1,[1,[1,[1,[1,[1,[1,[1,[1,[1,[1,[...');
  });

  test('says so, without throwing, of a value whose reading throws', () => {
    const getter = Object.defineProperty({}, 'a', { enumerable: true, get: () => { throw new Error('no'); } });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeValue(getter)).toBe('a value that cannot be read');
    expect(describeValue(proxy)).toBe('a value that cannot be read');
  });
});

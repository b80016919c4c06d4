import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PROPERTY_OPTIONS } from '../helpers/properties.js';
import { parseNumberToken } from '../../src/input/number-token.js';

describe('parseNumberToken', () => {
  test.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['1e-3', 0.001],
    ['6.02E23', 6.02e23],
    ['0.1', 0.1],
  ])('reads the decimal %s', (token, value) => {
    expect(parseNumberToken(token)).toBe(value);
  });

  test.each(['nan', 'NaN', 'NAN', '-nan', '+nan'])('reads %s as NaN, as Python float() does', (token) => {
    expect(parseNumberToken(token)).toBeNaN();
  });

  test.each([
    ['inf', Infinity],
    ['+inf', Infinity],
    ['-inf', -Infinity],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['INF', Infinity],
  ])('reads %s as an infinity', (token, value) => {
    expect(parseNumberToken(token)).toBe(value);
  });

  test.each(['', 'abc', '0x10', '1e', '1.2.3', '--1', 'infinit', '1,2', ' 1', 'Infinityx'])(
    'refuses %j rather than guessing',
    (token) => {
      expect(parseNumberToken(token)).toBeUndefined();
    },
  );

  // The old pattern (\d+\.?\d*) split a point-less run of digits n ways before failing: 10^5
  // digits took minutes. No timing is asserted; a quadratic scan would not finish.
  test('refuses a token of 10^6 digits and a letter, and reads one of 10^6 digits', () => {
    const digits = '1'.repeat(1_000_000);
    expect(parseNumberToken(`${digits}x`)).toBeUndefined();
    expect(parseNumberToken(`${digits}.${digits}e${digits}`)).toBe(Infinity);
    expect(parseNumberToken(`0.${digits}`)).toBe(0.1111111111111111);
  });

  test('keeps every float64 exactly: the shortest round-trip string reads back to the same bits', () => {
    for (const v of [0.1, 1 / 3, Math.PI, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308]) {
      expect(Object.is(parseNumberToken(String(v)), v)).toBe(true);
    }
  });

  test('reads the same language as the pattern it replaced, on short tokens where that one is safe', () => {
    const OLD_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.eE+-x]{0,10}$/), (token) => {
        const read = parseNumberToken(token);
        return OLD_DECIMAL.test(token) ? Object.is(read, Number(token)) : read === undefined || /^[+-]?(nan|inf|infinity)$/i.test(token);
      }),
      PROPERTY_OPTIONS,
    );
  });
});

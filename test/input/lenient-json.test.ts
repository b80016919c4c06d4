import { describe, expect, test } from 'vitest';
import { locateJsonError, parseLenientJson } from '../../src/input/lenient-json.js';

function parse(text: string): unknown {
  const result = parseLenientJson(text);
  if (!result.ok) throw new Error(`unexpected failure: ${result.message}`);
  return result.value;
}

describe('parseLenientJson', () => {
  test('reads standard JSON unchanged', () => {
    expect(parse('{"x": [1, 2.5, -3e2], "name": "a"}')).toEqual({ x: [1, 2.5, -300], name: 'a' });
  });

  test("hands Python's bare NaN, Infinity and -Infinity tokens over as strings the number reader accepts", () => {
    expect(parse('[NaN, Infinity, -Infinity, 1]')).toEqual(['NaN', 'Infinity', '-Infinity', 1]);
  });

  test('leaves NaN and Infinity inside strings alone', () => {
    expect(parse('{"note": "NaN and -Infinity \\" NaN", "v": NaN}')).toEqual({ note: 'NaN and -Infinity " NaN', v: 'NaN' });
  });

  test('reads the output of Python json.dumps with non-finite floats', () => {
    // json.dumps({"x": [float("nan"), float("-inf")], "g": [1.0, 2.0]}) writes exactly this.
    expect(parse('{"x": [NaN, -Infinity], "g": [1.0, 2.0]}')).toEqual({ x: ['NaN', '-Infinity'], g: [1, 2] });
  });

  test('keeps __proto__ as a plain own key: no prototype is touched', () => {
    const value = parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  test('reads an array nested 100,000 levels deep without overflowing the stack', () => {
    const text = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    expect(parseLenientJson(text).ok).toBe(true);
  });

  test.each([
    ['[1, a]', 1, 5, 'expected a value, found "a"'],
    ['[1, 2', 1, 6, "expected ',' or ']', found the end of the input"],
    ['{"x": [1,\n 2,]}', 2, 4, 'expected a value, found "]"'],
    ['{"x" [1]}', 1, 6, "expected ':' after a key, found \"[\""],
    ['{x: 1}', 1, 2, 'expected a quoted key, found "x"'],
    ['[1] 2', 1, 5, 'unexpected text after the JSON value, found "2"'],
    ['[NaNa]', 1, 5, "expected ',' or ']', found \"a\""],
    ['[0x10]', 1, 3, "expected ',' or ']', found \"x\""],
    ['["abc]', 1, 2, 'unterminated or invalid string, found "\\""'],
    ['', 1, 1, 'expected a value, found the end of the input'],
  ])('reports %j at line %i, column %i', (text, line, column, message) => {
    expect(parseLenientJson(text)).toEqual({ ok: false, line, column, message });
  });

  test('the error scanner survives 100,000 open brackets', () => {
    expect(locateJsonError('['.repeat(100_000)).message).toBe('expected a value, found the end of the input');
  });
});

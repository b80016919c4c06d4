import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PROPERTY_OPTIONS } from '../helpers/properties.js';
import { fieldOfKeys, locateJsonError, MAX_JSON_DEPTH, parseLenientJson } from '../../src/input/lenient-json.js';

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

  test('reads nesting up to the limit of 100 levels', () => {
    expect(MAX_JSON_DEPTH).toBe(100);
    const text = '['.repeat(100) + '1' + ']'.repeat(100);
    expect(parseLenientJson(text).ok).toBe(true);
  });

  test('refuses a level beyond the limit at the bracket that opens it, before parsing, whatever follows', () => {
    const text = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    expect(parseLenientJson(text)).toEqual({ ok: false, kind: 'depth', line: 1, column: 101, message: 'nested more than 100 levels deep', keys: [] });
    // Unclosed: the depth is refused where it is reached, not after reading the rest.
    expect(parseLenientJson('['.repeat(1_000_000))).toEqual({ ok: false, kind: 'depth', line: 1, column: 101, message: 'nested more than 100 levels deep', keys: [] });
  });

  test('names the keys on the way to a level beyond the limit, and counts objects as levels', () => {
    const deep = '['.repeat(99) + '1' + ']'.repeat(99);
    const line2 = ' "g": [1, 2], "name": "a [[[ { \\" b", "expected": {"softmax": [0], "grad": ';
    const outcome = parseLenientJson(`{"x": [1],\n${line2}${deep}}}`);
    // The document and expected are two levels; grad's 99th bracket opens the 101st.
    expect(outcome).toEqual({ ok: false, kind: 'depth', line: 2, column: line2.length + 99, message: 'nested more than 100 levels deep', keys: ['expected', 'grad'] });
    const objects = '{"a":'.repeat(101) + '1' + '}'.repeat(101);
    expect(parseLenientJson(objects)).toMatchObject({ kind: 'depth', column: 501 });
  });

  test('counts no bracket inside a string, escaped quotes and backslashes included', () => {
    const inString = `["${'['.repeat(500)}\\\\", "\\"${'{'.repeat(500)}"]`;
    expect(parseLenientJson(inString)).toEqual({ ok: true, value: ['['.repeat(500) + '\\', `"${'{'.repeat(500)}`] });
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
    expect(parseLenientJson(text)).toEqual({ ok: false, kind: 'syntax', line, column, message });
  });

  test('the error scanner survives 100,000 open brackets', () => {
    expect(locateJsonError('['.repeat(100_000)).message).toBe('expected a value, found the end of the input');
  });

  test.each([
    ['["a\\x"]', 1, 'unterminated or invalid string, found "\\""'],
    ['["\\u12G4"]', 1, 'unterminated or invalid string, found "\\""'],
    ['["a\nb"]', 1, 'unterminated or invalid string, found "\\""'],
    ['[-]', 1, 'expected a value, found "-"'],
    ['[1.]', 2, "expected ',' or ']', found \".\""],
    ['[1e+]', 2, "expected ',' or ']', found \"e\""],
    ['[01]', 2, "expected ',' or ']', found \"1\""],
  ])('the error scanner reads strings and numbers as JSON does: %s', (text, offset, message) => {
    expect(locateJsonError(text)).toEqual({ offset, message });
  });

  test('the error scanner accepts valid JSON of every kind of string and number', () => {
    const text = '{"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9": [0, -0, 1.5, -2e10, 3E-2, 4.25e+1, true, false, null, NaN, -Infinity]}';
    expect(locateJsonError(text)).toEqual({ offset: text.length, message: 'no error' });
  });
});

// Each of these once went through a regular expression that needed a stack entry per character
// (V8 throws RangeError past about 10^7) or backtracked quadratically; read by hand, they take
// milliseconds. No timing is asserted: a quadratic scan of these sizes would not finish at all.
describe('parseLenientJson on long input', () => {
  const long = 8_400_000;

  test('a string of 8.4 million characters beside a NaN', () => {
    const outcome = parseLenientJson(`{"x": [NaN], "name": "${'a'.repeat(long)}"}`);
    expect(outcome.ok && (outcome.value as { name: string }).name.length).toBe(long);
  });

  test('an unterminated string of 8.4 million characters, said where it starts', () => {
    expect(parseLenientJson(`[NaN, "${'a'.repeat(long)}]`)).toEqual({ ok: false, kind: 'syntax', line: 1, column: 7, message: 'unterminated or invalid string, found "\\""' });
  });

  test('a run of 8.4 million backslashes', () => {
    const outcome = parseLenientJson(`[Infinity, "${'\\'.repeat(long)}"]`);
    expect(outcome.ok && (outcome.value as string[])[1].length).toBe(long / 2);
  });

  test('a number of 8.4 million digits followed by junk, said where the junk is', () => {
    expect(parseLenientJson(`[NaN, ${'1'.repeat(long)}x]`)).toMatchObject({ ok: false, column: long + 7, message: "expected ',' or ']', found \"x\"" });
  });
});

describe('fieldOfKeys', () => {
  test.each([
    [['x'], 'x'],
    [['expected', 'grad'], 'expected.grad'],
    [['a', 'b', 'c', 'd'], 'a.b.c.…'],
    [['a b', 'line\nbreak'], '"a b"."line\\nbreak"'],
    [['k'.repeat(100)], `"${'k'.repeat(36)}...`],
  ])('names %j as %s', (keys, field) => {
    expect(fieldOfKeys(keys)).toBe(field);
  });
});

// The reader before the hand scan, kept as the oracle on short texts (where its regular expression
// is safe): bare tokens quoted outside strings, then JSON.parse.
const OLD_BARE_TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;
function oldReader(text: string): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: JSON.parse(text.replace(OLD_BARE_TOKEN, (m) => (m[0] === '"' ? m : `"${m}"`))) };
  } catch {
    return { ok: false };
  }
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

describe('parseLenientJson, properties', () => {
  const nonFinite = fc.constantFrom('NaN', 'Infinity', '-Infinity');
  // JSON text with bare tokens spliced in where numbers stand, and strings that hold the tokens, brackets, quotes and backslashes.
  const tricky = fc.stringMatching(/^[a-zN[\]{}"\\ ,:I-]{0,12}$/);
  const jsonish = fc
    .tuple(fc.jsonValue({ maxDepth: 4 }), fc.array(fc.tuple(fc.nat(), nonFinite), { maxLength: 4 }), fc.array(tricky, { maxLength: 3 }))
    .map(([value, tokens, strings]) => {
      let text = JSON.stringify([value, ...strings]);
      for (const [at, token] of tokens) {
        const i = at % (text.length + 1);
        text = `${text.slice(0, i)}${token}${text.slice(i)}`;
      }
      return text;
    });

  // Valid lenient JSON: nested arrays and objects of doubles (non-finite ones written bare, as Python writes them) and tricky strings.
  const pythonJson = fc
    .jsonValue({ maxDepth: 3 })
    .chain((shape) => fc.tuple(fc.constant(shape), fc.array(fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity), tricky), { maxLength: 6 })))
    .map(([shape, items]) =>
      JSON.stringify({ shape, items }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${v}@@` : v)).replace(/"@@(NaN|-?Infinity)@@"/g, '$1'),
    );

  test('reads what the old reader read, and refuses what it refused, texts broken by splicing included', () => {
    fc.assert(
      fc.property(fc.oneof(pythonJson, jsonish, fc.string({ maxLength: 30 })), (text) => {
        const outcome = parseLenientJson(text);
        const expected = oldReader(text);
        if (expected.ok && depthOf(expected.value) > MAX_JSON_DEPTH) return outcome.ok === false && outcome.kind === 'depth';
        expect(outcome.ok).toBe(expected.ok);
        if (outcome.ok) expect(outcome.value).toEqual(expected.value);
        return true;
      }),
      PROPERTY_OPTIONS,
    );
  });

  test('refuses exactly the texts nested more than 100 levels, at the bracket that opens the 101st', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('[', '{"k": '), { minLength: 1, maxLength: 140 }), fc.string({ maxLength: 6 }), (opens, filler) => {
        const closes = opens.map((open) => (open === '[' ? ']' : '}')).reverse().join('');
        const text = `${opens.join('')}${JSON.stringify(filler)}${closes}`;
        const outcome = parseLenientJson(text);
        if (opens.length <= MAX_JSON_DEPTH) return outcome.ok;
        const column = opens.slice(0, MAX_JSON_DEPTH).join('').length + 1;
        return !outcome.ok && outcome.kind === 'depth' && outcome.column === column;
      }),
      PROPERTY_OPTIONS,
    );
  });

  test('the error scanner agrees with JSON.parse on where standard JSON is valid', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 20 }), fc.json().chain((json) => fc.nat(json.length).map((cut) => json.slice(0, cut)))), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        // The scanner also reads the bare tokens; texts holding them are the property above's.
        if (/NaN|Infinity/.test(text)) return true;
        return (locateJsonError(text).message === 'no error') === valid;
      }),
      PROPERTY_OPTIONS,
    );
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fixtureText } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';

// In process, --input - would read the test runner's own stdin: the text goes through one file instead.
const INPUT = join(mkdtempSync(join(tmpdir(), 'softmax-verify-fuzz-')), 'input.json');

/** main in process, with `stdin` as the --input document: the exit code and what went to stderr. */
async function runInProcess(argv: string[], stdin?: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io = { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
  if (stdin !== undefined) writeFileSync(INPUT, stdin);
  return { code: await main(argv.map((a) => (a === '-' && stdin !== undefined ? INPUT : a)), io), stderr };
}

/** Whatever the input, the answer is a verdict (0, 1) or one line of error (2), never a crash (3). */
function expectHandled({ code, stderr }: { code: number; stderr: string }): boolean {
  if (code === 3) return false;
  if (code === 2) return /^error: [^\n]+\n$/.test(stderr) && !/\n\s+at /.test(stderr);
  return code === 0 || code === 1;
}

const numberLike = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, 5e-324, -5e-324, 1e308, -1e308, Infinity, -Infinity, NaN, 37.43, 1e-300),
);
const numberText = fc.oneof(
  numberLike.map((v) => String(v)),
  fc.constantFrom('nan', '-inf', 'Infinity', '1e400', '0x10', '', 'abc', '--1', '1e', '.', '１', '\u0000'),
);

describe('no input crashes the tool', () => {
  test('random lists and arrays for --x and --g, random dims, dtypes and methods', async () => {
    const flat = fc.array(numberText, { minLength: 0, maxLength: 8 }).map((items) => items.join(','));
    const nested = fc.array(fc.array(numberLike, { minLength: 0, maxLength: 4 }), { minLength: 0, maxLength: 3 }).map((v) => JSON.stringify(v));
    const values = fc.oneof(flat, nested, fc.string({ maxLength: 12 }));
    const flags = fc.record({
      x: values,
      g: values,
      dim: fc.oneof(fc.integer({ min: -4, max: 4 }).map(String), fc.constantFrom('x', '1.5', '')),
      dtype: fc.constantFrom('float64', 'float32', 'float16', 'bfloat16', 'float8', ''),
      // The optional methods once met an infinite g there and never returned.
      extra: fc.subarray([['--accurate'], ['--fd'], ['--compute', 'float16'], ['--accumulate', 'bfloat16'], ['--reference', 'double-double']]),
    });
    await fc.assert(
      fc.asyncProperty(flags, async ({ x, g, dim, dtype, extra }) => {
        const reference = extra.some(([flag]) => flag === '--reference') ? [] : ['--reference', 'off'];
        return expectHandled(await runInProcess(['--x', x, '--g', g, '--dim', dim, '--dtype', dtype, ...reference, ...extra.flat()]));
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('random mutations of a valid fixture: truncation, insertions, deletions, swapped characters', async () => {
    const original = fixtureText('batch-4x7-dim-last.json');
    const mutation = fc.oneof(
      fc.integer({ min: 0, max: original.length }).map((at) => original.slice(0, at)),
      fc.tuple(fc.integer({ min: 0, max: original.length }), fc.constantFrom('[', ']', '{', '}', ',', '"', ':', 'NaN', '1e400', '"__proto__": 1,', '\u2028', 'null', '[[[[', '-', '0x10')).map(
        ([at, text]) => original.slice(0, at) + text + original.slice(at),
      ),
      fc.tuple(fc.integer({ min: 0, max: original.length }), fc.integer({ min: 1, max: 40 })).map(([at, length]) => original.slice(0, at) + original.slice(at + length)),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (text) => expectHandled(await runInProcess(['--input', '-', '--reference', 'off'], text))),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('deep nesting, duplicate keys, prototype keys and enormous numbers are answered, not crashed on', async () => {
    for (const text of [
      `{"x": ${'['.repeat(100_000)}1${']'.repeat(100_000)}, "g": [1]}`,
      '{"x": [1, 2], "x": [3, 4], "g": [1, 2]}',
      '{"x": [1, 2], "g": [1, 2], "constructor": {"prototype": {"polluted": 1}}}',
      '{"x": [1e400, -1e400], "g": [1, 2]}',
      '{"x": [1, 2], "g": [1, 2], "dim": 1e300}',
      '{"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "g": [1]}',
    ]) {
      const result = await runInProcess(['--input', '-', '--reference', 'off'], text);
      expect(expectHandled(result), `${text.slice(0, 60)}: ${result.stderr}`).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('determinism', () => {
  test('the same input gives the same report, byte for byte', async () => {
    const outputs: string[] = [];
    for (let run = 0; run < 2; run++) {
      let out = '';
      const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {} };
      await main(['--x', '1,2,3,4,5', '--g', '5,4,3,2,1', '--format', 'json', '--accurate', '--fd'], io);
      outputs.push(out);
    }
    expect(outputs[1]).toBe(outputs[0]);
  });
});

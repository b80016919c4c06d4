import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fixtureText } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, PROPERTY_RUNS, propertyTimeout } from '../helpers/properties.js';
import { buildTree, treeSteps } from '../helpers/random-tree.js';
import { runCli, testIo } from '../helpers/run-cli.js';
import { runs } from '../helpers/slow-tests.js';

// check reads files, never stdin: its `-` is this file, holding the text.
const INPUT = join(mkdtempSync(join(tmpdir(), 'softmax-verify-fuzz-')), 'input.json');

/** main in process, with `stdin` as the --input document (or check's file): the exit code and what went to stderr. */
async function runInProcess(argv: string[], stdin?: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io = testIo({ stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, stdin });
  const viaFile = stdin !== undefined && argv[0] === 'check';
  if (viaFile) writeFileSync(INPUT, stdin);
  return { code: await main(argv.map((a) => (a === '-' && viaFile ? INPUT : a)), io), stderr };
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

/** data as a nested array of the given shape; JSON writes NaN and ±Infinity as null, so as text. */
function nest(data: number[], shape: number[]): unknown {
  if (shape.length === 1) return data.map((v) => (Number.isFinite(v) ? v : String(v)));
  const step = data.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(data.slice(i * step, (i + 1) * step), shape.slice(1)));
}

const flat = fc.array(numberText, { minLength: 0, maxLength: 8 }).map((items) => items.join(','));
const nested = fc.array(fc.array(numberLike, { minLength: 0, maxLength: 4 }), { minLength: 0, maxLength: 3 }).map((v) => JSON.stringify(v));
const values = fc.oneof(flat, nested, fc.string({ maxLength: 12 }));
/** A random verifier command line: values, dim, dtype, and any of the optional methods and types. */
/** x and g of one random shape (rank 1 to 3): the values, not the syntax, reach the methods. */
const matchedPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const tensor = fc.array(numberLike, { minLength: size, maxLength: size }).map((data) => JSON.stringify(nest(data, shape)));
    return fc.record({ x: tensor, g: tensor });
  });
const verifyArgs = fc
  .record({
    pair: fc.oneof({ arbitrary: fc.record({ x: values, g: values }), weight: 1 }, { arbitrary: matchedPair, weight: 3 }),
    // Mostly valid flags, so that most runs reach the methods; the rest test the flags themselves.
    dim: fc.oneof({ arbitrary: fc.integer({ min: -4, max: 4 }).map(String), weight: 8 }, { arbitrary: fc.constantFrom('x', '1.5', ''), weight: 1 }),
    dtype: fc.oneof({ arbitrary: fc.constantFrom('float64', 'float32', 'float16', 'bfloat16'), weight: 8 }, { arbitrary: fc.constantFrom('float8', ''), weight: 1 }),
    // The optional methods once met an infinite g there and never returned.
    extra: fc.subarray([['--accurate'], ['--fd'], ['--compute', 'float16'], ['--accumulate', 'bfloat16'], ['--reference', 'double-double']]),
  })
  .map(({ pair: { x, g }, dim, dtype, extra }) => {
    const reference = extra.some(([flag]) => flag === '--reference') ? [] : ['--reference', 'off'];
    return ['--x', x, '--g', g, '--dim', dim, '--dtype', dtype, ...reference, ...extra.flat()];
  });

/**
 * What the runs ended in, by class: the verdict, or the error line with its particulars (numbers,
 * quoted text, paths) blanked. FUZZ_REPORT=1 prints it after the run, for the record of a long run.
 */
const outcomes = new Map<string, number>();
function tally(code: number, stderr: string): void {
  const line =
    code === 2
      ? stderr
          .trim()
          .replaceAll(INPUT, '<input>')
          .replace(/"(?:\\.|[^"\\])*"|'[^']*'/g, '"…"')
          .replace(/-?\d[\d.e+-]*/g, 'N')
      : `exit ${code}`;
  outcomes.set(line, (outcomes.get(line) ?? 0) + 1);
}
afterAll(() => {
  if (process.env.FUZZ_REPORT === undefined) return;
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const lines = [...outcomes].sort((a, b) => b[1] - a[1]).map(([line, count]) => `${String(count).padStart(7)}  ${line}`);
  process.stdout.write(`fuzz outcomes, ${total} runs, ${outcomes.size} classes:\n${lines.join('\n')}\n`);
});

describe('no input crashes the tool', () => {
  test('random lists and arrays for --x and --g, random dims, dtypes and methods', async () => {
    await fc.assert(
      fc.asyncProperty(verifyArgs, async (args) => {
        const result = await runInProcess(args);
        tally(result.code, result.stderr);
        return expectHandled(result);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('a smaller sample through the built command: the same answers from a real process', () => {
    fc.assert(
      // A command line cannot carry a NUL byte: the operating system ends the argument there.
      fc.property(verifyArgs.filter((args) => args.every((arg) => !arg.includes('\u0000'))), (args) => {
        const { code, stdout, stderr } = runCli(args);
        const handled = expectHandled({ code: code ?? 3, stderr });
        return handled && (code === 2 ? stdout === '' : stdout.length > 0);
      }),
      { ...PROPERTY_OPTIONS, numRuns: Math.max(runs(20), Math.round(PROPERTY_RUNS / 15)) },
    );
  }, propertyTimeout(20));

  test('random mutations of a valid fixture, read by the verifier and by check: never a crash', async () => {
    const original = fixtureText('batch-4x7-dim-last.json');
    const at = fc.integer({ min: 0, max: original.length });
    const insertion = fc.constantFrom(
      ...['[', ']', '{', '}', ',', '"', ':', '-', 'NaN', '1e400', '-1e400', '0x10', '1_000', '.5', 'null', 'true', '"text"', '{}', '[[[[', ']]]]'],
      ...['"__proto__": 1,', '"constructor": {"prototype": {"x": 1}},', '"x": [1],', '"dim": 7,', '"dtype": "float8",', '"tolerance": {"rtol": -1, "atol": 0},'],
      ...['\u2028', '\u00e9', '\ud83d\ude00', '\ufeff', '\u0000', '\\u0041', '\\ud800'],
      // Around the depth limit, in any field: 100 levels of arrays or objects, and more.
      ...['['.repeat(99), '['.repeat(101), '{"a":'.repeat(101), '["'.repeat(300), '\\'.repeat(301), 'N'.repeat(50)],
    );
    const mutation = fc.oneof(
      at.map((i) => original.slice(0, i)),
      fc.tuple(at, insertion).map(([i, text]) => original.slice(0, i) + text + original.slice(i)),
      fc.tuple(at, fc.integer({ min: 1, max: 40 })).map(([i, length]) => original.slice(0, i) + original.slice(i + length)),
      fc.tuple(at, at).map(([i, j]) => original.slice(0, Math.min(i, j)) + original.slice(Math.max(i, j)) + original.slice(Math.min(i, j), Math.max(i, j))),
    );
    await fc.assert(
      fc.asyncProperty(mutation, fc.boolean(), async (text, viaCheck) => {
        const args = viaCheck ? ['check', '-'] : ['--input', '-', '--reference', 'off'];
        const result = await runInProcess(args, text);
        // check reports a broken fixture as an ERROR line in its report, not on stderr.
        if (viaCheck) outcomes.set(`check: exit ${result.code}`, (outcomes.get(`check: exit ${result.code}`) ?? 0) + 1);
        else tally(result.code, result.stderr);
        return viaCheck ? result.code !== 3 && !/\n\s+at /.test(result.stderr) : expectHandled(result);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('random hostile fixture folders (links in, up, out and to nothing, FIFOs, broken files) are checked, never crashed or hung on', async () => {
    await fc.assert(
      fc.asyncProperty(treeSteps(fixtureText('seed.json')), async (steps) => {
        const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-fuzz-tree-'));
        try {
          buildTree(dir, steps);
          const result = await runInProcess(['check', dir]);
          outcomes.set(`check a folder: exit ${result.code}`, (outcomes.get(`check a folder: exit ${result.code}`) ?? 0) + 1);
          // 0 or 1 when every entry is a fixture; 2 for a broken one, a refused link, or an empty folder (one line).
          return result.code !== 3 && (result.stderr === '' || /^error: [^\n]+\n$/.test(result.stderr));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { ...PROPERTY_OPTIONS, numRuns: Math.max(runs(20), Math.round(PROPERTY_RUNS / 3)) },
    );
  }, propertyTimeout(30));

  test('deep nesting, duplicate keys, prototype keys and enormous numbers are answered, not crashed on', async () => {
    for (const text of [
      `{"x": ${'['.repeat(100_000)}1${']'.repeat(100_000)}, "g": [1]}`,
      '{"x": [1, 2], "x": [3, 4], "g": [1, 2]}',
      '{"x": [1, 2], "g": [1, 2], "constructor": {"prototype": {"polluted": 1}}}',
      '{"x": [1e400, -1e400], "g": [1, 2]}',
      '{"x": [1, 2], "g": [1, 2], "dim": 1e300}',
      '{"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "g": [1]}',
      // Each field nested 5,000 deep: quoting one in an error message once overflowed the stack (exit 3).
      ...['name', 'source', 'description', 'dtype', 'dim', 'op', 'format', 'tolerance', 'expected'].map(
        (field) => `{"x": [1, 2], "g": [1, 0], "${field}": ${'['.repeat(5000)}"a"${']'.repeat(5000)}}`,
      ),
      `{"x": [1, 2], "g": [1, 0], "expected": {"grad": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}}`,
      // 8.4 million characters beside a NaN: a regular expression once needed a stack entry per character (exit 3).
      `{"x": [1, NaN], "g": [1, 0], "name": "${'a'.repeat(8_400_000)}"}`,
      `{"x": [1, NaN], "g": [1, 0], "name": "${'a'.repeat(8_400_000)}`,
      `{"x": [1, NaN], "g": [1, 0], "${'k'.repeat(8_400_000)}": 1}`,
      // A run of digits and a letter: Python float()'s pattern once split it n ways (minutes at 10^5).
      `{"x": [1, "${'1'.repeat(8_400_000)}x"], "g": [1, 0]}`,
      `{"x": [1, ${'1'.repeat(8_400_000)}x], "g": [1, 0]}`,
    ]) {
      for (const args of [['--input', '-', '--reference', 'off'], ['check', '-']]) {
        const result = await runInProcess(args, text);
        // One line, whatever the size of what it quotes; check reports the fixture as an ERROR and goes on.
        const handled = args[0] === 'check' ? result.code === 2 && result.stderr === '' : expectHandled(result) && result.stderr.length < 400;
        expect(handled, `${args[0]} ${text.slice(0, 60)}: ${result.code} ${result.stderr.slice(0, 400)}`).toBe(true);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 60_000);

  test('a 1 GB line on stdin is refused once it passes the text limit, without reading the rest', async () => {
    // 1 GiB of "1" in 64 KiB pieces (one buffer, served again and again), counted as they are read.
    const piece = Buffer.alloc(64 * 1024, '1');
    let served = 0;
    const pieces = function* () {
      while (served < 2 ** 30) {
        served += piece.length;
        yield piece;
      }
    };
    let stdout = '';
    let stderr = '';
    const io = testIo({ stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
    const code = await main(['--input', '-'], { ...io, stdin: Readable.from(pieces()) });
    expect({ code, stdout, stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: --input stdin holds more than 512 MiB: text input is limited to 512 MiB (a JavaScript string's limit); give arrays this large as .npy files\n`,
    });
    // Read up to the limit and a stream's read-ahead (16 pieces), the rest of the gigabyte never asked for.
    expect(served).toBeLessThan(2 ** 29 + 2 ** 20);
  }, 60_000);
});

describe('determinism', () => {
  test('the same input gives the same report, byte for byte', async () => {
    const outputs: string[] = [];
    for (let run = 0; run < 2; run++) {
      let out = '';
      const io = testIo({ stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true } });
      await main(['--x', '1,2,3,4,5', '--g', '5,4,3,2,1', '--format', 'json', '--accurate', '--fd'], io);
      outputs.push(out);
    }
    expect(outputs[1]).toBe(outputs[0]);
  });
});

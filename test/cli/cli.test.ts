import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadFixture } from '../helpers/fixtures.js';
import { ANSI, ROOT, runCli, runMain } from '../helpers/run-cli.js';

describe('softmax-verify with no arguments', () => {
  test('prints the built-in example side by side and passes', async () => {
    const { code, stdout, stderr } = await runMain([]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const seed = loadFixture('seed.json');
    expect(lines.slice(0, 3)).toEqual([
      'softmax-verify: built-in example: x = 1..9, g = 11..19',
      "x: shape [9], softmax along dim -1 (1 slice of 9), dtype float64 (the input's)",
      `expected: ${seed.source}`,
    ]);
    // One row per element: index, x, g, then for softmax and grad the Jacobian, the closed form and
    // PyTorch's value, each shown to 8 significant digits, which all three must agree to.
    const rows = lines.filter((line) => /^\s+\[\d\]/.test(line));
    expect(rows).toHaveLength(9);
    rows.forEach((row, i) => {
      const [head, softmax, grad] = row.split('│');
      expect(head.trim().split(/\s+/)).toEqual([`[${i}]`, String(i + 1), String(i + 11)]);
      const [sj, sc, se] = softmax.trim().split(/\s+/).map(Number);
      const [gj, gc, ge, , mark] = grad.trim().split(/\s+/);
      expect([sj, sc, se]).toEqual([se, se, Number(seed.expected!.forward![i].toPrecision(8))]);
      expect([Number(gj), Number(gc)]).toEqual([Number(ge), Number(ge)]);
      expect(Number(ge)).toBe(Number(seed.expected!.grad![i].toPrecision(8)));
      expect(mark).toBe('✓');
    });
    for (const section of [
      'close: |a − b| ≤ atol + rtol·(|b| + s_i Σ_j s_j |g_j|) + arithmetic, rtol 1e-7, atol 1e-7 (float64 default)',
      'ulps of float64 from the correctly rounded result',
      'invariants, worst slice',
    ]) {
      expect(lines.some((line) => line.startsWith(section)), section).toBe(true);
    }
    expect(lines.filter((line) => line.includes(' / 9 (0.0%)'))).toHaveLength(4);
    expect(lines.filter((line) => line.startsWith('softmax   expected vs exact ') || line.startsWith('grad      expected vs exact '))).toHaveLength(2);
    expect(lines.at(-2)).toBe('PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result');
  });
});

describe('exit codes', () => {
  test('0 when the methods agree', async () => {
    expect((await runMain(['--x', '1,2,3', '--g', '1,0,0'])).code).toBe(0);
  });

  test('1 when the expected values disagree, with the failing rows marked', async () => {
    const stdin = JSON.stringify({ x: [0, 0], g: [1, 0], expected: { softmax: [0.5, 0.5], grad: [0.25, -0.2] } });
    const { code, stdout } = await runMain(['--input', '-'], { stdin });
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[1\] .* ✗$/m);
    expect(stdout).toMatch(/\[0\] .* ✓$/m);
    expect(stdout).toContain("FAIL: grad, expected vs exact (1 / 2); the expected values' sums (1 / 1 slices)");
    // The failing element, explained: both values, the difference and what was allowed.
    expect(stdout).toContain('grad, expected vs exact: 1 element beyond the allowance, the worst first');
    expect(stdout).toMatch(/^ {2}\[1\]: expected -0\.2, exact -0\.25, \|a − b\| 0\.05 is 3\.33e5 times the 1\.5e-7 allowed \(atol 1e-7 \+ rtol·\|b\| 2\.5e-8 \+ rtol·s_i Σ s_j\|g_j\| 2\.5e-8 \+ arithmetic /m);
  });

  test('0 with --rtol 0 --atol 0: the allowance still covers the rounding of float64 arithmetic, all the methods differ by', async () => {
    const { code, stdout } = await runMain(['--x', '1,2,3,4,5,6,7,8,9', '--g', '11,12,13,14,15,16,17,18,19', '--rtol', '0', '--atol', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^grad {6}explicit Jacobian vs closed form {3}0 \/ 9 \(0\.0%\) {3}1\.33e-15 at \[8\] /m);
  });

  test('0 for --help and --version, which print to stdout', async () => {
    const help = await runMain(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: softmax-verify [options]');
    expect(help.stdout).toContain('Exit codes: 0 the methods agree');
    const version = await runMain(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('input', () => {
  test('reads an N-D JSON array along --dim, and prints N-D indices', async () => {
    const { code, stdout } = await runMain(['--x', '[[1, 2], [3, 5]]', '--g', '[[1, 0], [0, 1]]', '--dim', '0']);
    expect(code).toBe(0);
    expect(stdout).toContain('x: shape [2, 2], softmax along dim 0 (2 slices of 2), dtype float64');
    expect(stdout).toMatch(/^\[1, 1\] /m);
  });

  test('reads a fixture file, Python NaN/Infinity tokens and all', async () => {
    const { code, stdout } = await runMain(['--input', 'fixtures/pytorch/all-masked-row.json']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'note: slice x[1, :] has every logit -Infinity: its softmax is undefined, and both methods give NaN there, as PyTorch does',
    );
    expect(stdout).toContain('PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result');
  });

  test('reads --input - from stdin, as Python json.dumps writes it', async () => {
    const { code, stdout } = await runMain(['--input', '-'], { stdin: '{"x": [0.5, -Infinity, 1.5], "g": [1, 2, 3], "dtype": "float32"}' });
    expect(code).toBe(0);
    expect(stdout).toContain('dtype float32');
    expect(stdout).toContain('rtol 1.3e-6, atol 1e-5 (float32 default)');
  });

  test('--dtype runs the methods in that dtype, and --accumulate sets where sums accumulate', async () => {
    const half = await runMain(['--dtype', 'float16', '--format', 'json']);
    const report = JSON.parse(half.stdout);
    expect(report.arithmetic).toEqual({ dtype: 'float16', compute: 'float32', accumulate: 'float32' });
    expect(report.results.closedForm.softmax[8]).toBe(0.63232421875); // 0.63219858 as the nearest float16
    const text = (await runMain(['--dtype', 'bfloat16', '--accumulate', 'float64'])).stdout;
    expect(text).toContain('arithmetic: x and g rounded to bfloat16; operations in float32, sums in float64, results stored in bfloat16');
    expect((await runMain(['--accumulate', 'float8'])).stderr).toBe('error: --accumulate must be one of float64, float32, float16, bfloat16 (or fp32, bf16, half, …), got "float8"\n');
  });

  test("--compute float16 rounds every operation to float16: the methods land ulps away, PyTorch's values still pass", async () => {
    const fixture = join(ROOT, 'fixtures', 'pytorch', 'float16-32.json');
    expect((await runMain(['--input', fixture])).code).toBe(0);
    const strict = await runMain(['--input', fixture, '--compute', 'float16', '--format', 'json']);
    // Expected values are judged against the exact result, with the allowance of float16
    // operations; the methods, both in float16, agree within it.
    expect(strict.code).toBe(0);
    const report = JSON.parse(strict.stdout);
    expect(report.arithmetic).toEqual({ dtype: 'float16', compute: 'float16', accumulate: 'float32' });
    // PyTorch's values are the correctly rounded ones here; per-operation float16 is far from them.
    const ulps = (of: string) => report.reference.accuracy.find((a: { quantity: string; of: string }) => a.quantity === 'grad' && a.of === of).maxUlps.value;
    expect(ulps('expected')).toBe(0);
    expect(ulps('closedForm')).toBeGreaterThan(4);
    expect((await runMain(['--compute', 'float8'])).stderr).toBe('error: --compute must be one of float64, float32, float16, bfloat16 (or fp32, bf16, half, …), got "float8"\n');
  });
});

describe('output', () => {
  test('--format json is one document with the format version, results, differences and verdict', async () => {
    const { code, stdout } = await runMain(['--x', '[[0, 0], [0, Infinity]]', '--g', '[[1, 0], [1, 0]]', '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.format).toBe('softmax-verify.report/v2');
    expect(report.input).toMatchObject({ shape: [2, 2], dim: -1, dtype: 'float64', x: [[0, 0], [0, 'Infinity']] });
    expect(report.results.jacobian.softmax).toEqual([[0.5, 0.5], ['NaN', 'NaN']]);
    expect(report.results.closedForm.grad).toEqual([[0.25, -0.25], ['NaN', 'NaN']]);
    expect(report.differences.grad).toEqual([[0, 0], [0, 0]]);
    expect(report.tolerance).toEqual({ rtol: 1e-7, atol: 1e-7, origin: 'dtype' });
    expect(report.comparisons).toHaveLength(2);
    expect(report.comparisons[1]).toMatchObject({ quantity: 'grad', actual: 'jacobian', expected: 'closedForm', total: 4, mismatched: 0, passed: true });
    expect(report.notes).toEqual([
      { slice: '[1, :]', reason: 'positive-infinite-logit', message: expect.stringContaining('slice x[1, :] has a +Infinity logit') },
    ]);
    expect(report.verdict).toBe('PASS');
  });

  test('--format json carries the index of the greatest difference and a FAIL verdict', async () => {
    const stdin = JSON.stringify({ x: [[0, 0]], g: [[1, 0]], expected: { grad: [[0.25, -0.2]] } });
    const { code, stdout } = await runMain(['--input', '-', '--format', 'json'], { stdin });
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    const failing = report.comparisons.filter((c: { passed: boolean }) => !c.passed);
    expect(failing.map((c: { actual: string; expected: string }) => `${c.actual} vs ${c.expected}`)).toEqual(['expected vs exact']);
    expect(failing[0].greatestAbsoluteDifference.index).toEqual([0, 1]);
    expect(failing[0].worst.index).toEqual([0, 1]);
    expect(failing[0].failures).toEqual([
      {
        index: [0, 1],
        actual: -0.2,
        expected: -0.25,
        difference: 0.04999999999999999,
        allowed: expect.closeTo(1.5e-7, 14),
        terms: { atol: 1e-7, relative: 2.5e-8, cancellation: 2.5e-8, arithmetic: expect.any(Number) },
      },
    ]);
    expect(report.exact.grad).toEqual([[0.25, -0.25]]);
    expect(report.invariants.expected.flaggedSlices).toBe(1);
    expect(report.verdict).toBe('FAIL');
  });

  test('no colour when piped', () => {
    expect(runCli([]).stdout).not.toMatch(ANSI);
  });

  test('colour with FORCE_COLOR', () => {
    expect(runCli([], { env: { FORCE_COLOR: '1' } }).stdout).toMatch(ANSI);
  });

  test('no colour with --no-color, even with FORCE_COLOR', () => {
    expect(runCli(['--no-color'], { env: { FORCE_COLOR: '1' } }).stdout).not.toMatch(ANSI);
  });

  test('no colour with NO_COLOR', async () => {
    expect((await runMain([], { env: { NO_COLOR: '1' } })).stdout).not.toMatch(ANSI);
  });

  test('never colours JSON', () => {
    expect(runCli(['--format', 'json'], { env: { FORCE_COLOR: '3' } }).stdout).not.toMatch(ANSI);
  });

  test('a long input shows its head, its tail and every failing row; --rows all shows every row', async () => {
    const n = 60;
    const x = Array.from({ length: n }, (_, i) => i / 10);
    const g = Array.from({ length: n }, (_, i) => (i % 7) - 3);
    const stdin = JSON.stringify({ x, g });
    const short = (await runMain(['--input', '-', '--rows', '3'], { stdin })).stdout;
    const rows = short.split('\n').filter((line) => /^ *\[\d+\]/.test(line));
    expect(rows.map((line) => line.trim().split(' ')[0])).toEqual(['[0]', '[1]', '[2]', '[57]', '[58]', '[59]']);
    expect(short).toContain('⋮  54 rows not shown (--rows all shows every row)');

    const all = (await runMain(['--input', '-', '--rows', 'all'], { stdin })).stdout;
    expect(all.split('\n').filter((line) => /^ *\[\d+\]/.test(line))).toHaveLength(n);
  });

  test('a reader that closes the pipe early (| head -1) is no crash', () => {
    const x = Array.from({ length: 3000 }, (_, i) => i % 50).join(',');
    const result = spawnSync('sh', ['-c', `"${process.execPath}" bin/softmax-verify.js --rows all --x "$X" --g "$X" | head -1`], {
      cwd: ROOT,
      env: { ...process.env, X: x },
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('softmax-verify: command line\n');
    expect(result.stderr).toBe('');
  });

  test('skips an explicit Jacobian too large to run unasked, and lets the accurate closed form stand in', async () => {
    const n = 80_000;
    const stdin = JSON.stringify({ x: Array.from({ length: n }, (_, i) => (i % 97) / 10), g: Array.from({ length: n }, (_, i) => (i % 13) - 6) });
    const { code, stdout } = await runMain(['--input', '-', '--reference', 'off'], { stdin });
    expect(code).toBe(0);
    expect(stdout).toContain(
      'explicit Jacobian skipped: it would compute 6.4e9 entries (1 slice of 80000), about 1 s on one thread here, beyond the limit of 5.0e9; --allow-slow runs it; the accurate closed form stands in as the second witness',
    );
    expect(stdout).toMatch(/closed \(C\) +accurate \(A\) +A − C │/);
    expect(stdout).toContain('PASS: the closed form and the accurate closed form agree');
  });

  test('shares a large explicit Jacobian among worker threads, with the same bits as one thread', async () => {
    const { runJacobianMethod } = await import('../../src/ops/softmax/pipelines.js');
    const { sliceLayout } = await import('../../src/numeric/slices.js');
    const { runsInParallel } = await import('../../src/parallel/parallel-threshold.js');
    const { FLOAT64_ARITHMETIC } = await import('../../src/numeric/arithmetic.js');
    const n = 30_000; // 9e8 entries: above the threshold for worker threads
    expect(runsInParallel(n * n, FLOAT64_ARITHMETIC)).toBe(true);
    const x = Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 6);
    const g = Array.from({ length: n }, (_, i) => Math.cos(i * 1.3));
    const { code, stdout } = runCli(['--input', '-', '--format', 'json', '--reference', 'off'], { stdin: JSON.stringify({ x, g }) });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const one = runJacobianMethod(Float64Array.from(x), Float64Array.from(g), sliceLayout([n], 0));
    expect(report.results.jacobian.grad).toEqual(Array.from(one.grad));
  });

  test('--precision sets the significant digits of the values', async () => {
    const { stdout } = await runMain(['--precision', '3']);
    expect(stdout).toMatch(/^ *\[8\] +9 +19 │ +0\.632 +0\.632 +0\.632 /m);
  });
});

describe('--reference', () => {
  test('by default measures every method and the expected values in ulps against double-double', async () => {
    const { code, stdout } = await runMain(['--input', 'fixtures/pytorch/issue-195684.json']);
    expect(code).toBe(0);
    expect(stdout).toContain('ulps of float64 from the correctly rounded result (reference: double-double, about 32 significant digits)');
    expect(stdout).toMatch(/^grad {6}max 4\.4e18 at \[0\], 2 \/ 2 off +max 4\.4e18 at \[0\], 2 \/ 2 off +max 4\.4e18 at \[0\], 2 \/ 2 off$/m);
    expect(stdout).toContain('PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result');
  });

  test('JSON carries the reference values and the ulp figures', async () => {
    const { stdout } = await runMain(['--input', 'fixtures/pytorch/issue-195684.json', '--format', 'json']);
    const report = JSON.parse(stdout);
    expect(report.reference.engine).toBe('double-double');
    expect(report.reference.grad).toEqual([5.550825086253719e-17, -5.550825086253719e-17]);
    const expectedGrad = report.reference.accuracy.find((a: { quantity: string; of: string }) => a.quantity === 'grad' && a.of === 'expected');
    expect(expectedGrad).toEqual({ quantity: 'grad', of: 'expected', dtype: 'float64', total: 2, notCorrectlyRounded: 2, maxUlps: { value: 4363987568310279475, index: [0] } });
    expect(report.invariants.closedForm).toEqual({
      softmaxSum: { ulps: 0, bound: expect.any(Number), slice: '[:]' },
      gradSum: expect.objectContaining({ slice: '[:]' }),
      gradSumOfMagnitudes: expect.objectContaining({ slice: '[:]' }),
      flaggedSlices: 0,
    });
    expect(Object.keys(report.invariants)).toEqual(['jacobian', 'closedForm', 'expected']);
    expect(report.verdict).toBe('PASS');
  });

  test('bignumber gives the same figures and says so; off leaves them out', async () => {
    const big = await runMain(['--input', 'fixtures/pytorch/issue-195684.json', '--reference', 'bignumber']);
    expect(big.code).toBe(0);
    expect(big.stdout).toContain('(reference: mathjs BigNumber, 64 significant digits and more)');
    expect(big.stdout).toMatch(/^grad {6}max 4\.4e18 at \[0\]/m);
    const off = await runMain(['--reference', 'off']);
    expect(off.stdout).not.toContain('ulps of');
    expect(JSON.parse((await runMain(['--reference', 'off', '--format', 'json'])).stdout).reference).toBeNull();
  });

  test('--accurate adds the third method, which lands within 1 ulp where the others are 4.4e18 off', async () => {
    const { code, stdout } = await runMain(['--input', 'fixtures/pytorch/issue-195684.json', '--accurate']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Jacobian \(J\) +closed \(C\) +accurate \(A\) +expected +J − C │ +Jacobian \(J\) +closed \(C\) +accurate \(A\) +expected +J − C$/m);
    expect(stdout).toContain('grad      accurate closed form vs closed form   0 / 2 (0.0%)');
    expect(stdout).toMatch(/^grad {6}max 4\.4e18 at \[0\], 2 \/ 2 off +max 4\.4e18 at \[0\], 2 \/ 2 off +max 1 at \[0\], 2 \/ 2 off +max 4\.4e18/m);
    expect(stdout).toContain(
      'PASS: the explicit Jacobian, the closed form and the accurate closed form agree, and the expected values are within rounding of the exact result',
    );
    const report = JSON.parse((await runMain(['--input', 'fixtures/pytorch/issue-195684.json', '--accurate', '--format', 'json'])).stdout);
    expect(report.methods).toEqual(['jacobian', 'closedForm', 'accurate']);
    expect(report.results.accurate.grad[0]).toBeCloseTo(5.550825086253719e-17, 30);
  });

  test('--fd checks the gradient against central differences, in text and JSON', async () => {
    const { code, stdout } = await runMain(['--fd']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^grad, finite differences of ⟨g, softmax\(x\)⟩ vs closed form .*: mismatched 0 \/ 9; the greatest \|fd − closed form\| is /m);
    const report = JSON.parse((await runMain(['--fd', '--format', 'json'])).stdout);
    expect(report.finiteDifferences).toMatchObject({ total: 9, mismatched: 0, passed: true });
    expect(report.finiteDifferences.grad[8]).toBeCloseTo(0.36722258451439016, 7);
    expect(JSON.parse((await runMain(['--format', 'json'])).stdout).finiteDifferences).toBeNull();
  });

  test('refuses finite differences beyond 2e8 steps without --allow-slow', async () => {
    const stdin = JSON.stringify({ x: new Array(12_000).fill(0).map((_, i) => i % 5), g: new Array(12_000).fill(1) });
    const { code, stderr } = await runMain(['--input', '-', '--fd', '--reference', 'off'], { stdin });
    expect(stderr).toBe('error: finite differences are O(n²): 2.9e8 forward-pass steps here, about 3 s (the limit is 2.0e8): add --allow-slow to run them anyway\n');
    expect(code).toBe(2);
  });

  test('refuses BigNumber on more than 20,000 elements without --allow-slow', async () => {
    const stdin = JSON.stringify({ x: new Array(20_001).fill(0).map((_, i) => i % 7), g: new Array(20_001).fill(1) });
    const { code, stderr } = await runMain(['--input', '-', '--reference', 'bignumber'], { stdin });
    expect(stderr).toBe(
      'error: the BigNumber reference would take about 4 s for 20001 elements (the limit is 20000): add --allow-slow to run it anyway, or use --reference double-double\n',
    );
    expect(code).toBe(2);
  });
});

describe('bad input: one line on stderr, exit code 2, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-'));
  const notADirectory = join(dir, 'broken.json', 'input.json');
  const brokenJson = join(dir, 'broken.json');
  writeFileSync(brokenJson, '{"x": [1, 2],\n "g": [1, 2,]}');

  test.each<[string, string[], string | undefined, string]>([
    ['unparseable JSON in a flag', ['--x', '[1, a]', '--g', '1,2'], undefined, 'error: x is not valid JSON at column 5: expected a value, found "a"'],
    ['unparseable JSON in a file', ['--input', brokenJson], undefined, `error: ${brokenJson}: invalid JSON at line 2, column 13: expected a value, found "]"`],
    ['a non-number', ['--x', '[[1, 2, 3, 4], [5, 6, 7, "abc"]]', '--g', '[[1, 2, 3, 4], [5, 6, 7, 8]]'], undefined, 'error: x[1][3] is not a number: "abc"'],
    ['a non-number in a list', ['--x', '1,abc,3', '--g', '1,2,3'], undefined, 'error: x[1] is not a number: "abc"'],
    ['ragged rows', ['--x', '[[1, 2], [3]]', '--g', '[[1, 2], [3]]'], undefined, 'error: x[1] has 1 element, but x[0] has 2 (ragged array)'],
    ['a shape mismatch', ['--x', '1,2,3', '--g', '1,2'], undefined, 'error: g has shape [2], but x has shape [3]: they must match'],
    ['empty input', ['--x', '[]', '--g', '[]'], undefined, 'error: x is empty (shape [0])'],
    ['an empty stdin', ['--input', '-'], '', 'error: --input stdin is empty'],
    ['dim out of range', ['--x', '1,2', '--g', '1,2', '--dim', '1'], undefined, 'error: dim 1 is out of range for x of shape [2] (expected -1 to 0)'],
    ['an unknown dtype', ['--dtype', 'float8'], undefined, 'error: --dtype must be one of float64, float32, float16, bfloat16 (or fp32, bf16, half, …), got "float8"'],
    ['an unknown dtype in a file', ['--input', '-'], '{"x": [1], "g": [1], "dtype": "int8"}', 'error: stdin: dtype must be one of float64, float32, float16, bfloat16, got "int8"'],
    ['a missing file', ['--input', join(dir, 'missing.json')], undefined, `error: cannot read --input ${join(dir, 'missing.json')}: no such file`],
    ['a directory', ['--input', dir], undefined, `error: cannot read --input ${dir}: it is a directory`],
    ['a path through a file', ['--input', notADirectory], undefined, `error: cannot read --input ${notADirectory}: a part of the path is not a directory`],
    ['an unknown flag', ['--bogus'], undefined, "error: unknown option '--bogus'"],
    ['a misspelt flag', ['--dimm', '0'], undefined, "error: unknown option '--dimm' (Did you mean --dim?)"],
    ['expected gradients without g', ['--x', '1,2', '--expected-grad', '0,0'], undefined, 'error: expected grad values need g, the upstream gradient they were computed from: give it with --g (for example --g 1,0,0) or as the field "g" of an --input file'],
    ['a missing flag value', ['--x'], undefined, "error: option '--x <values>' argument missing"],
    ['an unknown format', ['--format', 'xml'], undefined, "error: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json."],
    ['rtol without atol', ['--rtol', '1e-3'], undefined, 'error: --rtol and --atol must be given together (float64 defaults: --rtol 1e-7 --atol 1e-7)'],
    ['a stray argument', ['1,2,3'], undefined, 'error: unknown command "1,2,3": the commands are check, record, hunt and bench; give values with --x and --g'],
    ['null for NaN', ['--x', '[1, null]', '--g', '1,2'], undefined, 'error: x[1] is null, not a number (write NaN as NaN or "nan")'],
    ['an unknown field', ['--input', '-'], '{"x": [1], "g": [1], "tolerence": {"rtol": 1, "atol": 1}}', 'error: stdin: unknown field "tolerence" (known fields: format, name, description, source, dtype, dim, x, g, expected, tolerance, arithmetic, op, target, reduction, label_smoothing, ignore_index, weight, mask, causal, scale, masked_rows)'],
    ['a bad precision', ['--precision', '40'], undefined, 'error: --precision must be a whole number from 1 to 17, got "40"'],
    ['an unknown reference engine', ['--reference', 'quad'], undefined, "error: option '--reference <engine>' argument 'quad' is invalid. Allowed choices are auto, double-double, bignumber, off."],
  ])('%s', async (_, args, stdin, message) => {
    const { code, stdout, stderr } = await runMain(args, { stdin });
    expect(stderr).toBe(`${message}\n`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  test('the built command too: unparseable JSON in a file', () => {
    const { code, stdout, stderr } = runCli(['--input', brokenJson]);
    expect(stderr).toBe(`error: ${brokenJson}: invalid JSON at line 2, column 13: expected a value, found "]"\n`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { fixtureToJson } from '../../src/output/fixture-json.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureText, pytorchFixtureNames } from '../helpers/fixtures.js';
import { noOpmathKernelCase } from '../helpers/kernel-designs.js';
import { runCli, runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

const good = folderWith({ 'seed.json': fixtureText('seed.json'), 'nested/masked.json': fixtureText('masked.json') });
const tampered = folderWith({
  'seed.json': fixtureText('seed.json'),
  'tampered.json': editedFixture('batch-4x7-dim-last.json', (doc) => {
    doc.name = 'tampered';
    doc.expected.grad[3][6] += 0.01;
  }),
});
const malformed = folderWith({
  'a-seed.json': fixtureText('seed.json'),
  'b-broken.json': '{"format": "softmax-verify.fixture/v1", "x": [1, 2,',
  'c-v2.json': editedFixture('seed.json', (doc) => (doc.format = 'softmax-verify.fixture/v2')),
  'd-shape.json': editedFixture('seed.json', (doc) => doc.expected.softmax.pop()),
  'e-no-source.json': editedFixture('seed.json', (doc) => delete doc.source),
  'f-tampered.json': editedFixture('seed.json', (doc) => (doc.expected.grad[0] = 1)),
  'g-single.json': fixtureText('single.json'),
});

describe('softmax-verify check', () => {
  test("passes the project's own fixtures, PyTorch's and mpmath's: exit 0", () => {
    const { code, stdout, stderr } = runCli(['check', 'fixtures/']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const n = readdirSync('fixtures', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).length;
    expect(n).toBeGreaterThanOrEqual(pytorchFixtureNames().length + 8);
    expect(stdout.split('\n').filter((line) => line.startsWith('PASS '))).toHaveLength(n);
    expect(stdout).toMatch(new RegExp(`\\n${n} fixtures: ${n} passed, 0 failed, 0 errored in \\d+\\.\\d\\d s\\n$`));
  });

  test('exits 1 on a tampered fixture, naming the failing comparisons', async () => {
    const { code, stdout } = await runMain(['check', tampered]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL {3}tampered +\[4, 7\] float64 +\S+tampered\.json$/m);
    expect(stdout).toContain(
      'grad, expected vs exact: mismatched 1 / 28 (3.6%); worst [3, 6]: expected 0.0183858, exact 0.00838582, |a − b| 0.01 is 9.87e4 times the 1.01e-7 allowed',
    );
    expect(stdout).toContain("expected: 1 / 4 slices sum beyond what rounding allows; worst, the gradient's |Σ dx| in [3, :]");
    expect(stdout).toMatch(/^PASS {3}seed /m);
  });

  test('exits 2 on malformed fixtures, naming path and field, and still runs the others', async () => {
    const { code, stdout } = await runMain(['check', malformed]);
    expect(code).toBe(2);
    const expectations: [string, string, string][] = [
      ['PASS ', 'a-seed.json', ''],
      ['ERROR', 'b-broken.json', 'invalid JSON at line 1, column 52: expected a value, found the end of the input'],
      ['ERROR', 'c-v2.json', 'format is "softmax-verify.fixture/v2", but this version reads "softmax-verify.fixture/v1"'],
      ['ERROR', 'd-shape.json', 'expected.softmax has shape [8], but x has shape [9]'],
      ['ERROR', 'e-no-source.json', 'source is missing: a softmax-verify.fixture/v1 fixture must have it'],
      ['FAIL ', 'f-tampered.json', 'grad, expected vs exact: mismatched 1 / 9'],
      ['PASS ', 'g-single.json', ''],
    ];
    const lines = stdout.split('\n');
    for (const [label, file, detail] of expectations) {
      const at = lines.findIndex((line) => line.startsWith(label) && line.endsWith(join(malformed, file)));
      expect(at, file).toBeGreaterThanOrEqual(0);
      if (detail !== '') expect(lines[at + 1].trim()).toContain(detail);
    }
    expect(stdout).toContain('7 fixtures: 2 passed, 1 failed, 4 errored');
  });

  test('--format junit --output writes JUnit XML that reads back with the right counts, the text still on the terminal', async () => {
    const out = join(folderWith({}), 'report.xml');
    const { code, stdout } = await runMain(['check', malformed, '--format', 'junit', '--output', out]);
    expect(code).toBe(2);
    expect(stdout).toContain('7 fixtures: 2 passed, 1 failed, 4 errored');
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(out, 'utf8')).testsuites.testsuite;
    expect([suite.tests, suite.failures, suite.errors]).toEqual(['7', '1', '4']);
    expect(suite.testcase).toHaveLength(7);
  });

  test('--format json alone writes only the JSON document to stdout', async () => {
    const { code, stdout } = await runMain(['check', good, '--format', 'json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.summary).toMatchObject({ total: 2, passed: 2, failed: 0, errored: 0 });
    expect(doc.fixtures.map((f: { name: string }) => f.name)).toEqual(['masked', 'seed']);
  });

  test('--format markdown writes a table', async () => {
    const { stdout } = await runMain(['check', tampered, '--format', 'markdown']);
    expect(stdout).toMatch(/^### softmax-verify check — 2 fixtures: 1 passed, 1 failed, 0 errored/);
    expect(stdout).toContain('| ❌ FAIL | tampered | [4, 7] | float64 |');
  });

  test('--output never overwrites a file unasked, and --force does', async () => {
    const dir = folderWith({ 'report.xml': 'keep me' });
    const out = join(dir, 'report.xml');
    const refused = await runMain(['check', good, '--format', 'junit', '--output', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`error: ${out} exists already: add --force to overwrite it\n`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect((await runMain(['check', good, '--format', 'junit', '--output', out, '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml/);
  });

  test('--bail stops at the first failure; --filter selects by name', async () => {
    const bail = await runMain(['check', malformed, '--bail']);
    expect(bail.code).toBe(2);
    expect(bail.stdout).toContain('2 fixtures: 1 passed, 0 failed, 1 errored');
    expect(bail.stdout).toContain('5 not run after --bail');
    const filtered = await runMain(['check', 'fixtures/pytorch', '--filter', 'batch']);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain('2 fixtures: 2 passed');
  });

  test('--rtol/--atol override every fixture tolerance', async () => {
    const { code, stdout } = await runMain(['check', tampered, '--rtol', '0', '--atol', '0.1']);
    expect(code).toBe(0);
    expect(stdout).toContain('2 fixtures: 2 passed');
  });

  test('--compute declares the arithmetic of every fixture, and the hint names it', async () => {
    // Rows of 256: with compute bfloat16 the explicit Jacobian runs in JavaScript, some 400 ns an
    // entry (2 rows of 2048 took seconds); these 8 fail the default arithmetic more clearly, at 22 elements.
    const kernel = noOpmathKernelCase(8, 256);
    const folder = folderWith({
      'no-opmath.json': fixtureToJson({ name: 'no-opmath', source: 'a kernel computing in bfloat16', dtype: kernel.dtype, dim: -1, x: kernel.x, g: kernel.g, expected: kernel.expected }),
    });
    const plain = await runMain(['check', folder]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('if, and only if, yours computes in bfloat16, --compute bfloat16 says so');
    expect((await runMain(['check', folder, '--compute', 'bfloat16'])).code).toBe(0);
    expect((await runMain(['check', folder, '--compute', 'float8'])).stderr).toBe('error: --compute must be one of float64, float32, float16, bfloat16 (or fp32, bf16, half, …), got "float8"\n');
  });

  test.each<[string, string[], string]>([
    ['a path that matches nothing', ['check', 'no/such/folder'], 'error: cannot read no/such/folder: no such file or folder'],
    ['a pattern that matches nothing', ['check', 'fixtures/*.nothing'], 'error: no fixture matches "fixtures/*.nothing"'],
    ['no path', ['check'], "error: missing required argument 'paths'"],
    ['an unknown format', ['check', 'fixtures', '--format', 'xml'], "error: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, junit, markdown, html."],
    ['a verifier option before the command', ['--rtol', '1', 'check', 'fixtures'], 'error: --rtol was given before "check": put check\'s options after its name'],
    ['a filter that selects nothing', ['check', 'fixtures', '--filter', 'zzz'], 'error: no fixture name contains "zzz" (--filter)'],
  ])('exits 2 on %s', async (_, args, message) => {
    const { code, stderr } = await runMain(args);
    expect(stderr).toBe(`${message}\n`);
    expect(code).toBe(2);
  });
});

describe('softmax-verify record', () => {
  test('record then check passes, and the recorded values are the ones the verifier computes, bit for bit', async () => {
    const out = join(folderWith({}), 'mine.json');
    const x = '[[1, 2, -Infinity], [0.1, -0.0, 3e-300]]';
    const g = '[[1, 0, 0], [0.5, 0.25, -1]]';
    const recorded = await runMain(['record', '--x', x, '--g', g, '--name', 'mine', '-o', out]);
    expect(recorded.stderr).toBe('');
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toMatch(new RegExp(`^wrote ${out}: fixture "mine", shape \\[2, 3\\], dim -1, float64; expected values from softmax-verify \\d`));

    const check = await runMain(['check', out]);
    expect(check.code).toBe(0);
    const report = JSON.parse((await runMain(['--x', x, '--g', g, '--format', 'json'])).stdout);
    const fixture = parseInputDocument(readFileSync(out, 'utf8'), { requireFixture: true });
    const flat = (nested: unknown[]): number[] => nested.flat(Infinity).map((v) => (typeof v === 'string' ? Number(v) : (v as number)));
    const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Object.is(v, b[i]));
    expect(sameBits(fixture.expected!.grad!, flat(report.results.closedForm.grad))).toBe(true);
    expect(sameBits(fixture.expected!.forward!, flat(report.results.closedForm.softmax))).toBe(true);
    expect(Object.is(fixture.x!.data[4], -0)).toBe(true);
  });

  test('record --input keeps a PyTorch dump exactly: same values, same source', async () => {
    const out = join(folderWith({}), 'masked.json');
    expect((await runMain(['record', '--input', 'fixtures/pytorch/masked.json', '-o', out])).code).toBe(0);
    const original = parseInputDocument(fixtureText('masked.json'));
    const copy = parseInputDocument(readFileSync(out, 'utf8'), { requireFixture: true });
    expect(copy.source).toBe(original.source);
    expect(copy.name).toBe('masked');
    for (const key of ['forward', 'grad'] as const) {
      expect(Array.from(copy.expected![key]!).every((v, i) => Object.is(v, original.expected![key]![i]))).toBe(true);
    }
    expect((await runMain(['check', out])).code).toBe(0);
  });

  test('record keeps the op: a log_softmax dump and computed log_softmax values both check as log_softmax', async () => {
    const dir = folderWith({});
    const kept = join(dir, 'kept.json');
    const recorded = await runMain(['record', '--input', 'fixtures/family/log-softmax-seed.json', '--name', 'kept', '-o', kept]);
    expect(recorded.stdout).toMatch(/^wrote .*kept\.json: fixture "kept" of log_softmax, shape \[9\]/);
    const original = parseInputDocument(readFileSync('fixtures/family/log-softmax-seed.json', 'utf8'));
    const copy = parseInputDocument(readFileSync(kept, 'utf8'), { requireFixture: true });
    expect(copy.op).toBe('log_softmax');
    expect(Array.from(copy.expected!.forward!)).toEqual(Array.from(original.expected!.forward!));
    const computed = join(dir, 'computed.json');
    expect((await runMain(['record', '--op', 'log_softmax', '--x', '1,2,3', '--g', '1,0,0', '-o', computed])).code).toBe(0);
    expect(JSON.parse(readFileSync(computed, 'utf8'))).toMatchObject({ op: 'log_softmax', expected: { log_softmax: expect.any(Array) } });
    expect(JSON.parse(readFileSync(computed, 'utf8')).source).toContain('closed form dx = g − exp(y)·Σg');
    const checked = await runMain(['check', kept, computed]);
    expect([checked.code, checked.stdout]).toEqual([0, expect.stringContaining('2 passed, 0 failed, 0 errored')]);
  });

  test('record --input - normalises a kernel dump, with --source and the name given', async () => {
    const out = join(folderWith({}), 'dump.json');
    const stdin = JSON.stringify({ x: [1, 2], g: [1, 0], expected: { grad: [0.19661193324148185, -0.19661193324148182] } });
    const { code } = await runMain(['record', '--input', '-', '--name', 'dump', '--source', 'my CUDA kernel', '-o', out], { stdin });
    expect(code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(JSON.parse(text)).toEqual({
      format: 'softmax-verify.fixture/v1',
      name: 'dump',
      source: 'my CUDA kernel',
      dtype: 'float64',
      dim: -1,
      x: [1, 2],
      g: [1, 0],
      expected: { grad: [0.19661193324148185, -0.19661193324148182] },
    });
    expect((await runMain(['check', out])).code).toBe(0);
  });

  test('leaves an existing file untouched without --force, and replaces it with --force', async () => {
    const dir = folderWith({ 'fixture.json': 'precious' });
    const out = join(dir, 'fixture.json');
    const refused = await runMain(['record', '--x', '1,2', '--g', '1,0', '--name', 'n', '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`error: ${out} exists already: add --force to overwrite it\n`);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect((await runMain(['record', '--x', '1,2', '--g', '1,0', '--name', 'n', '-o', out, '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('"format": "softmax-verify.fixture/v1"');
  });

  test.each<[string, string[], string]>([
    ['no input', ['record', '-o', 'x.json'], 'error: record needs an input: --x and --g, or --input FILE'],
    ['no output', ['record', '--x', '1', '--g', '1'], "error: required option '-o, --output <file>' not specified"],
  ])('exits 2 on %s', async (_, args, message) => {
    const { code, stderr } = await runMain(args);
    expect(stderr).toBe(`${message}\n`);
    expect(code).toBe(2);
  });

  test('names the fixture after the output file when neither --name nor the input does', async () => {
    const out = join(folderWith({}), 'case-17.json');
    expect((await runMain(['record', '--x', '1,2', '--g', '1,0', '-o', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).name).toBe('case-17');
  });

  test('a dump without a source is refused', async () => {
    const dir = folderWith({ 'dump.json': JSON.stringify({ x: [1, 2], g: [1, 0], expected: { grad: [0.2, -0.2] } }) });
    const { code, stderr } = await runMain(['record', '--input', join(dir, 'dump.json'), '-o', join(dir, 'out.json')]);
    expect(code).toBe(2);
    expect(stderr).toBe(`error: ${join(dir, 'dump.json')}: source is missing: say who produced the expected values, with --source (or in the input: a JSON "source" field, a safetensors __metadata__ "source")\n`);
    writeFileSync(join(dir, 'unused'), '');
  });
});

describe('relative paths', () => {
  test("are the working directory's, and named as given: record's input and output, check's folders, patterns and reports", async () => {
    const cwd = folderWith({ 'in/seed.json': fixtureText('seed.json') });
    const recorded = await runMain(['record', '--input', 'in/seed.json', '--name', 'copy', '-o', 'copy.json'], { cwd });
    expect(recorded.stderr).toBe('');
    expect(recorded.stdout).toMatch(/^wrote copy\.json: fixture "copy", shape \[9\]/);
    expect(JSON.parse(readFileSync(join(cwd, 'copy.json'), 'utf8')).name).toBe('copy');
    const checked = await runMain(['check', 'in', '*.json', '--json', 'report.json'], { cwd });
    expect(checked.code).toBe(0);
    const fixtureLines = checked.stdout.split('\n').filter((line) => line.startsWith('PASS '));
    expect(fixtureLines.map((line) => line.split(/ +/).at(-1))).toEqual(['copy.json', join('in', 'seed.json')]);
    expect(JSON.parse(readFileSync(join(cwd, 'report.json'), 'utf8')).summary).toMatchObject({ total: 2, passed: 2 });
    expect(readdirSync(cwd).sort()).toEqual(['copy.json', 'in', 'report.json']);
  });
});

describe('check output', () => {
  test('lines up its columns however long the fixture names are', async () => {
    const long = 'a-fixture-named-at-length-as-generators-name-them';
    const dir = folderWith({
      'seed.json': fixtureText('seed.json'),
      [`${long}.json`]: editedFixture('masked.json', (doc) => (doc.name = long)),
    });
    const { code, stdout } = await runMain(['check', dir]);
    expect(code).toBe(0);
    const lines = stdout.split('\n').filter((line) => line.startsWith('PASS'));
    expect(lines).toHaveLength(2);
    // The shape column starts at the same place on both lines, past the long name.
    const shapeAt = lines.map((line) => line.indexOf('['));
    expect(shapeAt[0]).toBe(shapeAt[1]);
    expect(shapeAt[0]).toBeGreaterThan(long.length + 7);
  });
});

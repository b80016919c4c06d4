import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { systemCalls } from '../../src/io/system-calls.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureText } from '../helpers/fixtures.js';
import { runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

/** `check …` in process, with stdout and stderr captured and the environment given. */
const check = (args: readonly string[], env: Record<string, string> = {}) => runMain(['check', ...args], { env });

const lines = (text: string): string[] => text.split('\n');
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;
const reportNames = (json: string): string[] => JSON.parse(json).fixtures.map((f: { name: string }) => f.name);

/** One fixture that passes, one whose expected gradient is off at one element, one cut short. */
const mixed = folderWith({
  'a-pass.json': fixtureText('seed.json'),
  'b-fail.json': editedFixture('batch-4x7-dim-last.json', (doc) => {
    doc.name = 'tampered';
    doc.expected.grad[3][6] += 0.01;
  }),
  'c-broken.json': '{"format"',
});
const SMALL = ['all-masked-row', 'issue-195684', 'large-logits', 'masked', 'near-one-hot', 'seed', 'single'];
const small = folderWith(Object.fromEntries(SMALL.map((name) => [`${name}.json`, fixtureText(`${name}.json`)])));

describe('several reports in one run', () => {
  test('--junit, --markdown and --json together: all written, all agreeing, the terminal summary still printed', async () => {
    const dir = folderWith({});
    const [xml, md, json] = ['a.xml', 'b.md', 'c.json'].map((f) => join(dir, f));
    const { code, stdout, stderr } = await check([mixed, '--junit', xml, '--markdown', md, '--json', json]);
    expect(stderr).toBe('');
    expect(code).toBe(2);
    const summary = lastLine(stdout);
    expect(summary).toMatch(/^3 fixtures: 1 passed, 1 failed, 1 errored in \d+\.\d\d s$/);
    expect(lines(stdout).filter((line) => /^(PASS|FAIL|ERROR)/.test(line))).toHaveLength(3);

    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(xml, 'utf8')).testsuites.testsuite;
    expect([suite.name, suite.tests, suite.failures, suite.errors]).toEqual(['softmax-verify check', '3', '1', '1']);
    expect(suite.testcase.map((c: { file: string }) => c.file)).toEqual(['a-pass.json', 'b-fail.json', 'c-broken.json'].map((f) => join(mixed, f)));

    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.summary).toMatchObject({ total: 3, passed: 1, failed: 1, errored: 1, notRun: 0 });
    expect(doc.summary).not.toHaveProperty('shard');
    expect(doc.fixtures.map((f: { status: string }) => f.status)).toEqual(['pass', 'fail', 'error']);

    // The same run: the heading is the terminal's summary line, to the hundredth of a second.
    const markdown = readFileSync(md, 'utf8');
    expect(lines(markdown)[0]).toBe(`### softmax-verify check — ${summary}`);
    expect(lines(markdown).filter((line) => line.startsWith('| ') && !line.startsWith('| result') && !line.startsWith('| ---')).map((l) => l.split(' | ')[0])).toEqual([
      '| ⚠️ ERROR',
      '| ❌ FAIL',
      '| ✅ PASS',
    ]);
  });

  test('--format/--output still work, beside the new flags', async () => {
    const dir = folderWith({});
    const [out, json] = ['out.xml', 'r.json'].map((f) => join(dir, f));
    const { code } = await check([small, '--format', 'junit', '--output', out, '--json', json]);
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="softmax-verify" tests="7" failures="0" errors="0"/);
    expect(reportNames(readFileSync(json, 'utf8'))).toEqual(SMALL);
  });

  test('an existing report file is refused before any fixture runs, and left as it was; --force replaces it', async () => {
    const dir = folderWith({});
    const [xml, md, json] = ['a.xml', 'b.md', 'c.json'].map((f) => join(dir, f));
    writeFileSync(md, 'keep me');
    const refused = await check([small, '--junit', xml, '--markdown', md, '--json', json]);
    expect(refused).toEqual({ code: 2, stdout: '', stderr: `error: ${md} exists already: add --force to overwrite it\n` });
    expect(readFileSync(md, 'utf8')).toBe('keep me');
    expect([existsSync(xml), existsSync(json)]).toEqual([false, false]);

    const forced = await check([small, '--junit', xml, '--markdown', md, '--json', json, '--force']);
    expect(forced.code).toBe(0);
    expect(lines(readFileSync(md, 'utf8'))[0]).toMatch(/^### softmax-verify check — 7 fixtures: 7 passed, 0 failed, 0 errored in /);
    expect(reportNames(readFileSync(json, 'utf8'))).toEqual(SMALL);
    expect(existsSync(xml)).toBe(true);
  });

  test.each<[string, (dir: string) => string[], (dir: string) => string]>([
    ['--output and --json', (d) => ['--format', 'junit', '--output', join(d, 'r.json'), '--json', join(d, 'r.json')], (d) => `--output and --json both name ${join(d, 'r.json')}`],
    ['--junit and --markdown', (d) => ['--junit', join(d, 'a'), '--markdown', join(d, 'a')], (d) => `--junit and --markdown both name ${join(d, 'a')}`],
    ['one file spelt two ways', (d) => ['--markdown', join(d, 'r.md'), '--json', `${d}/./r.md`], (d) => `--markdown and --json both name ${d}/./r.md`],
  ])('two reports naming one file are refused: %s', async (_, args, message) => {
    const dir = folderWith({});
    const { code, stdout, stderr } = await check([small, ...args(dir)]);
    expect(stderr).toBe(`error: ${message(dir)}: give each report its own file\n`);
    expect([code, stdout]).toEqual([2, '']);
  });

  test('a report over a fixture being checked is refused, even with --force', async () => {
    const folder = folderWith({ 'seed.json': fixtureText('seed.json') });
    const target = join(folder, 'seed.json');
    const { code, stderr } = await check([folder, '--json', target, '--force']);
    expect(stderr).toBe(`error: --json names ${target}, one of the fixtures being checked: write the report elsewhere\n`);
    expect(code).toBe(2);
    expect(readFileSync(target, 'utf8')).toBe(fixtureText('seed.json'));
  });
});

describe('--shard', () => {
  test('1/2 and 2/2 together check every fixture exactly once, in contiguous halves of the sorted list', async () => {
    const whole = await check([small, '--format', 'json']);
    const first = await check([small, '--format', 'json', '--shard', '1/2']);
    const second = await check([small, '--format', 'json', '--shard', '2/2']);
    expect([whole.code, first.code, second.code]).toEqual([0, 0, 0]);
    expect(reportNames(whole.stdout)).toEqual(SMALL);
    expect(reportNames(first.stdout)).toEqual(SMALL.slice(0, 3));
    expect(reportNames(second.stdout)).toEqual(SMALL.slice(3));
    expect(JSON.parse(second.stdout).summary.shard).toEqual({ index: 2, count: 2, start: 3, end: 7, total: 7 });
  });

  test('the terminal summary and the reports say which shard ran', async () => {
    const dir = folderWith({});
    const xml = join(dir, 'r.xml');
    const { code, stdout } = await check([small, '--shard', '2/3', '--junit', xml]);
    expect(code).toBe(0);
    expect(lines(stdout).filter((line) => line.startsWith('PASS ')).map((line) => line.split(/\s+/)[1])).toEqual(['large-logits', 'masked']);
    expect(lastLine(stdout)).toMatch(/^2 fixtures: 2 passed, 0 failed, 0 errored in \d+\.\d\d s; shard 2\/3: fixtures 3–4 of 7$/);
    expect(readFileSync(xml, 'utf8')).toContain('<testsuite name="softmax-verify check, shard 2/3" tests="2" failures="0" errors="0"');
  });

  test('an empty shard (more shards than fixtures) passes, and says so', async () => {
    const dir = folderWith({});
    const md = join(dir, 'r.md');
    const { code, stdout, stderr } = await check([small, '--shard', '1/8', '--markdown', md]);
    expect([code, stdout, stderr]).toEqual([0, '\nshard 1/8 has no fixtures (of 7: more shards than fixtures), nothing to check\n', '']);
    expect(lines(readFileSync(md, 'utf8'))[0]).toBe('### softmax-verify check — shard 1/8 has no fixtures (of 7: more shards than fixtures), nothing to check');
  });

  test('refuses --filter with --shard: a misspelt filter would turn every job of a matrix green', async () => {
    expect(await check([small, '--shard', '1/2', '--filter', 'near'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'error: --filter and --shard do not go together: names are known only once every file is read, so no shard could tell a misspelt filter from one that matches elsewhere\n',
    });
    const unsharded = await check([small, '--filter', 'nowhere']);
    expect([unsharded.code, unsharded.stderr]).toEqual([2, 'error: no fixture name contains "nowhere" (--filter)\n']);
  });

  test.each(['0/3', '4/3', '1/0', 'a/b', '2', '1/2/3', '1.5/2'])('refuses %j with exit 2 and one line, before any fixture runs', async (value) => {
    expect(await check([small, '--shard', value])).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: --shard must be K/N, whole numbers with 1 ≤ K ≤ N (such as 2/3), got ${JSON.stringify(value)}\n`,
    });
  });
});

describe('under GitHub Actions', () => {
  const failing = join(mixed, 'b-fail.json');
  const broken = join(mixed, 'c-broken.json');
  const FAIL_ANNOTATION =
    `::error file=${failing},title=softmax-verify%3A tampered failed::grad, expected vs exact: mismatched 1 / 28 (3.6%25); ` +
    'worst [3, 6]: expected 0.0183858, exact 0.00838582, |a − b| 0.01 is 9.87e4 times the 1.01e-7 allowed ' +
    '(atol 1e-7 + rtol·|b| 8.39e-10 + rtol·s_i Σ s_j|g_j| 5.19e-10 + arithmetic 6.94e-17)' +
    '; likely: 1 element off (gradient[3, 6]), the rest within rounding: a race, or a stale or unwritten element: explains 1 of 1 failing element [isolated-elements] (+1 more in the report)';
  // The data keeps its ':' and quotes: only %, CR and LF end or garble a message.
  const ERROR_ANNOTATION =
    `::error file=${broken},title=softmax-verify%3A c-broken could not be checked::` +
    "invalid JSON at line 1, column 10: expected ':' after a key, found the end of the input";

  test('an ::error line for each failing or unreadable fixture, and the Markdown report appended to the step summary', async () => {
    const dir = folderWith({});
    const stepSummary = join(dir, 'step-summary.md');
    const md = join(dir, 'report.md');
    writeFileSync(stepSummary, 'an earlier step wrote this\n');
    const { code, stdout, stderr } = await check([mixed, '--markdown', md], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary });
    expect(code).toBe(2);
    expect(stderr).toBe('');
    const annotations = lines(stdout).filter((line) => line.startsWith('::'));
    expect(annotations).toEqual([FAIL_ANNOTATION, ERROR_ANNOTATION]);
    // Each right after its fixture's lines in the log.
    expect(lines(stdout).indexOf(annotations[0])).toBe(lines(stdout).findIndex((line) => line.startsWith('FAIL ')) + 4);
    expect(readFileSync(stepSummary, 'utf8')).toBe(`an earlier step wrote this\n\n${readFileSync(md, 'utf8')}`);
  });

  test('with the report on stdout, the annotations go to stderr (the runner reads both) and the report stays clean', async () => {
    const { code, stdout, stderr } = await check([mixed, '--format', 'json'], { GITHUB_ACTIONS: 'true' });
    expect(code).toBe(2);
    expect(JSON.parse(stdout).summary).toMatchObject({ total: 3, passed: 1, failed: 1, errored: 1 });
    expect(stderr).toBe(`${FAIL_ANNOTATION}\n${ERROR_ANNOTATION}\n`);
  });

  test('--format markdown on stdout (redirected into the step summary by hand) is not appended a second time', async () => {
    const dir = folderWith({});
    const stepSummary = join(dir, 'step-summary.md');
    writeFileSync(stepSummary, 'an earlier step wrote this\n');
    const { code, stdout } = await check([small, '--format', 'markdown'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary });
    expect(code).toBe(0);
    expect(lines(stdout)[0]).toMatch(/^### softmax-verify check — 7 fixtures: 7 passed/);
    expect(readFileSync(stepSummary, 'utf8')).toBe('an earlier step wrote this\n');
  });

  test('no ::error lines without GITHUB_ACTIONS=true, and no step summary without GITHUB_STEP_SUMMARY', async () => {
    const plain = await check([mixed]);
    const other = await check([mixed], { GITHUB_ACTIONS: 'false' });
    for (const run of [plain, other]) {
      expect(run.code).toBe(2);
      expect(lines(run.stdout).filter((line) => line.startsWith('::'))).toEqual([]);
      expect(run.stderr).toBe('');
    }
  });

  test('a step summary that cannot be appended to is a warning, and the exit code stays the verdict', async () => {
    const folder = folderWith({});
    const passing = await check([small], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: folder });
    expect(passing.code).toBe(0);
    expect(passing.stderr).toBe(`warning: cannot append the report to $GITHUB_STEP_SUMMARY (${folder}): it is a folder; the exit code is the verdict's all the same\n`);
    const failing = await check([mixed], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(folder, 'no', 'such', 'file') });
    expect(failing.code).toBe(2);
    expect(failing.stderr).toMatch(/^warning: cannot append the report to \$GITHUB_STEP_SUMMARY \(.*\): its folder does not exist; /);
  });

  test('a step summary whose disk fills midway is cut back to what it held, with the warning', async () => {
    const stepSummary = join(folderWith({}), 'summary.md');
    writeFileSync(stepSummary, 'an earlier step wrote this\n');
    const realWriteSync = systemCalls.writeSync;
    // Half of the first write lands, then the disk is full.
    let calls = 0;
    systemCalls.writeSync = ((fd: number, buffer: Uint8Array, offset: number, length: number) => {
      if (calls++ > 0) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      return realWriteSync(fd, buffer, offset, Math.ceil(length / 2));
    }) as typeof systemCalls.writeSync;
    try {
      const run = await check([small], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary });
      expect(run.code).toBe(0);
      expect(run.stderr).toBe(`warning: cannot append the report to $GITHUB_STEP_SUMMARY (${stepSummary}): no space left on the device; the exit code is the verdict's all the same\n`);
    } finally {
      systemCalls.writeSync = realWriteSync;
    }
    expect(calls).toBe(2);
    expect(readFileSync(stepSummary, 'utf8')).toBe('an earlier step wrote this\n');
  });

  test('under a shard, the step summary says which shard ran', async () => {
    const dir = folderWith({});
    const stepSummary = join(dir, 'step-summary.md');
    const { code } = await check([small, '--shard', '3/3'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary });
    expect(code).toBe(0);
    expect(lines(readFileSync(stepSummary, 'utf8'))[1]).toMatch(/^### softmax-verify check — 3 fixtures: 3 passed, 0 failed, 0 errored in \d+\.\d\d s; shard 3\/3: fixtures 5–7 of 7$/);
  });
});


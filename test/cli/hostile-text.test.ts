import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, test } from 'vitest';
import { printable } from '../../src/printable.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { runMain, type CliRun } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

/**
 * Text a pull request can put in a fixture or a dump (file names, names, sources, descriptions),
 * through every output: under GitHub Actions no line may be a workflow command but the tool's own
 * annotations, an error stays one line, the reports stay well-formed and inert.
 */
const HOSTILE = {
  lf: 'lf\n::add-mask::SECRET',
  cr: 'cr\r::stop-commands::tok',
  crlf: 'crlf\r\n  ::set-output name=verdict::pass',
  percent: 'pct%0A::add-mask::SECRET%0D',
  legacy: 'legacy ##[add-mask]SECRET',
  legacyError: '##[error]forged',
  comment: 'evil\r\r<!--',
  img: '<img src=x onerror=alert(1)>',
  link: '[link](http://evil.example)',
  image: '![img](http://evil.example/x.png)',
  bare: 'www.evil.example me@evil.example `tick`',
  ansi: '\u001b[2K\u001b[32mPASS\u001b[0m',
  separator: 'ls\u2028::add-mask::SECRET',
  bidi: 'bidi\u202eSSAP\u2066',
} as const;
const VALUES = Object.values(HOSTILE);
/** The ones a file name can hold (no `/`). */
const FILE_NAMES = VALUES.filter((text) => !text.includes('/'));

const GITHUB = { GITHUB_ACTIONS: 'true' };

/** The lines GitHub's runner reads: split at LF, CR and CR LF (StreamReader.ReadLine). */
const runnerLines = (text: string): string[] => text.split(/\r\n|\r|\n/);
/** .NET's TrimStart(): Char.IsWhiteSpace, which TryParseV2 strips before it looks for `::`. */
const NET_TRIM = /^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;
/**
 * The tool's own annotation: `::error` with its properties escaped (no raw `:` or `,` in them). A
 * `##[` inside one is text: the runner tries the legacy form only when the `::` form fails to parse.
 */
const OWN_ANNOTATION = /^::error file=[^:,]*,title=softmax-verify%3A [^:,]* (failed|could not be checked)::/;

/** Lines the runner would take for a workflow command, the tool's own annotations left out when allowed. */
function workflowCommands(text: string, annotations: 'allowed' | 'none' = 'none'): string[] {
  return runnerLines(text).filter((line) => {
    const command = line.replace(NET_TRIM, '').startsWith('::') || line.includes('##[');
    return command && !(annotations === 'allowed' && OWN_ANNOTATION.test(line));
  });
}

/** Text as the terminal shows it under GitHub Actions: printable, and `##[` broken by the guard. */
const shown = (text: string): string => printable(text).replaceAll('##[', '##\\u005b');

/** Markdown in which nothing from the input is live. */
function expectInertMarkdown(markdown: string): void {
  expect(markdown).not.toContain('\r');
  expect(workflowCommands(markdown)).toEqual([]);
  // `<br>` joins detail lines on purpose; no other `<` is left.
  expect(markdown.replaceAll('<br>', '')).not.toContain('<');
  for (const live of [/(?<!\\)\]\(/, /(?<!\\)!\[/, /(?<!\\):\/\//, /www\./i, /(?<!\\)`tick/]) expect(markdown).not.toMatch(live);
  // An address's `@` sits in a code span of its own, which no autolink or mention reaches.
  expect(markdown.replaceAll('`@`', '')).not.toContain('@');
}

/** x = [1, 2], g = [1, 0] and softmax's exact gradient there: a dump that passes. */
const s0 = 1 / (1 + Math.E);
const GOOD = { x: [1, 2], g: [1, 0], grad: [s0 * (1 - s0), -s0 * (1 - s0)] };

/** A safetensors file as the format is published: u64 header size, JSON header with __metadata__, F64 data. */
function safetensors(metadata: Record<string, string>, tensors: Record<string, number[]>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const data: Buffer[] = [];
  let offset = 0;
  for (const [name, values] of Object.entries(tensors)) {
    const bytes = Buffer.from(Float64Array.from(values).buffer);
    header[name] = { dtype: 'F64', shape: [values.length], data_offsets: [offset, offset + bytes.length] };
    data.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, ...data]);
}

/** The seed fixture with one expected gradient element off: it fails, named `name`. */
const failing = (name: string, at: number): string =>
  editedFixture('seed.json', (doc) => {
    doc.name = name;
    doc.expected.grad[at % 9] += 0.01;
  });

// A folder of fixtures: unreadable ones whose file names are hostile (their name is the file's),
// failing ones whose name fields are, the `evil\r\r<!--` one sorted first among the failures, and
// one naming a missing .npy whose name holds line breaks.
const suite = folderWith({
  ...Object.fromEntries(FILE_NAMES.map((name) => [`${name}.json`, '{"format"'])),
  ...Object.fromEntries(VALUES.map((name, i) => [`fail-${name === HOSTILE.comment ? '0' : String(i + 1).padStart(2, '0')}.json`, failing(name, i)])),
  'npy.json': editedFixture('seed.json', (doc) => {
    doc.x = 'x\n::add-mask::SECRET\n.npy';
  }),
});
const ERRORS = FILE_NAMES.length + 1;
const FAILURES = VALUES.length;

describe('check, under GitHub Actions, on a folder of hostile fixtures', () => {
  const out = folderWith({});
  const files = { junit: join(out, 'r.xml'), markdown: join(out, 'r.md'), json: join(out, 'r.json'), summary: join(out, 'summary.md') };
  let run: CliRun;
  beforeAll(async () => {
    writeFileSync(files.summary, '');
    run = await runMain(['check', suite, '--junit', files.junit, '--markdown', files.markdown, '--json', files.json], {
      env: { ...GITHUB, GITHUB_STEP_SUMMARY: files.summary },
    });
  });

  test('the text: no workflow command but the annotations, a line per fixture and its reasons', () => {
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('');
    expect(workflowCommands(run.stdout, 'allowed')).toEqual([]);
    const lines = runnerLines(run.stdout);
    expect(lines.filter((line) => OWN_ANNOTATION.test(line))).toHaveLength(ERRORS + FAILURES);
    expect(lines.filter((line) => /^(PASS|FAIL|ERROR) /.test(line))).toHaveLength(ERRORS + FAILURES);
    for (const name of VALUES) expect(run.stdout).toContain(`FAIL   ${shown(name)}`);
    for (const name of FILE_NAMES) expect(run.stdout).toContain(`ERROR  ${shown(name)}`);
    expect(run.stdout).toContain(`x: cannot read ${printable('x\n::add-mask::SECRET\n.npy')}: no such file\n`);
    expect(lines.at(-2)).toMatch(new RegExp(`^${ERRORS + FAILURES} fixtures: 0 passed, ${FAILURES} failed, ${ERRORS} errored in `));
  });

  test('the annotations: escaped, and titled with the printable name', () => {
    const annotations = runnerLines(run.stdout).filter((line) => line.startsWith('::'));
    expect(annotations.every((line) => OWN_ANNOTATION.test(line))).toBe(true);
    expect(annotations).toContainEqual(expect.stringContaining('title=softmax-verify%3A evil\\u000d\\u000d<!-- failed::'));
    // `%` is escaped, so the runner's unescaping cannot make a line break of the fixture's `%0A`.
    expect(annotations).toContainEqual(expect.stringContaining('title=softmax-verify%3A pct%250A%3A%3Aadd-mask%3A%3ASECRET%250D failed::'));
  });

  test('the step summary and --markdown: inert, no CR, every failing row shown after `evil\\r\\r<!--`', () => {
    const summary = readFileSync(files.summary, 'utf8');
    for (const markdown of [summary, readFileSync(files.markdown, 'utf8')]) {
      expectInertMarkdown(markdown);
      const rows = markdown.split('\n').filter((line) => line.startsWith('| ❌ FAIL') || line.startsWith('| ⚠️ ERROR'));
      expect(rows).toHaveLength(ERRORS + FAILURES);
      // Errors first, then failures: the one named `evil\r\r<!--` (fail-0.json) heads them.
      const evil = rows.findIndex((row) => row.startsWith('| ❌ FAIL | evil\\\\u000d\\\\u000d&lt;!-- |'));
      expect(evil).toBe(ERRORS);
      expect(rows.slice(evil + 1).filter((row) => row.startsWith('| ❌ FAIL'))).toHaveLength(FAILURES - 1);
    }
  });

  test('--junit: parses as XML, each name printable', () => {
    const xml = readFileSync(files.junit, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const cases = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites.testsuite.testcase;
    const names = cases.map((c: { name: string }) => c.name);
    for (const name of VALUES) expect(names).toContain(`${printable(name)} [9] float64`);
    for (const name of FILE_NAMES) expect(names).toContain(printable(name));
    expect(xml).not.toContain('\r');
  });

  test('--json: the names as the files hold them (JSON escapes what it must)', () => {
    const names = JSON.parse(readFileSync(files.json, 'utf8')).fixtures.map((f: { name: string }) => f.name);
    for (const name of [...VALUES, ...FILE_NAMES]) expect(names).toContain(name);
  });
});

describe('check, reports on stdout under GitHub Actions', () => {
  test.each(['junit', 'markdown', 'json'])('--format %s: no workflow command on stdout; only the annotations on stderr', async (format) => {
    const run = await runMain(['check', suite, '--format', format], { env: GITHUB });
    expect(run.code).toBe(2);
    expect(workflowCommands(run.stdout)).toEqual([]);
    const annotations = run.stderr.trimEnd().split('\n');
    expect(annotations).toHaveLength(ERRORS + FAILURES);
    expect(annotations.every((line) => OWN_ANNOTATION.test(line))).toBe(true);
    if (format === 'junit') expect(XMLValidator.validate(run.stdout)).toBe(true);
    if (format === 'markdown') expectInertMarkdown(run.stdout);
    if (format === 'json') expect(JSON.parse(run.stdout).fixtures.map((f: { name: string }) => f.name)).toContain(HOSTILE.lf);
  });

  test('outside GitHub Actions the text is safe from its source: no line starts with `::`, none is split', async () => {
    const run = await runMain(['check', suite]);
    expect(runnerLines(run.stdout).filter((line) => line.replace(NET_TRIM, '').startsWith('::'))).toEqual([]);
    expect(runnerLines(run.stdout).filter((line) => /^(PASS|FAIL|ERROR) /.test(line))).toHaveLength(ERRORS + FAILURES);
    expect(run.stdout).toContain(printable(HOSTILE.legacy));
  });
});

describe('the verifier and record, under GitHub Actions', () => {
  const source = `${HOSTILE.lf} ${HOSTILE.cr} ${HOSTILE.legacy} ${HOSTILE.bidi}`;
  const dumps = folderWith({
    'dump.json': JSON.stringify({ x: GOOD.x, g: GOOD.g, expected: { grad: GOOD.grad }, source, description: HOSTILE.crlf }),
    'npy-doc.json': JSON.stringify({ x: 'x\n::add-mask::SECRET\n.npy', g: GOOD.g }),
  });
  writeFileSync(join(dumps, 'dump.safetensors'), safetensors({ source }, { x: GOOD.x, g: GOOD.g, grad: GOOD.grad }));
  writeFileSync(join(dumps, 'dim.safetensors'), safetensors({ dim: '0\n::add-mask::SECRET' }, { x: GOOD.x, g: GOOD.g }));

  test.each(['dump.json', 'dump.safetensors'])('--input %s: the source on its one header line, nothing a command', async (file) => {
    const run = await runMain(['--input', join(dumps, file), '--summary'], { env: GITHUB });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(workflowCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(`\nexpected: ${shown(source)}\n`);
    if (file === 'dump.json') expect(run.stdout).toContain(`\nabout: ${printable(HOSTILE.crlf)}\n`);
  });

  test.each([
    ['--x naming a missing .npy with line breaks', ['--x', 'x\n::add-mask::SECRET\n.npy', '--g', '1,2']],
    ['a document naming one', ['--input', join(dumps, 'npy-doc.json')]],
    ['a safetensors "dim" with one', ['--input', join(dumps, 'dim.safetensors')]],
    ['an unknown command with one', ['x\n::add-mask::SECRET']],
    ['an option value with one', ['--rows', 'x\r::add-mask::SECRET']],
  ])('%s: the error is one line, exit 2', async (_, args) => {
    const run = await runMain(args, { env: GITHUB });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(runnerLines(run.stderr)).toHaveLength(2);
    expect(run.stderr).toMatch(/^error: [^\r\n]*add-mask[^\r\n]*\n$/);
    expect(workflowCommands(run.stderr)).toEqual([]);
  });

  test('record prints one line, with the path, the name and the source printable', async () => {
    const output = join(folderWith({}), 'out\n::add-mask::SECRET.json');
    const run = await runMain(['record', '--input', join(dumps, 'dump.json'), '-o', output, '--name', HOSTILE.cr], { env: GITHUB });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(runnerLines(run.stdout)).toHaveLength(2);
    expect(workflowCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(`wrote ${printable(output)}: fixture ${printable(JSON.stringify(HOSTILE.cr))}`);
    expect(run.stdout).toContain(`expected values from ${shown(source)}\n`);
    // The fixture keeps the text as given: only what is printed is escaped.
    expect(JSON.parse(readFileSync(output, 'utf8'))).toMatchObject({ name: HOSTILE.cr, source });
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

// The script is plain JavaScript, run by `node scripts/readme-examples.mjs` too; its shape here.
interface Drift {
  readonly label: string;
  readonly problems: readonly string[];
  readonly drift: string;
}
interface ExamplesRun {
  readonly checked: readonly string[];
  readonly drifted: readonly Drift[];
  readonly rewritten: readonly string[];
}
interface MarkedBlock {
  readonly kind: 'example' | 'input';
  readonly commands: readonly string[];
  readonly exit?: number;
  readonly output?: string;
  readonly path?: string;
  readonly line: number;
  readonly content: string;
}
interface ReadmeExamples {
  checkExamples(options?: { write?: boolean; paths?: readonly string[] }): Promise<ExamplesRun>;
  describe(run: ExamplesRun): string;
  findMarkedBlocks(text: string, file?: string): MarkedBlock[];
  splitWords(command: string): string[];
  normalise(text: string): string;
}
const script: ReadmeExamples = await import(new URL('../scripts/readme-examples.mjs', import.meta.url).href);

describe('the outputs shown in README.md and docs/', () => {
  test('every marked block is what its command prints now', async () => {
    const run = await script.checkExamples();
    if (run.drifted.length > 0) expect.fail(`run node scripts/readme-examples.mjs --write, then review:\n${script.describe(run)}`);
    expect(run.checked.length).toBeGreaterThanOrEqual(8);
  });

  test('the examples the README promises are among them', () => {
    const readme = script.findMarkedBlocks(readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8'), 'README.md');
    const commands = readme.filter((b) => b.kind === 'example').flatMap((b) => b.commands);
    expect(commands).toContain('softmax-verify');
    expect(commands.some((c) => c.startsWith('softmax-verify --input $TMP/kernel-dump.json'))).toBe(true);
    expect(commands.some((c) => c.startsWith('softmax-verify check '))).toBe(true);
    expect(readme.some((b) => b.output === '$TMP/tiny.json' && b.commands[0].startsWith('softmax-verify record '))).toBe(true);
    const numerics = script.findMarkedBlocks(readFileSync(join(import.meta.dirname, '..', 'docs', 'numerics.md'), 'utf8'));
    expect(numerics.flatMap((b) => b.commands)).toContain('softmax-verify --input fixtures/pytorch/issue-195684.json');
  });
});

describe('readme-examples.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-examples-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('names the block that drifted, and --write brings it back', async () => {
    const doc = join(dir, 'doc.md');
    const stale = '# A page\n\n<!-- example exit=1: softmax-verify --x 1,2 --g 1,0 --expected-grad 0.3,-0.2 --summary -->\n```text\nFAIL: nothing like this\n```\n';
    writeFileSync(doc, stale);
    const run = await script.checkExamples({ paths: [doc] });
    expect(run.drifted).toHaveLength(1);
    expect(run.drifted[0].label).toMatch(/doc\.md:3 \(softmax-verify --x 1,2 /);
    expect(run.drifted[0].drift).toContain('FAIL: nothing like this');

    await script.checkExamples({ paths: [doc], write: true });
    const written = readFileSync(doc, 'utf8');
    expect(written).toMatch(/^# A page\n\n<!-- example exit=1: .* -->\n```text\nsoftmax-verify: command line\n[\s\S]*\nFAIL: grad, expected vs exact \(2 \/ 2\); the expected values' sums \(1 \/ 1 slices\)\n```\n$/);
    expect((await script.checkExamples({ paths: [doc] })).drifted).toEqual([]);
  });

  test('a wrong exit code is drift, and --write leaves such a block alone', async () => {
    const doc = join(dir, 'exit.md');
    const text = '<!-- example: softmax-verify --x 1,2 --expected-grad 0,0 -->\n```text\nerror: expected grad values need g\n```\n';
    writeFileSync(doc, text);
    const run = await script.checkExamples({ paths: [doc], write: true });
    expect(run.drifted[0].problems).toEqual(['softmax-verify --x 1,2 --expected-grad 0,0 exited with 2, the marker says 0']);
    expect(readFileSync(doc, 'utf8')).toBe(text);
  });

  test('reads markers, inputs and file outputs; markers inside fenced blocks are text', () => {
    const text = [
      '<!-- input: $TMP/a.json -->',
      '```json',
      '{"x": [1]}',
      '```',
      '',
      '<!-- example exit=2 file=$TMP/out.json:',
      'softmax-verify --x 1',
      "node bin/softmax-verify.js --x '[1, 2]'",
      '-->',
      '   ```text',
      '   $ softmax-verify --x 1',
      '   ```',
      '````md',
      '<!-- example: softmax-verify -->',
      '```text',
      '```',
      '````',
    ].join('\n');
    const blocks = script.findMarkedBlocks(text, 'x.md');
    expect(blocks.map((b) => [b.kind, b.line, b.commands, b.exit, b.output, b.path, b.content])).toEqual([
      ['input', 1, [], undefined, undefined, '$TMP/a.json', '{"x": [1]}'],
      ['example', 6, ['softmax-verify --x 1', "node bin/softmax-verify.js --x '[1, 2]'"], 2, '$TMP/out.json', undefined, '$ softmax-verify --x 1'],
    ]);
    expect(() => script.findMarkedBlocks('<!-- example: softmax-verify -->\n\ntext\n', 'y.md')).toThrow('y.md:1: the marker must be followed at once by a fenced block');
  });

  test('splits a command into words as a shell would, and refuses pipes and redirections', () => {
    expect(script.splitWords(`softmax-verify --x '[[1, 2], [3, "a"]]' --source "my \\"kernel\\"" a\\ b`)).toEqual([
      'softmax-verify',
      '--x',
      '[[1, 2], [3, "a"]]',
      '--source',
      'my "kernel"',
      'a b',
    ]);
    expect(() => script.splitWords('softmax-verify --format json > report.json')).toThrow('not a shell: >');
  });

  test('normalises timings, the version and trailing space only', () => {
    expect(script.normalise('5 fixtures: 3 passed in 0.03 s  \n"seconds": 0.018406,\nsoftmax-verify 0.1.0: closed form\n"version": "0.1.0"\n\n')).toBe(
      '5 fixtures: 3 passed in <time> s\n"seconds": <time>,\nsoftmax-verify <version>: closed form\n"version": "<version>"',
    );
    expect(script.normalise('max 1 at [2], 3 / 9 off')).toBe('max 1 at [2], 3 / 9 off');
  });
});

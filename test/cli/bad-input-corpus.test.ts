import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, runMain, type CliRun } from '../helpers/run-cli.js';

/**
 * The committed corpus of bad inputs, one per failure class (test/corpus/bad-inputs/*.json): each
 * names the arguments, the stdin and the files a user gave, and the one line the tool must answer
 * with. A file is text, `{"base64": …}` for bytes, or `{"zeros": size}` for a sparse file of that
 * size (a 1 GiB input costs no disk).
 */
interface BadInput {
  readonly class: string;
  readonly args: string[];
  readonly stdin?: string;
  readonly files?: Record<string, string | { base64: string } | { zeros: number }>;
  readonly stderr: string;
}

const CORPUS = join(import.meta.dirname, '..', 'corpus', 'bad-inputs');
const cases: BadInput[] = readdirSync(CORPUS)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(CORPUS, name), 'utf8')));

function materialise(files: BadInput['files'] = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'softmax-verify-corpus-'));
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'string') writeFileSync(path, content);
    else if ('base64' in content) writeFileSync(path, Buffer.from(content.base64, 'base64'));
    else {
      writeFileSync(path, '');
      truncateSync(path, content.zeros);
    }
  }
  return root;
}

/** Files and the folders they sit in, as readdirSync(…, { recursive: true }) counts them. */
function countEntries(files: BadInput['files'] = {}): number {
  const entries = new Set<string>();
  for (const relative of Object.keys(files)) {
    const parts = relative.split('/');
    for (let i = 1; i <= parts.length; i++) entries.add(parts.slice(0, i).join('/'));
  }
  return entries.size;
}

/**
 * Runs a case in a fresh folder holding its files, as its working directory, with its stdin, and
 * checks the answer: exit 2, exactly the expected line on stderr, nothing on stdout, no stack, and
 * nothing the user gave touched, nothing added.
 */
async function expectRefused(c: BadInput, run: (cwd: string) => CliRun | Promise<CliRun>): Promise<void> {
  const cwd = materialise(c.files);
  try {
    const result = await run(cwd);
    expect(result).toEqual({ code: 2, stdout: '', stderr: c.stderr });
    expect(c.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Nothing the user gave was touched, and nothing was added.
    for (const [relative, content] of Object.entries(c.files ?? {})) {
      if (typeof content === 'string') expect(readFileSync(join(cwd, relative), 'utf8'), relative).toBe(content);
    }
    expect(readdirSync(cwd, { recursive: true }).length).toBe(countEntries(c.files));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('the bad-input corpus', () => {
  test('holds at least 40 failure classes, each file named after its class', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(readdirSync(CORPUS).filter((name) => name.endsWith('.json'))).toEqual(cases.map((c) => `${c.class}.json`));
  });

  // In process: the folder is the Io's working directory, the stdin the Io's.
  test.each(cases.map((c) => [c.class, c] as const))('%s: one line on stderr, exit 2, nothing else', async (_, c) => {
    await expectRefused(c, (cwd) => runMain(c.args, { cwd, stdin: c.stdin, env: { CI: 'true' } }));
  });

  /** A few classes through the built command, a real process in the folder: stdin, a file, a .npy, check, record, the options. */
  const SPAWNED = ['input-empty-stdin', 'expected-shape-mismatch', 'input-invalid-json', 'npy-named-outside-folder', 'check-output-exists', 'record-output-exists', 'option-unknown'];

  test('the built command gives the same answers, in its own process', async () => {
    for (const name of SPAWNED) {
      const c = cases.find((candidate) => candidate.class === name);
      expect(c, name).toBeDefined();
      await expectRefused(c!, (cwd) => runCli(c!.args, { cwd, stdin: c!.stdin, env: { CI: 'true' } }));
    }
  });
});

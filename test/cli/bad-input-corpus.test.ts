import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

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

describe('the bad-input corpus', () => {
  test('holds at least 40 failure classes, each file named after its class', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(readdirSync(CORPUS).filter((name) => name.endsWith('.json'))).toEqual(cases.map((c) => `${c.class}.json`));
  });

  test.each(cases.map((c) => [c.class, c] as const))('%s: one line on stderr, exit 2, nothing else', (_, c) => {
    const cwd = materialise(c.files);
    try {
      const result = runCli(c.args, { cwd, stdin: c.stdin, env: { CI: 'true' } });
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
  });
});

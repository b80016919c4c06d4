import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, ROOT } from './helpers/run-cli.js';
import { folderWith } from './helpers/temp-dir.js';

/** The bundle chunks (dist/bundle/*.js, hashes dropped) a run of the built command loads. */
function chunksLoaded(args: readonly string[]): { chunks: string[]; files: string[] } {
  const log = join(folderWith({}), 'loaded.txt');
  const env: NodeJS.ProcessEnv = { ...process.env, LOADED_MODULES_FILE: log };
  // As a user's plain run: colour decided without chalk, which only a colour request loads.
  for (const name of ['FORCE_COLOR', 'NO_COLOR', 'NODE_DISABLE_COLORS']) delete env[name];
  const result = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'record-loads.mjs'), BIN, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  const files = [...new Set(readFileSync(log, 'utf8').trim().split('\n'))]
    .filter((url) => url.includes('/dist/bundle/'))
    .map((url) => new URL(url).pathname);
  const chunks = files.map((path) => path.split('/').at(-1)!.replace(/-[\w-]{8}\.js$|\.js$/, '')).sort();
  return { chunks, files };
}

describe("the bundle's lazy chunks", () => {
  test('the no-argument run loads the entry, the core chunk and the runtime, nothing of check, record, BigNumber or the readers', () => {
    const { chunks, files } = chunksLoaded([]);
    expect(chunks).toEqual(['cli', 'core', 'rolldown-runtime']);
    const core = readFileSync(files.find((f) => /\/core-/.test(f))!, 'utf8');
    for (const name of ['checkCommand', 'recordCommand', 'buildFixture', 'runCheck', 'loadBigNumberReference', 'parseNpz', 'parseSafetensors', 'streamJson', 'renderCheckJunit']) {
      expect(core).not.toMatch(new RegExp(`function\\*? ${name}\\(`));
    }
  });

  test('check and record load their own chunks when they run', () => {
    expect(chunksLoaded(['check', 'fixtures/pytorch/seed.json']).chunks).toContain('check-command');
    const out = join(folderWith({}), 'x.json');
    expect(chunksLoaded(['record', '--x', '1,2', '--g', '1,0', '-o', out]).chunks).toContain('record-command');
  });
});

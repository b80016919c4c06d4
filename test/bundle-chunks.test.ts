import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, ROOT } from './helpers/run-cli.js';
import { folderWith } from './helpers/temp-dir.js';

/** The bundle chunks (dist/bundle/*.js and *.cjs, hashes dropped) a run of the built command loads. */
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
  const chunks = files.map((path) => path.split('/').at(-1)!.replace(/-[\w-]{8}\.c?js$|\.c?js$/, '')).sort();
  return { chunks, files };
}

describe("the bundle's lazy chunks", () => {
  test('the no-argument run loads the entry, the core chunk and the runtime, nothing of check, record, BigNumber or the readers', () => {
    const { chunks, files } = chunksLoaded([]);
    expect(chunks).toEqual(['cli', 'core', 'rolldown-runtime']);
    // All three CommonJS: no ES module of the library's build (index.js and its chunks).
    expect(files.every((file) => file.endsWith('.cjs'))).toBe(true);
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

describe("the command line's code cache", () => {
  test('the core chunk and the runtime compile from the caches the build wrote, and V8 accepts them', () => {
    const script = [
      `const { loadCli } = require(${JSON.stringify(join(ROOT, 'bin', 'load-cli.js'))});`,
      'const compiled = [];',
      'loadCli(compiled);',
      "const name = (file) => file.split('/').at(-1).replace(/-[\\w-]{8}\\.cjs$|\\.cjs$/, '');",
      'console.log(JSON.stringify(compiled.map(({ filename, script }) => [name(filename), script.cachedDataRejected ?? "no cache"])));',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    // cli.cjs, without a hash in its name, has none; false: not rejected.
    expect(JSON.parse(result.stdout).sort()).toEqual([
      ['cli', 'no cache'],
      ['core', false],
      ['rolldown-runtime', false],
    ]);
  });
});

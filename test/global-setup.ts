import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/run-cli.js';

/**
 * Before any test: the build, rebuilt if anything it is made from is newer (scripts/build-if-stale.mjs).
 * The spawned tests run dist/bundle, and the worker-thread tests dist/parallel: never a stale one.
 */
export default function setup(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build failed (above): the tests that run the built command would test an old one');
}

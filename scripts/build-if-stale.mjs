// Runs the build (scripts/build.mjs) when the build is missing or older than anything it is built from, so that
// no test runs a stale build: `npm test` runs this first, and so does every vitest run (its
// globalSetup, test/global-setup.ts), so `npx vitest` after an edit tests the edit too.
//
// The build's outputs are taken at the older of dist/cli/main.js (tsc's; the tests also import
// dist/check and dist/parallel) and dist/bundle/cli.cjs (rolldown's, from tsc's); its inputs are every
// file and folder under src/ (a folder's time changes when a file in it is added, removed or
// renamed), the build scripts, the bundler's and the compiler's configurations, and the lock file
// (commander and chalk are bundled). It says why on stdout: stderr is for failures.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const OUTPUTS = [join(ROOT, 'dist', 'cli', 'main.js'), join(ROOT, 'dist', 'bundle', 'cli.cjs')];
const INPUTS = ['scripts/build.mjs', 'scripts/build-wasm.mjs', 'rolldown.config.mjs', 'tsconfig.json', 'package-lock.json'];

/** Why the build must run, or undefined when it is newer than all its inputs. */
export function staleness() {
  let built = { time: Infinity, path: '' };
  for (const output of OUTPUTS) {
    const info = statSync(output, { throwIfNoEntry: false });
    if (info === undefined) return `${relative(ROOT, output)} does not exist`;
    if (info.mtimeMs < built.time) built = { time: info.mtimeMs, path: output };
  }
  let newest = { time: 0, path: '' };
  const see = (path) => {
    const info = statSync(path, { throwIfNoEntry: false });
    if (info !== undefined && info.mtimeMs > newest.time) newest = { time: info.mtimeMs, path };
  };
  see(join(ROOT, 'src'));
  for (const entry of readdirSync(join(ROOT, 'src'), { recursive: true })) see(join(ROOT, 'src', entry));
  for (const input of INPUTS) see(join(ROOT, input));
  return newest.time > built.time ? `${relative(ROOT, newest.path)} is newer than ${relative(ROOT, built.path)}` : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = staleness();
  if (why !== undefined) {
    process.stdout.write(`building: ${why}\n`);
    const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
  }
}

// `npm run build` (and `prepare`, so `npm ci`): dist/ from scratch, in one line when it works. The
// steps: the WebAssembly kernels (scripts/build-wasm.mjs), tsc into dist/, rolldown into
// dist/bundle/ (rolldown.config.mjs's builds in turn, through its API, without the CLI's table of
// chunks), then the code caches of the command line's eager chunks (scripts/write-code-cache.mjs,
// which runs the built-in example). A step
// that fails prints everything it wrote, in full, and the build exits with its code; warnings
// (rolldown's, on stderr) are shown as they come.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const require = createRequire(import.meta.url);
const started = performance.now();
// rolldown.config.mjs names its files relative to the project's root.
process.chdir(ROOT);

/** Runs a node script quietly: its output is shown only when it fails. */
function quietly(what, script, args) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status === 0) return;
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  const why = result.error?.message ?? (result.signal === null ? `exit code ${result.status}` : `signal ${result.signal}`);
  process.stderr.write(`build failed: ${what} (${why})\n`);
  process.exit(result.status || 1);
}

rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
quietly('the WebAssembly kernels, scripts/build-wasm.mjs', join(ROOT, 'scripts', 'build-wasm.mjs'), []);
quietly('tsc -p tsconfig.json', require.resolve('typescript/bin/tsc'), ['-p', 'tsconfig.json']);

// The configuration reads tsc's output (which modules the plain run reaches): imported only now.
const { build } = await import('rolldown');
const { default: config } = await import(pathToFileURL(join(ROOT, 'rolldown.config.mjs')).href);
try {
  // In turn: the first empties dist/bundle/.
  for (const options of config) await build(options);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nbuild failed: rolldown -c rolldown.config.mjs\n`);
  process.exit(1);
}

quietly('the code caches, scripts/write-code-cache.mjs', join(ROOT, 'scripts', 'write-code-cache.mjs'), []);

const chunks = readdirSync(join(ROOT, 'dist', 'bundle')).filter((name) => /\.c?js$/.test(name)).length;
process.stdout.write(`softmax-verify: built dist/ (${chunks} bundle chunks) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

#!/usr/bin/env node
// Thin launcher: the CLI is compiled and bundled into dist/bundle/ by `npm run build` (run by
// `prepare` on `npm ci`, a git install and `npm pack`; the packed package ships the bundle).
// CommonJS (bin/package.json), as the bundle it loads is: see bin/load-cli.js.
'use strict';
const { ENTRY, loadCli } = require('./load-cli.js');

let cli;
try {
  cli = loadCli();
} catch (error) {
  if (error?.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes(ENTRY)) throw error;
  process.stderr.write('error: softmax-verify is not built yet: run `npm run build` in its folder first\n');
  process.exit(2);
}
const { main, describeOutputFailure } = cli;

process.stdout.on('error', (error) => {
  // `softmax-verify ... | head` closes the pipe early: the reader's choice, not a crash. Once the
  // verdict is known (verdictKnown, below) its exit code stands; before it there is none, and exit
  // 0 would be a green CI job (under pipefail) for fixtures never checked: exit 2, saying why.
  if (error.code === 'EPIPE' && process.exitCode !== undefined) process.exit(process.exitCode);
  // Anything else (a full disk behind `> out.json`, /dev/full, EIO) cuts the output short: one
  // line and exit 2, never the verdict's exit code, and no stack trace.
  process.stderr.write(`error: ${describeOutputFailure('stdout', error)}${error.code === 'EPIPE' ? ', before the verdict' : ''}\n`);
  process.exit(2);
});
// With stderr itself failing there is nowhere left to say so; the exit code still does.
process.stderr.on('error', () => {});

let settled = false;
// Node ends a process whose event loop empties before main settles, as an ES module's unsettled
// top-level await ended it: exit 13 unless a verdict already set the code.
process.on('exit', () => {
  if (!settled) process.exitCode ??= 13;
});
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
  cwd: process.cwd(),
  verdictKnown: (exitCode) => {
    process.exitCode = exitCode;
  },
}).then((exitCode) => {
  settled = true;
  process.exitCode = exitCode;
});

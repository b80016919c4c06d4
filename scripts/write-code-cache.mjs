// The code caches bin/load-cli.js compiles the command line's eager chunks from: run by
// scripts/build.mjs after rolldown, in a process of its own (a cache holds the functions
// compiled by the time it is made, so the process runs nothing but the built-in example, as a
// user's plain run does, and then writes `<chunk>.v8cache` beside each chunk with a content hash
// in its name). The example's output goes nowhere.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Writable } from 'node:stream';

const require = createRequire(import.meta.url);
const { loadCli } = require('../bin/load-cli.js');

const compiled = [];
const { main } = loadCli(compiled);
const nowhere = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const code = await main([], { stdout: nowhere(), stderr: nowhere(), env: {}, stdin: process.stdin, cwd: process.cwd(), verdictKnown: () => {} });
if (code !== 0) throw new Error(`the built-in example exited with ${code}: no code cache written`);
for (const { filename, script, cacheFile } of compiled) {
  if (/-[\w-]{8}\.cjs$/.test(basename(filename))) writeFileSync(cacheFile, script.createCachedData());
}

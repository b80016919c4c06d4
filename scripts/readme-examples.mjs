#!/usr/bin/env node
// Keeps the outputs shown in README.md and docs/*.md real: every fenced block marked with an
// `example` comment is the output of the command the comment names, run now through the built
// command (`npm run build` first). The marker (an HTML comment, not rendered), on the lines just
// before the block's opening fence:
//
//   <!-- example: softmax-verify --input fixtures/pytorch/issue-195684.json -->
//   <!-- example exit=1: softmax-verify --input $TMP/kernel-dump.json -->
//   <!-- example file=$TMP/tiny.json: softmax-verify record --x 1,2 --g 1,0 -o $TMP/tiny.json -->
//   <!-- example exit=2:
//   softmax-verify --x 1,2
//   softmax-verify --x 1,abc --g 1,2
//   -->
//   <!-- input: $TMP/kernel-dump.json -->
//
// - `example`: the block is the commands' stdout, then their stderr; with `file=PATH`, the
//   content of PATH after they ran instead. `exit=N` is the exit code every command must end
//   with (default 0). One command per line; when a block starts with a `$ ` line, each command's
//   output is preceded by `$ ` and the command (as shown: `$TMP/` left out). Several commands
//   need that form.
// - `input`: the block is not checked but written to PATH (with a final newline) before the
//   file's examples run: a shown input is the input used.
// - Commands are `softmax-verify ARGS` (or `node bin/softmax-verify.js ARGS`), split into words
//   as a POSIX shell would ('single', "double" quotes and backslashes; no pipes, redirections or
//   variables other than $TMP), and run from the repository root with colour off and the
//   variables the tests' runCli clears (and GitHub Actions') unset. `$TMP` is a fresh folder per
//   file, removed afterwards.
// - Compared after normalising both sides: the temporary folder's path left out (also when
//   writing), trailing spaces and final newlines dropped, timings (`in 0.03 s`, `"seconds": 0.03`)
//   and the tool's version (`softmax-verify 0.1.0`, `"version": "0.1.0"`) replaced by placeholders.
//
// `node scripts/readme-examples.mjs` checks (exit 1 naming each block that drifted);
// `node scripts/readme-examples.mjs --write` rewrites the blocks that drifted. Markers inside
// fenced blocks are text, not markers.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'softmax-verify.js');
const CLEARED = ['FORCE_COLOR', 'NO_COLOR', 'NODE_DISABLE_COLORS', 'SOFTMAX_VERIFY_DEBUG', 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'GITHUB_WORKSPACE'];

/** README.md, then docs/*.md in name order: the files whose marked blocks are checked. */
export function documentPaths(root = ROOT) {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), ...docs];
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;
const MARKER = /^\s*<!--\s*(example|input)\b/;

/**
 * The marked blocks of one Markdown text, in order: each with its marker's kind, commands,
 * expected exit code, file, and the block's lines (0-based, end exclusive) and indentation.
 */
export function findMarkedBlocks(text, file = '') {
  const lines = text.split('\n');
  const blocks = [];
  let fence = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (fence) {
      if (fence.test(line)) fence = null;
      continue;
    }
    const opening = FENCE.exec(line);
    if (opening) {
      fence = closingFence(opening[2]);
      continue;
    }
    if (!MARKER.test(line)) continue;
    const at = `${file}:${i + 1}`;
    let comment = line;
    let last = i;
    while (!comment.includes('-->')) {
      last++;
      if (last >= lines.length) throw new Error(`${at}: the marker is never closed with -->`);
      comment += `\n${lines[last]}`;
    }
    const marker = parseMarker(comment, at);
    const open = FENCE.exec(lines[last + 1] ?? '');
    if (!open) throw new Error(`${at}: the marker must be followed at once by a fenced block`);
    const indent = open[1].length;
    const closing = closingFence(open[2]);
    let end = last + 2;
    while (end < lines.length && !closing.test(lines[end])) end++;
    if (end >= lines.length) throw new Error(`${at}: the block after the marker is never closed`);
    blocks.push({ ...marker, document: file, line: i + 1, start: last + 2, end, indent, content: lines.slice(last + 2, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n') });
    i = end;
  }
  return blocks;
}

/** What closes a fenced block opened with `marker`: the same character, at least as many. */
function closingFence(marker) {
  return new RegExp(`^\\s*${marker[0]}{${marker.length},}\\s*$`);
}

function parseMarker(comment, at) {
  const body = comment.replace(/^\s*<!--/, '').replace(/-->\s*$/, '');
  const head = /^\s*(example|input)((?:\s+[a-z]+=\S+)*)\s*:([\s\S]*)$/.exec(body);
  if (!head) throw new Error(`${at}: a marker reads "example [exit=N] [file=PATH]: COMMAND" or "input: PATH"`);
  const [, kind, attributeText, rest] = head;
  const attributes = Object.fromEntries(attributeText.trim().split(/\s+/).filter(Boolean).map((a) => a.split('=', 2)));
  const commands = rest.split('\n').map((c) => c.trim()).filter(Boolean);
  if (kind === 'input') {
    if (commands.length !== 1 || attributeText.trim()) throw new Error(`${at}: an input marker names one path: "input: $TMP/NAME"`);
    return { kind, path: commands[0], commands: [] };
  }
  for (const name of Object.keys(attributes)) if (name !== 'exit' && name !== 'file') throw new Error(`${at}: unknown marker attribute ${name}`);
  if (commands.length === 0) throw new Error(`${at}: the marker names no command`);
  const exit = attributes.exit === undefined ? 0 : Number(attributes.exit);
  if (!Number.isInteger(exit)) throw new Error(`${at}: exit=${attributes.exit} is not an exit code`);
  return { kind, commands, exit, output: attributes.file };
}

/** A command line split into words as a POSIX shell would, without expansions or operators. */
export function splitWords(command) {
  const words = [];
  let word = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === "'") {
      const close = command.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed ' in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < command.length && command[i] !== '"'; i++) {
        if (command[i] === '\\' && '"\\$`'.includes(command[i + 1])) i++;
        word += command[i];
      }
      if (i >= command.length) throw new Error(`unclosed " in: ${command}`);
    } else if (c === '\\') {
      word = (word ?? '') + (command[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if ('|&;<>()`'.includes(c)) {
      throw new Error(`not a shell: ${c} in: ${command}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The words after the command's name: `softmax-verify ARGS` or `node bin/softmax-verify.js ARGS`. */
function argumentsOf(command) {
  const words = splitWords(command);
  if (words[0] === 'softmax-verify') return words.slice(1);
  if (words[0] === 'node' && words[1] === 'bin/softmax-verify.js') return words.slice(2);
  throw new Error(`an example runs softmax-verify, not: ${command}`);
}

/** Runs the built command as the tests' runCli does: from the root, piped, colour off. */
function run(args, root) {
  const env = { ...process.env };
  for (const name of CLEARED) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'softmax-verify.js'), ...args], { cwd: root, env });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end();
  });
}

/** `work` over `items`, at most `limit` at a time, the results in the items' order. */
async function mapLimit(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Leaves out the temporary folder: `$TMP/x` becomes `x`, as the shown command has it. */
function withoutTemp(text, temps) {
  let out = text;
  for (const temp of temps) out = out.split(`${temp}/`).join('').split(temp).join('.');
  return out;
}

/** What is compared: both sides with timings, the tool's version and trailing space evened out. */
export function normalise(text) {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n+$/, '')
    .replace(/\bin \d+(?:\.\d+)? s\b/g, 'in <time> s')
    .replace(/("seconds":\s*)\d+(?:\.\d+)?(?:e-?\d+)?/g, '$1<time>')
    .replace(/\bsoftmax-verify \d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?/g, 'softmax-verify <version>')
    .replace(/("version":\s*")\d+\.\d+\.\d+[^"]*"/g, '$1<version>"');
}

/** One example's text now: the commands' output (or the file they wrote), and any problems. */
async function produce(block, tmp, temps, root) {
  const expand = (s) => s.split('$TMP').join(tmp);
  const prompt = block.content.startsWith('$ ') || (block.content === '' && block.commands.length > 1);
  const problems = [];
  if (block.commands.length > 1 && !prompt) problems.push('several commands need a block whose lines start with "$ "');
  let text = '';
  for (const command of block.commands) {
    const { code, stdout, stderr } = await run(argumentsOf(command).map(expand), root);
    // Another build in progress (dist/ rebuilt under us) is no output of the example's.
    if (stderr.includes('is not built yet')) throw new Error(`${block.document}:${block.line}: the command is not built: run npm run build first`);
    if (code !== block.exit) problems.push(`${command} exited with ${code}, the marker says ${block.exit}`);
    if (prompt) text += `$ ${withoutTemp(expand(command), temps)}\n`;
    if (!block.output) text += stdout + stderr;
  }
  if (block.output) {
    try {
      text = readFileSync(expand(block.output), 'utf8');
    } catch (error) {
      problems.push(`no file ${block.output} after the commands ran (${error.code})`);
    }
  }
  return { text: withoutTemp(text, temps).replace(/[ \t]+$/gm, '').replace(/\n+$/, ''), problems };
}

/** The first line where two texts differ, with a little of each, for the report. */
function describeDrift(shown, now) {
  const a = shown.split('\n');
  const b = now.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (lines) => lines.slice(i, i + 3).map((l) => `    ${l}`).join('\n') || '    (nothing)';
  return `first difference at the block's line ${i + 1} (${a.length} lines shown, ${b.length} now)\n  shown:\n${show(a)}\n  now:\n${show(b)}`;
}

/**
 * Checks (or, with `write`, rewrites) every marked block of README.md and docs/*.md. Resolves to
 * the examples checked and those that drifted, each named by file, line and command. The
 * examples run a few at a time (they are independent: each file's inputs are written first).
 */
export async function checkExamples({ root = ROOT, write = false, paths = documentPaths(root) } = {}) {
  const documents = [];
  try {
    for (const path of paths) {
      const name = relative(root, path);
      const text = readFileSync(path, 'utf8');
      const blocks = findMarkedBlocks(text, name);
      if (blocks.length === 0) continue;
      const tmp = mkdtempSync(join(tmpdir(), 'softmax-verify-readme-'));
      documents.push({ path, name, text, blocks, tmp, temps: [...new Set([realpathSync(tmp), tmp])] });
      for (const block of blocks) if (block.kind === 'input') writeFileSync(block.path.split('$TMP').join(tmp), `${block.content}\n`);
    }
    const jobs = documents.flatMap((document) => document.blocks.filter((block) => block.kind === 'example').map((block) => ({ document, block })));
    const outputs = await mapLimit(jobs, Math.max(2, availableParallelism()), ({ document, block }) => produce(block, document.tmp, document.temps, root));
    const checked = [];
    const drifted = [];
    const rewritten = [];
    for (const document of documents) {
      const replacements = [];
      jobs.forEach(({ document: of, block }, i) => {
        if (of !== document) return;
        const { text: now, problems } = outputs[i];
        const label = `${document.name}:${block.line} (${block.commands.join('; ')}${block.output ? `, file ${block.output}` : ''})`;
        checked.push(label);
        const same = normalise(block.content) === normalise(now);
        if (same && problems.length === 0) return;
        drifted.push({ label, problems, drift: same ? '' : describeDrift(normalise(block.content), normalise(now)) });
        if (write && !same && problems.length === 0) replacements.push({ block, now });
      });
      if (replacements.length === 0) continue;
      const lines = document.text.split('\n');
      for (const { block, now } of replacements.reverse()) {
        const pad = ' '.repeat(block.indent);
        lines.splice(block.start, block.end - block.start, ...now.split('\n').map((l) => (l ? pad + l : l)));
      }
      writeFileSync(document.path, lines.join('\n'));
      rewritten.push(...replacements.reverse().map(({ block }) => `${document.name}:${block.line}`));
    }
    return { checked, drifted, rewritten };
  } finally {
    for (const { tmp } of documents) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The report of a run: one paragraph per drifted block, then the counts. */
export function describe({ checked, drifted, rewritten }) {
  const out = drifted.map((d) => [`${d.label} drifted:`, ...d.problems, ...(d.drift ? [d.drift] : [])].join('\n  '));
  const state = drifted.length === 0 ? 'all current' : `${drifted.length} drifted`;
  out.push(`${checked.length} examples checked: ${state}${rewritten.length > 0 ? `; rewrote ${rewritten.join(', ')}` : ''}`);
  return out.join('\n');
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  for (const a of args) if (a !== '--write') throw new Error(`unknown argument ${a}; the only one is --write`);
  try {
    readFileSync(join(ROOT, 'dist', 'bundle', 'cli.cjs'));
  } catch {
    process.stderr.write(`error: ${BIN} needs the build: run npm run build first\n`);
    process.exit(2);
  }
  const result = await checkExamples({ write });
  process.stdout.write(`${describe(result)}\n`);
  const failing = write ? result.drifted.filter((d) => d.problems.length > 0) : result.drifted;
  process.exit(failing.length > 0 ? 1 : 0);
}

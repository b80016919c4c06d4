import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { guardWorkflowCommands, writeWorkflowCommand } from '../../src/cli/workflow-command-guard.js';
import { testIo } from '../helpers/run-cli.js';

/** A guarded Io over buffers, as main() builds it under GitHub Actions. */
function guardedBuffers() {
  const out: string[] = [];
  const err: string[] = [];
  const io = guardWorkflowCommands(testIo({ stdout: { write: (text: string) => out.push(text), isTTY: false }, stderr: { write: (text: string) => err.push(text) } }));
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** What one write of `text` comes out as. */
function guardedText(...writes: string[]): string {
  const { io, stdout } = guardedBuffers();
  for (const text of writes) io.stdout.write(text);
  return stdout();
}

/** The runner's reading (actions/runner): lines end at LF, CR or CR LF; V2 trims .NET whitespace first; V1 finds `##[` anywhere. */
function runnerWouldRun(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .filter((line) => /^[\s\u0085]*::/.test(line) || line.includes('##['));
}

describe('the workflow command guard', () => {
  test.each([
    ['::add-mask::SECRET\n', '\\u003a:add-mask::SECRET\n'],
    ['ok\n::stop-commands::tok\n', 'ok\n\\u003a:stop-commands::tok\n'],
    ['ok\r::set-output name=verdict::pass\n', 'ok\r\\u003a:set-output name=verdict::pass\n'],
    ['  \t::add-mask::SECRET\n', '  \t\\u003a:add-mask::SECRET\n'],
    ['\u00a0\u3000\u2028\u0085\ufeff\u200b::add-mask::x', '\u00a0\u3000\u2028\u0085\ufeff\u200b\\u003a:add-mask::x'],
    ['FAIL  name##[add-mask]SECRET\n', 'FAIL  name##\\u005badd-mask]SECRET\n'],
    ['##[error]x ##[stop-commands]y', '##\\u005berror]x ##\\u005bstop-commands]y'],
  ])('escapes %j', (raw, shown) => {
    const out = guardedText(raw);
    expect(out).toBe(shown);
    expect(runnerWouldRun(out)).toEqual([]);
  });

  test('leaves the tool\'s own text alone: colons inside a line, a lone # or [, JSON, XML', () => {
    const text = 'grad, expected vs exact: mismatched 1 / 9 (11.1%); worst [3]: 0.1\n# heading\n  "name": "a::b",\n<a b="::x"/>\n:x\n';
    expect(guardedText(text)).toBe(text);
  });

  test('catches a `::` and a `##[` split across writes', () => {
    expect(guardedText('ok\n', ':', ':add-mask::x\n')).toBe('ok\n\\u003a:add-mask::x\n');
    expect(guardedText('ok\n  ', '::add-mask::x\n')).toBe('ok\n  \\u003a:add-mask::x\n');
    expect(guardedText('a#', '#', '[add-mask]x\n')).toBe('a##\\u005badd-mask]x\n');
    expect(guardedText('a##', '[add-mask]x\n')).toBe('a##\\u005badd-mask]x\n');
    // A line already under way is not a line start.
    expect(guardedText('ok', '::x\n')).toBe('ok::x\n');
    for (const out of [guardedText('ok\n', ':', ':add-mask::x\n'), guardedText('a#', '#', '[add-mask]x\n')]) expect(runnerWouldRun(out)).toEqual([]);
  });

  test('keeps the meaning of a JSON report: both escapes are JSON escapes of the same character', () => {
    const doc = { name: '##[add-mask]SECRET', lines: ['x\n::add-mask::y'] };
    const text = JSON.stringify(doc, null, 2);
    expect(JSON.parse(guardedText(text))).toEqual(doc);
  });

  test("lets the tool's own annotation through writeWorkflowCommand, and reads the next line afresh", () => {
    const { io, stdout, stderr } = guardedBuffers();
    io.stdout.write('FAIL  x\n');
    writeWorkflowCommand(io.stdout, '::error file=a.json,title=softmax-verify%3A x failed::off\n');
    io.stdout.write('::add-mask::x\n');
    writeWorkflowCommand(io.stderr, '::error file=b.json,title=t::m\n');
    expect(stdout()).toBe('FAIL  x\n::error file=a.json,title=softmax-verify%3A x failed::off\n\\u003a:add-mask::x\n');
    expect(stderr()).toBe('::error file=b.json,title=t::m\n');
  });

  test("is the stream's own otherwise: isTTY, write's return value, events", () => {
    const stream = Object.assign(new EventEmitter(), { isTTY: true, written: '', write(text: string) { this.written += text; return false; } });
    const io = guardWorkflowCommands(testIo({ stdout: stream, stderr: stream }));
    expect(io.stdout.isTTY).toBe(true);
    expect(io.stdout.write('::x\n')).toBe(false);
    expect(stream.written).toBe('\\u003a:x\n');
    let drained = false;
    (io.stdout as unknown as EventEmitter).once('drain', () => (drained = true));
    stream.emit('drain');
    expect(drained).toBe(true);
  });
});

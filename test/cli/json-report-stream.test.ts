import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, runCli, runMain, testIo } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

/** A stdout whose buffer is full after every write, draining a tick later, as a slow pipe's. */
class SlowStdout extends EventEmitter {
  readonly writes: string[] = [];
  full = false;
  writesWhileFull = 0;
  write(text: string): boolean {
    if (this.full) this.writesWhileFull++;
    this.writes.push(text);
    this.full = true;
    setImmediate(() => {
      this.full = false;
      this.emit('drain');
    });
    return false;
  }
}

const N = 200_000;
// JSON.stringify would write -0 as 0: the values are spelt here, -0 as the reports spell it.
const dump = () => {
  const x = Array.from({ length: N }, (_, i) => (i === 7 ? '-0.0' : String(Math.sin(i) * 20)));
  const g = Array.from({ length: N }, (_, i) => (i === 9 ? '5e-324' : String(Math.cos(i * 0.3))));
  return `{"x": [${x.join(',')}], "g": [${g.join(',')}]}`;
};

describe('verify --format json, streamed', () => {
  test('waits for a slow stdout to drain, and writes what a fast one gets', async () => {
    const args = ['--x', '[[1,2,"NaN"],[3,-0,5e-324]]', '--g', '[[1,0,0],[0,1,"-Infinity"]]', '--format', 'json', '--accurate', '--fd'];
    const { main } = await import('../../src/cli/main.js');
    const stdout = new SlowStdout();
    const stderr: string[] = [];
    const code = await main(args, testIo({ stdout, stderr: { write: (text: string) => stderr.push(text) } }));
    expect(stderr.join('')).toBe('');
    expect(code).toBe((await runMain(args)).code);
    expect(stdout.writesWhileFull).toBe(0);
    expect(stdout.writes.join('')).toBe((await runMain(args)).stdout);
    expect(JSON.parse(stdout.writes.join('')).input.x).toEqual([[1, 2, 'NaN'], [3, -0, 5e-324]]);
  });

  test('a large report comes through a slow stdout in 64 kB writes, whole', async () => {
    const dir = folderWith({ 'dump.json': dump() });
    const args = ['--input', join(dir, 'dump.json'), '--format', 'json', '--reference', 'off'];
    const { main } = await import('../../src/cli/main.js');
    const stdout = new SlowStdout();
    const code = await main(args, testIo({ stdout, stderr: { write: () => true } }));
    expect(code).toBe(0);
    expect(stdout.writesWhileFull).toBe(0);
    expect(stdout.writes.length).toBeGreaterThan(50);
    expect(Math.max(...stdout.writes.map((w) => w.length))).toBeLessThan(1 << 20);
    const doc = JSON.parse(stdout.writes.join(''));
    expect(doc.input.x).toHaveLength(N);
    expect(Object.is(doc.input.x[7], -0)).toBe(true);
    expect(doc.input.g[9]).toBe(5e-324);
    expect(doc.results.closedForm.grad).toHaveLength(N);
  });

  test('the built command writes the same bytes as the source', async () => {
    const args = ['--format', 'json', '--accurate', '--fd'];
    const built = runCli(args);
    expect(built.code).toBe(0);
    expect(built.stdout).toBe((await runMain(args)).stdout);
  });

  test('a reader that stops early (| head) ends the run quietly', async () => {
    const dir = folderWith({ 'dump.json': dump() });
    const child = spawn(process.execPath, [BIN, '--input', 'dump.json', '--format', 'json', '--reference', 'off'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    let head = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.stdout.on('data', (data: Buffer) => {
      head += data.toString();
      if (head.length > 1000) child.stdout.destroy();
    });
    expect(await exited).toBe(0);
    expect(head.startsWith('{\n  "format": "softmax-verify.report/v2"')).toBe(true);
    expect(stderr).toBe('');
  });
});

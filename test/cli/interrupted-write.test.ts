import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { BIN } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';
import { runs } from '../helpers/slow-tests.js';

const OLD = '{"this": "is the old fixture, which must survive whole"}\n';
const N = 200_000;

/**
 * One `record --force` over an existing file (of made-up expected values: --allow-mismatch), killed with SIGKILL as soon as its temporary file
 * has bytes in it. Returns what the target holds afterwards and whether the temporary file was
 * still there (the kill landed before the rename: mid-write, or mid-fsync).
 */
async function killRecordWhileWriting(dir: string): Promise<{ target: string; killedMidWrite: boolean; signal: string | null }> {
  writeFileSync(join(dir, 'out.json'), OLD);
  const child = spawn(process.execPath, [BIN, 'record', '--input', 'dump.json', '--name', 'big', '-o', 'out.json', '--force', '--allow-mismatch'], {
    cwd: dir,
    stdio: 'ignore',
  });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  const temporary = () => readdirSync(dir).find((name) => name.startsWith('.out.json.') && name.endsWith('.tmp'));
  let killed = false;
  while (child.exitCode === null && child.signalCode === null) {
    const name = temporary();
    if (name !== undefined && statSync(join(dir, name), { throwIfNoEntry: false })?.size) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await sleep(1);
  }
  const signal = await exited;
  const leftOver = temporary();
  if (leftOver !== undefined) rmSync(join(dir, leftOver));
  return { target: readFileSync(join(dir, 'out.json'), 'utf8'), killedMidWrite: killed && leftOver !== undefined, signal };
}

describe('an interrupted record', () => {
  test('killed mid-write leaves the old file whole, never a part of the new one', async () => {
    const x = Array.from({ length: N }, (_, i) => Math.sin(i) * 3);
    const g = Array.from({ length: N }, (_, i) => Math.cos(i));
    const dump = { x, g, expected: { softmax: x.map((v) => v / 1e7), grad: g.map((v) => v / 1e7) }, source: 'a test' };
    const dir = folderWith({ 'dump.json': JSON.stringify(dump) });
    let midWrite = 0;
    // The kill can land after the rename on a fast disk; a few attempts make a mid-write one all but certain.
    // Two mid-write kills with SOFTMAX_VERIFY_SLOW_TESTS=1, one by default.
    for (let attempt = 0; attempt < 5 && midWrite < runs(2); attempt++) {
      const { target, killedMidWrite, signal } = await killRecordWhileWriting(dir);
      if (killedMidWrite) {
        expect(signal).toBe('SIGKILL');
        expect(target).toBe(OLD);
        midWrite++;
      } else {
        // Too late to interrupt: then the new fixture is there, whole.
        expect(JSON.parse(target).x).toHaveLength(N);
      }
    }
    expect(midWrite).toBeGreaterThan(0);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

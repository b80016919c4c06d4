import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BIN, ROOT, testIo } from '../helpers/run-cli.js';

const NO_SPACE = 'error: cannot write to stdout: no space left on the device\n';

/** The built command with stdout on /dev/full, where every write fails with ENOSPC. */
function toDevFull(args: readonly string[]): { code: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    return { code: result.status, stderr: result.stderr };
  } finally {
    closeSync(full);
  }
}

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

describe('a stdout that fails', () => {
  test.each([
    ['the verifier', []],
    ['the verifier, --format json', ['--format', 'json']],
    ['check', ['check', 'docs/examples/kernel-fixtures/seed.json']],
    ['check --format junit', ['check', 'docs/examples/kernel-fixtures/seed.json', '--format', 'junit']],
    ['bench --help', ['bench', '--help']],
  ])('through the built command (%s > /dev/full): one line on stderr, exit 2, no stack', (_, args) => {
    expect(toDevFull(args)).toEqual({ code: 2, stderr: NO_SPACE });
  });

  test('in process, a write that throws ENOSPC: one line, exit 2, even when the run would pass', async () => {
    const err: string[] = [];
    const stdout = {
      write: () => {
        throw enospc();
      },
    };
    for (const args of [['--x', '1,2', '--g', '1,0'], ['check', 'docs/examples/kernel-fixtures/seed.json'], ['--format', 'json']]) {
      err.length = 0;
      expect(await main(args, testIo({ stdout, stderr: { write: (text: string) => err.push(text) } }))).toBe(2);
      expect(err).toEqual([NO_SPACE]);
    }
  });

  test('in process, a stream that reports the failure later (an error event): exit 2 at the next write or at the end', async () => {
    // As a Node stream fails: the write returns, the error follows on a later tick, once.
    class FailingLater extends EventEmitter {
      failed = false;
      write(): boolean {
        if (!this.failed) setImmediate(() => this.emit('error', enospc()));
        this.failed = true;
        return true;
      }
    }
    for (const args of [['check', 'docs/examples/kernel-fixtures'], ['--x', '1,2', '--g', '1,0']]) {
      const stdout = new FailingLater();
      const err: string[] = [];
      expect(await main(args, testIo({ stdout, stderr: { write: (text: string) => err.push(text) } }))).toBe(2);
      expect(err).toEqual([NO_SPACE]);
      // The guard listens only while the command runs.
      expect(stdout.listenerCount('error')).toBe(0);
    }
  });

  test('in process, a streamed JSON report whose stream fails while it waits to drain: exit 2, not a bug', async () => {
    class FullPipe extends EventEmitter {
      failed = false;
      write(): boolean {
        if (!this.failed) setImmediate(() => this.emit('error', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })));
        this.failed = true;
        return false;
      }
    }
    const err: string[] = [];
    const x = Array.from({ length: 50_000 }, (_, i) => i % 7).join(',');
    expect(await main(['--x', x, '--g', x, '--format', 'json', '--reference', 'off'], testIo({ stdout: new FullPipe(), stderr: { write: (text: string) => err.push(text) } }))).toBe(2);
    expect(err).toEqual(['error: cannot write to stdout: an input/output error on the device\n']);
  });

  test('a reader that closes the pipe early (| head) after all was written: quiet, with the verdict\'s exit code', () => {
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" --summary | head -c 10`], { cwd: ROOT, encoding: 'utf8' });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, 'softmax-ve', '']);
  });

  test('a reader that closes the pipe before the verdict: exit 2 and one line, never a green job for fixtures not checked', () => {
    // 99 fixtures, a line as each is checked: head has gone long before the last.
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" check fixtures | head -c 10`], { cwd: ROOT, encoding: 'utf8' });
    expect([result.status, result.stdout, result.stderr]).toEqual([2, 'PASS   cro', 'error: cannot write to stdout: the reader closed the pipe, before the verdict\n']);
  });
});

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runs } from '../helpers/slow-tests.js';
import { folderWith } from '../helpers/temp-dir.js';
import { ROOT, runMain } from '../helpers/run-cli.js';

// test/kernels/numpy_kernel.py: numpy alone, as CI machines have it (no torch).
const NUMPY_KERNEL = `python3 ${join(ROOT, 'test', 'kernels', 'numpy_kernel.py')}`;

// Concurrent: each test waits mostly on its kernel process.
describe.concurrent('hunt, a kernel command speaking the protocol', () => {
  test('a correct numpy kernel: nothing found, exit 0', async () => {
    const run = await runMain(['hunt', '--kernel', NUMPY_KERNEL, '--dtype', 'float32', '--cases', String(runs(150)), '--seed', '4']);
    expect([run.code, run.stdout]).toEqual([0, expect.stringContaining('PASS: no case failed')]);
  }, 120_000);

  test('a planted bug: found, shrunk, saved as a fixture that check fails on; exit 1', async () => {
    const folder = folderWith({});
    const run = await runMain(['hunt', '--kernel', `${NUMPY_KERNEL} forgot-inner`, '--cases', '30', '--seed', '4', '--save-failures', 'found'], { cwd: folder });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAIL: grad+sums, first in "width 1"');
    expect(run.stdout).toContain('shrunk from [3, 1] to [1, 1]');
    const saved = readdirSync(join(folder, 'found'));
    expect(saved).toEqual(['hunt-softmax-float32-seed4-1.json']);
    const check = await runMain(['check', 'found'], { cwd: folder });
    expect(check.code).toBe(1);
  }, 120_000);

  test('a kernel that crashes, hangs or prints garbage on some cases: each a finding of its own, the hunt goes on', async () => {
    // The hang under a case timeout shorter than the kernel's start-up, which is not counted.
    const [broken, hung] = await Promise.all([
      runMain(['hunt', '--kernel', `${NUMPY_KERNEL} crash-on-width-1,garbage-on-width-3`, '--cases', '6', '--seed', '4', '--case-timeout', '20']),
      runMain(['hunt', '--kernel', `sleep 0.5; ${NUMPY_KERNEL} hang-on-width-2`, '--cases', '2', '--seed', '4', '--case-timeout', '0.3']),
    ]);
    expect([broken.code, hung.code]).toEqual([1, 1]);
    for (const kind of ['CRASH: crash, first in "width 1"', 'PROTOCOL-ERROR: protocol-error, first in "width 3"']) expect(broken.stdout).toContain(kind);
    expect(hung.stdout).toContain('HANG: hang, first in "width 2"');
    expect(broken.stdout).toContain('6 cases in');
    expect(broken.stdout).toContain('\nby input class, cases failed of run:\n  width 1: 1 of 1 (crash)\n  width 3: 1 of 1 (protocol-error)\n  no failure in the other 4 classes (4 cases)\n');
  }, 60_000);

  test('a kernel may decline cases: counted, not failed', async () => {
    const run = await runMain(['hunt', '--kernel', `${NUMPY_KERNEL} decline-wide`, '--cases', '21', '--seed', '4', '--format', 'json']);
    const report = JSON.parse(run.stdout);
    // The tour's widths 4097, 8191 and 8193.
    expect([run.code, report.cases, report.failed, report.declined]).toEqual([0, 21, 0, 3]);
  }, 120_000);

  test('a kernel that declines every case checked nothing: exit 2, with its reason', async () => {
    const run = await runMain(['hunt', '--kernel', `${NUMPY_KERNEL} decline-all`, '--cases', '3', '--seed', '1']);
    expect([run.code, run.stderr]).toEqual([2, 'error: the kernel declined every case (ValueError: this kernel declines every case): nothing was checked\n']);
  }, 60_000);

  test('a --save-failures that names a file is refused before the hunt: one line, exit 2', async () => {
    const folder = folderWith({ taken: 'a file' });
    const run = await runMain(['hunt', '--kernel', NUMPY_KERNEL, '--cases', '1', '--seed', '1', '--save-failures', 'taken'], { cwd: folder });
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/^error: --save-failures taken: cannot make the folder: [^\n]+\n$/);
  }, 60_000);

  test('a kernel that never answers a case is bad usage: one line, exit 2', async () => {
    const run = await runMain(['hunt', '--kernel', 'python3 -c "import sys; sys.exit(4)"', '--cases', '3', '--seed', '1']);
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/^error: the kernel never answered a case: it crashed \(the kernel exited with code 4\); see docs\/hunt\.md for the protocol\n$/);
    expect(existsSync(join(ROOT, 'found'))).toBe(false);
  }, 60_000);
});

import { copyFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

const NPY = join(ROOT, 'test', 'data', 'npy');
const fixture = (fields: Record<string, unknown>) =>
  JSON.stringify({
    format: 'softmax-verify.fixture/v1',
    name: 'npy',
    source: 'numpy',
    dtype: 'float64',
    dim: -1,
    x: 'fixture-x.npy',
    g: 'fixture-g.npy',
    expected: { softmax: 'fixture-softmax.npy', grad: 'fixture-grad.npy' },
    ...fields,
  });

describe('.npy inputs', () => {
  test('--x and --g take .npy files of any dtype, order and byte order; --dtype settles differing dtypes', async () => {
    const { code, stdout } = await runMain(['--x', join(NPY, 'f4-F-be-3x4.npy'), '--g', join(NPY, 'f2-C-le-3x4.npy'), '--dtype', 'float64', '--reference', 'off']);
    expect(code).toBe(0);
    expect(stdout).toContain('x: shape [3, 4], softmax along dim -1 (3 slices of 4), dtype float64 (from --dtype)');
  });

  test('float32 .npy files run as float32 without --dtype', async () => {
    const { code, stdout } = await runMain(['--x', join(NPY, 'f4-F-be-3x4.npy'), '--g', join(NPY, 'f4-C-le-3x4.npy'), '--reference', 'off']);
    expect(code).toBe(0);
    expect(stdout).toContain('x: shape [3, 4], softmax along dim -1 (3 slices of 4), dtype float32 (as the arrays are stored)');
    expect(stdout).toContain('arithmetic: x and g rounded to float32');
  });

  test('a fixture may name .npy files beside it, and check and the verifier read them', async () => {
    expect((await runMain(['check', join(NPY, 'fixture-with-npy.json')])).code).toBe(0);
    const { code, stdout } = await runMain(['--input', join(NPY, 'fixture-with-npy.json')]);
    expect(code).toBe(0);
    expect(stdout).toContain('expected: numpy');
  });

  test("relative paths are the working directory's: .npy values, and a fixture naming .npy files beside it", async () => {
    const values = await runMain(['--x', 'f4-F-be-3x4.npy', '--g', 'f4-C-le-3x4.npy', '--reference', 'off'], { cwd: NPY });
    expect(values.stderr).toBe('');
    expect(values.stdout).toContain('x: shape [3, 4], softmax along dim -1 (3 slices of 4), dtype float32 (as the arrays are stored)');
    const input = await runMain(['--input', 'fixture-with-npy.json'], { cwd: NPY });
    expect(input.code).toBe(0);
    expect(input.stdout).toContain('expected: numpy');
    expect((await runMain(['check', 'fixture-with-npy.json'], { cwd: NPY })).code).toBe(0);
  });

  test('a named .npy file may not escape the fixture folder: by .., by an absolute path, or by a link', async () => {
    const outside = folderWith({});
    copyFileSync(join(NPY, 'fixture-x.npy'), join(outside, 'secret.npy'));
    const dir = folderWith({});
    for (const name of ['fixture-x.npy', 'fixture-g.npy', 'fixture-softmax.npy', 'fixture-grad.npy']) copyFileSync(join(NPY, name), join(dir, name));
    symlinkSync(join(outside, 'secret.npy'), join(dir, 'link.npy'));
    const cases: [Record<string, unknown>, string][] = [
      [{ x: '../secret.npy' }, 'x names "../secret.npy", which is outside the document\'s folder'],
      [{ g: join(outside, 'secret.npy') }, `g names ${JSON.stringify(join(outside, 'secret.npy'))}: .npy files must be named relative to the document`],
      [{ x: 'link.npy' }, 'x names "link.npy", which leads outside the document\'s folder through a link'],
      [{ expected: { grad: 'missing.npy' } }, 'expected.grad: cannot read missing.npy: no such file'],
    ];
    for (const [fields, message] of cases) {
      const path = join(dir, 'case.json');
      writeFileSync(path, fixture(fields));
      const { code, stderr } = await runMain(['--input', path]);
      expect(stderr).toBe(`error: ${path}: ${message}\n`);
      expect(code).toBe(2);
    }
    writeFileSync(join(dir, 'case.json'), fixture({}));
    expect((await runMain(['--input', join(dir, 'case.json')])).code).toBe(0);
  });

  test('a broken .npy on the command line is one clear error', async () => {
    const dir = folderWith({ 'bad.npy': 'not numpy at all' });
    const { code, stderr } = await runMain(['--x', join(dir, 'bad.npy'), '--g', '1']);
    expect(stderr).toBe(`error: x (${join(dir, 'bad.npy')}) is not a valid .npy file: it does not start with \\x93NUMPY\n`);
    expect(code).toBe(2);
  });
});

describe('cross_entropy dumps from PyTorch (scripts/pytorch/generate-cross-entropy-dumps.py)', () => {
  test('an .npz with an int64 target and 0-d loss and g passes, told the smoothing it was made with; without it, fails', async () => {
    const told = await runMain(['--input', 'test/data/dumps/cross-entropy.npz', '--label-smoothing', '0.1', '--summary']);
    expect([told.code, told.stderr]).toEqual([0, '']);
    expect(told.stdout).toContain('target: class indices, reduction mean, label_smoothing 0.1, ignore_index -100, no weights; g 0.5');
    const untold = await runMain(['--input', 'test/data/dumps/cross-entropy.npz', '--summary']);
    expect(untold.code).toBe(1);
  });

  test('a safetensors file carries the smoothing, reduction and source in its metadata', async () => {
    const { code, stdout } = await runMain(['--input', 'test/data/dumps/cross-entropy.safetensors', '--summary']);
    expect(code).toBe(0);
    expect(stdout).toContain('label_smoothing 0.1');
    expect(stdout).toContain('expected: PyTorch 1.13.0a0 (Debian python3-torch): F.cross_entropy(x, target, label_smoothing=0.1)');
  });
});

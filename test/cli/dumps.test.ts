import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

/**
 * Dumps as PyTorch users save them (test/data/dumps, written by scripts/pytorch/generate-dumps.py
 * with PyTorch 1.13, the official safetensors package and numpy): right ones, and ones whose
 * gradient forgot ⟨s, g⟩.
 */
const DUMPS = 'test/data/dumps';
const dump = (name: string): string => join(DUMPS, name);
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;

const RIGHT: [string, string, string][] = [
  ['torch-bf16.safetensors', 'bfloat16', '[2, 50]'],
  ['torch-f16.safetensors', 'float16', '[3, 40]'],
  ['torch-f32.safetensors', 'float32', '[4, 30]'],
  ['torch-f32-savez.npz', 'float32', '[4, 30]'],
  ['torch-f16-savez_compressed.npz', 'float16', '[3, 40]'],
  ['torch-f64-savez_compressed.npz', 'float64', '[2, 20]'],
];

describe('--input with dumps from PyTorch', () => {
  test.each(RIGHT)('%s passes, in the dtype it was stored in', async (name, dtype, shape) => {
    const run = await runMain(['--input', dump(name), '--summary']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`x: shape ${shape}, softmax along dim -1`);
    expect(run.stdout).toContain(`dtype ${dtype} (as the arrays are stored)\n`);
    expect(lastLine(run.stdout)).toBe(
      'PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result',
    );
  });

  test('reads the source and dim from the safetensors metadata', async () => {
    const run = await runMain(['--input', dump('torch-f64-dim0.safetensors'), '--summary']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('x: shape [6, 3], softmax along dim 0 (3 slices of 6), dtype float64 (as the arrays are stored)');
    expect(run.stdout).toContain('expected: PyTorch 1.13.0a0 (Debian python3-torch): torch.softmax(x, dim=0) then .backward(g), float64, CPU\n');
  });

  test.each(['torch-bf16-forgot.safetensors', 'torch-f16-forgot.safetensors', 'torch-f32-forgot.safetensors', 'torch-f32-savez-forgot.npz'])(
    '%s, a gradient without ⟨s, g⟩, fails with exit 1',
    async (name) => {
      const run = await runMain(['--input', dump(name), '--summary']);
      expect(run.code).toBe(1);
      const [verdict, likely] = run.stdout.trimEnd().split('\n').slice(-2);
      expect(verdict).toMatch(/^FAIL: grad, expected vs exact \((\d+) \/ \1\); the expected values' sums/);
      expect(likely).toMatch(/^likely: the gradient is s ⊙ g \(⟨s, g⟩ left out\): explains (\d+) of \1 failing elements \[grad-missing-inner-product\]$/);
    },
  );

  test('--dtype wins over the stored dtype, and the header says so', async () => {
    const run = await runMain(['--input', dump('torch-f32-savez.npz'), '--dtype', 'fp64', '--summary']);
    expect(run.stdout).toContain('dtype float64 (from --dtype)\n');
  });

  test('--expected-grad joins a dump that has no gradient of its own, as a .npy in the dtype of the rest', async () => {
    const joined = await runMain(['--input', dump('torch-f32-nograd.npz'), '--expected-grad', dump('torch-f32-nograd-grad.npy'), '--source', 'torch']);
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toContain('dtype float32 (as the arrays are stored)');
    expect(joined.stdout).toContain('grad      expected vs exact                  0 / 75 (0.0%)');
    const alone = await runMain(['--input', dump('torch-f32-nograd.npz'), '--source', 'torch', '--summary']);
    expect(alone.stdout).not.toContain('grad      expected vs exact');
  });

  test('--expected-grad is refused for a dump that has a gradient already', async () => {
    const run = await runMain(['--input', dump('torch-f32-savez.npz'), '--expected-grad', dump('torch-f32-nograd-grad.npy')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: ${dump('torch-f32-savez.npz')} has expected grad values already: give them there or with --expected-grad, not both\n`);
  });
});

test('check says a dump is not a fixture, and how to make one', async () => {
  const run = await runMain(['check', dump('torch-f32-savez.npz')]);
  expect(run.code).toBe(2);
  expect(run.stdout).toContain(
    `a dump, not a fixture: record it first (softmax-verify record --input ${dump('torch-f32-savez.npz')} -o NAME.json), then check the fixture`,
  );
});

describe('record from dumps', () => {
  test('keeps a right bfloat16 dump as a fixture, with its dtype and source, and check passes it', async () => {
    const out = join(folderWith({}), 'bf16.json');
    const run = await runMain(['record', '--input', dump('torch-bf16.safetensors'), '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const fixture = parseInputDocument(readFileSync(out, 'utf8'), { requireFixture: true });
    expect(fixture).toMatchObject({ name: 'bf16', dtype: 'bfloat16', dim: -1 });
    expect(fixture.source).toBe('PyTorch 1.13.0a0 (Debian python3-torch): torch.softmax(x, dim=-1) then .backward(g), bfloat16, CPU');
    expect((await runMain(['check', out])).code).toBe(0);
  });

  test('refuses the dump whose gradient forgot ⟨s, g⟩ and writes nothing', async () => {
    const out = join(folderWith({}), 'forgot.json');
    const run = await runMain(['record', '--input', dump('torch-f32-savez-forgot.npz'), '--source', 'buggy kernel', '-o', out]);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      "FAIL: grad, expected vs exact (120 / 120); the expected values' sums (4 / 4 slices)",
      'likely: the gradient is s ⊙ g (⟨s, g⟩ left out): explains 120 of 120 failing elements [grad-missing-inner-product]',
    ]);
    expect(existsSync(out)).toBe(false);
  });
});

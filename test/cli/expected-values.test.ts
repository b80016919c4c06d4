import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

// x = [1, 2], g = [1, 0]: s = [0.26894142, 0.73105858], dx = s ⊙ (g − s_0) = [0.19661193, −0.19661193].
const RIGHT_GRAD = '0.19661193324148185,-0.19661193324148182';
// The same gradient with ⟨s, g⟩ forgotten: s ⊙ g.
const FORGOT_SG = '0.2689414213699951,0';

describe('expected values from the command line', () => {
  test('--expected-grad is judged against the exact result, labelled by --source', async () => {
    const run = await runMain(['--x', '1,2', '--g', '1,0', '--expected-grad', RIGHT_GRAD, '--source', 'my kernel']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('expected: my kernel\n');
    expect(run.stdout).toContain('grad      expected vs exact');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      'PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result',
    );
  });

  test('a gradient that forgot ⟨s, g⟩ fails with exit 1; --summary prints the verdict without the table', async () => {
    const run = await runMain(['--x', '1,2', '--g', '1,0', '--expected-grad', FORGOT_SG, '--summary']);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('index');
    expect(run.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      "FAIL: grad, expected vs exact (2 / 2); the expected values' sums (1 / 1 slices)",
      'likely: the gradient is s ⊙ g (⟨s, g⟩ left out): explains 2 of 2 failing elements [grad-missing-inner-product]',
    ]);
  });
});

describe('record checks what it records', () => {
  test('refuses a dump whose gradient forgot ⟨s, g⟩: exit 1, the summary, nothing written', async () => {
    const out = join(folderWith({}), 'bad.json');
    const run = await runMain(['record', '--x', '1,2', '--g', '1,0', '--expected-grad', FORGOT_SG, '--source', 'buggy kernel', '--name', 'bad', '-o', out]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('grad      expected vs exact');
    expect(run.stdout.trimEnd().split('\n').at(-2)).toMatch(/^FAIL: grad, expected vs exact \(2 \/ 2\)/);
    expect(run.stderr).toBe('not recorded: the expected values fail the verdict (above); --allow-mismatch records them anyway, for a known-bad case\n');
    expect(existsSync(out)).toBe(false);
  });

  test('--allow-mismatch records it anyway, and says so; check then fails on it', async () => {
    const out = join(folderWith({}), 'bad.json');
    const args = ['--x', '1,2', '--g', '1,0', '--expected-grad', FORGOT_SG, '--source', 'buggy kernel', '--name', 'bad', '-o', out];
    const run = await runMain(['record', ...args, '--allow-mismatch']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `wrote ${out}: fixture "bad", shape [2], dim -1, float64; expected values from buggy kernel (they fail the verdict: recorded as --allow-mismatch asked)\n`,
    );
    expect(JSON.parse(readFileSync(out, 'utf8')).expected).toEqual({ grad: [0.2689414213699951, 0] });
    expect((await runMain(['check', out])).code).toBe(1);
  });

  test('--rtol/--atol become the fixture\'s own tolerance, by which it is judged before it is written', async () => {
    // 0.1966 is the gradient to 4 decimals: beyond float64's default, within rtol 1e-3.
    const args = ['--x', '1,2', '--g', '1,0', '--expected-grad', '0.1966,-0.1966', '--source', 'printed to 4 decimals', '--name', 'loose'];
    const strict = await runMain(['record', ...args, '-o', join(folderWith({}), 'strict.json')]);
    expect(strict.code).toBe(1);
    const out = join(folderWith({}), 'loose.json');
    const loose = await runMain(['record', ...args, '--rtol', '1e-3', '--atol', '0', '-o', out]);
    expect(loose.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).tolerance).toEqual({ rtol: 0.001, atol: 0.0 });
    expect((await runMain(['check', out])).code).toBe(0);
  });

  test('records a right dump given with --expected-grad, and check passes it', async () => {
    const out = join(folderWith({}), 'good.json');
    const run = await runMain(['record', '--x', '1,2', '--g', '1,0', '--expected-grad', RIGHT_GRAD, '--source', 'my kernel', '--name', 'good', '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((await runMain(['check', out])).code).toBe(0);
  });
});

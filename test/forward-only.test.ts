import { describe, expect, test } from 'vitest';
import { toJson, verify } from '../src/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from './helpers/run-cli.js';
import { folderWith } from './helpers/temp-dir.js';

/**
 * Without g, the forward output is checked alone (onnxruntime and inference kernels give no
 * gradient): the methods' forward passes and the expected forward values are judged as ever, and
 * nothing of the gradient is compared, measured or shown, which the report says.
 */
describe('a forward-only check (no g)', () => {
  const softmax = [0.09003057317038045, 0.2447284710547976, 0.6652409557748218];

  test('judges the forward output alone, and the report says the gradient was not checked', async () => {
    const report = await verify({ x: [[1, 2, 3]], expected: { softmax: [softmax] } });
    expect(report.passed).toBe(true);
    expect(report.input.forwardOnly).toBe(true);
    expect(report.comparisons.map((c) => `${c.quantity} ${c.actual}`)).toEqual(['forward jacobian', 'forward expected']);
    expect(report.reference?.accuracy.every((a) => a.quantity === 'forward')).toBe(true);
    expect(report.invariants.expected?.gradSum).toBeUndefined();
    const json = JSON.parse(toJson(report));
    expect([json.input.forwardOnly, json.input.g, json.results.closedForm.grad]).toEqual([true, null, null]);
  });

  test('fails a wrong forward output, log_softmax too', async () => {
    expect((await verify({ x: [1, 2, 3], expected: { softmax: [0.09, 0.2447, 0.6652] } })).passed).toBe(false);
    const y = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804];
    expect((await verify({ op: 'log_softmax', x: [1, 2, 3], expected: { log_softmax: y } })).passed).toBe(true);
    expect((await verify({ op: 'log_softmax', x: [1, 2, 3], expected: { log_softmax: y.map((v) => v + 1e-3) } })).passed).toBe(false);
  });

  test('does no O(n²) work: a row of 300,000 logits runs its explicit forward pass, with no budget to lift', async () => {
    const x = Array.from({ length: 300_000 }, (_, i) => Math.sin(i));
    const report = await verify({ x }, { reference: 'off' });
    expect(report.jacobianSkipped).toBeUndefined();
    expect(report.methods).toContain('jacobian');
    expect(report.passed).toBe(true);
  });

  test('says so in the text, and refuses what needs a gradient', async () => {
    const run = await runMain(['--x', '1,2,3', '--expected-softmax', '0.09003057,0.24472847,0.66524096', '--summary']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('gradient: not checked, as no g was given (--g gives the upstream gradient): the softmax alone is checked\n');
    // No g, no cancellation in g_i − ⟨s, g⟩: the rule shown is the forward's alone.
    expect(run.stdout).toContain('close: |a − b| ≤ atol + rtol·|b| + arithmetic, rtol 1e-7, atol 1e-7 (float64 default)\n');
    expect(run.stdout).not.toContain('g_j');
    expect(run.stdout).toContain('PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result (the softmax alone: no g, so the gradient was not checked)');
    const fd = await runMain(['--x', '1,2,3', '--fd']);
    expect([fd.code, fd.stderr]).toEqual([2, 'error: finite differences check the gradient, and there is no g: give g, the upstream gradient\n']);
  });

  test('records a fixture without g or gradient, which check reads back forward only', async () => {
    const cwd = folderWith({});
    const recorded = await runMain(['record', '--x', '1,2,3', '--name', 'fwd', '-o', 'fwd.json'], { cwd });
    expect(recorded.code).toBe(0);
    const fixture = JSON.parse(readFileSync(join(cwd, 'fwd.json'), 'utf8'));
    expect(Object.keys(fixture)).not.toContain('g');
    expect(Object.keys(fixture.expected)).toEqual(['softmax']);
    expect(fixture.source).toContain('closed form s = exp(x − m) / Σ exp(x − m) in float64');
    const checked = await runMain(['check', 'fwd.json'], { cwd });
    expect([checked.code, checked.stdout]).toEqual([0, expect.stringContaining('PASS   fwd')]);
  });
});

import { describe, expect, test } from 'vitest';
import { growthExponent, runBench } from '../src/bench/run-bench.js';
import { renderBenchText } from '../src/output/render-bench.js';
import { runMain } from './helpers/run-cli.js';

describe('growthExponent', () => {
  test('fits the slope of log time against log n', () => {
    expect(growthExponent([{ n: 10, ms: 1 }, { n: 100, ms: 100 }, { n: 1000, ms: 10_000 }])).toBeCloseTo(2, 12);
    expect(growthExponent([{ n: 10, ms: 1 }, { n: 100, ms: 10 }])).toBeCloseTo(1, 12);
  });

  test('leaves out points too short to time, and needs two', () => {
    expect(growthExponent([{ n: 10, ms: 0.01 }, { n: 100, ms: 5 }])).toBeNull();
  });
});

describe('runBench', () => {
  test('times each method at each size and counts the Jacobian per entry', () => {
    const [jacobian, closedForm] = runBench(['jacobian', 'closedForm'], [200, 400]);
    expect(jacobian.unit).toBe('entry');
    expect(closedForm.unit).toBe('element');
    expect(jacobian.points.map((p) => p.n)).toEqual([200, 400]);
    for (const p of [...jacobian.points, ...closedForm.points]) {
      expect(p.ms).toBeGreaterThan(0);
      expect(p.perUnit).toBeCloseTo((p.ms * 1e6) / (jacobian.points.includes(p) ? p.n * p.n : p.n), 9);
    }
    expect(renderBenchText([jacobian, closedForm])).toContain('explicit Jacobian: time grows as n^');
  });
});

describe('softmax-verify bench', () => {
  test('prints JSON with a format version, every method asked for and its points', async () => {
    const { code, stdout } = await runMain(['bench', '--sizes', '1000,2000', '--methods', 'closedForm,accurate', '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.format).toBe('softmax-verify.bench/v1');
    expect(report.methods.map((m: { method: string }) => m.method)).toEqual(['closedForm', 'accurate']);
    expect(report.methods[0].points.map((p: { n: number }) => p.n)).toEqual([1000, 2000]);
  });

  test.each([
    [['bench', '--methods', 'magic'], 'error: --methods: unknown method "magic" (known: jacobian, closedForm, accurate, reference)'],
    [['bench', '--sizes', '10,abc'], 'error: --sizes must be whole numbers from 1 to 1e8, separated by commas, got "abc"'],
    [['bench', '--sizes', '200000'], 'error: --sizes: a Jacobian of n = 200000 is 4.0e+10 entries, over a minute here; add --allow-slow, or leave jacobian out of --methods'],
  ])('refuses %j', async (args, message) => {
    const { code, stderr } = await runMain(args);
    expect(stderr).toBe(`${message}\n`);
    expect(code).toBe(2);
  });
});

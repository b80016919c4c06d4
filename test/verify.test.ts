import { describe, expect, test } from 'vitest';
import { DEFAULT_TOLERANCE } from '../src/dtype.js';
import { judge } from '../src/core/judge.js';
import { roundToDType } from '../src/numeric/round-dtype.js';
import { f64 } from './helpers/fixtures.js';
import { runDesign } from './helpers/kernel-designs.js';
import { JACOBIAN_LEFT_OUT } from './helpers/left-out.js';
import { type VerifyInput } from '../src/core/report.js';

function input(x: number[][] | number[], g: number[][] | number[], extra: Partial<VerifyInput> = {}): VerifyInput {
  const shape = Array.isArray(x[0]) ? [x.length, (x[0] as number[]).length] : [x.length];
  const flat = (v: number[][] | number[]) => f64((v as (number | number[])[]).flat());
  const dim = extra.dim ?? -1;
  return {
    op: 'softmax', label: 'test',
    x: { shape, data: flat(x) },
    g: { shape, data: flat(g) },
    dim,
    axis: dim < 0 ? dim + shape.length : dim,
    dtype: 'float64',
    ...extra,
  };
}

describe('verify', () => {
  test('the two methods agree on a 1-D input and the report says so', () => {
    const report = judge(input([0.5, -1, 2], [1, 2, 3]));
    expect(report.passed).toBe(true);
    expect(report.comparisons.map((c) => [c.quantity, c.actual, c.expected])).toEqual([
      ['forward', 'jacobian', 'closedForm'],
      ['grad', 'jacobian', 'closedForm'],
    ]);
    expect(Array.from(report.rowClose)).toEqual([1, 1, 1]);
  });

  test('softmax runs along the requested dim: dim 0 normalises columns', () => {
    const report = judge(input([[0, 5], [0, 5]], [[1, 1], [1, 1]], { dim: 0 }));
    expect(Array.from(report.results.jacobian!.forward)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(report.results.closedForm.forward)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  test('softmax along the last dim normalises rows', () => {
    const report = judge(input([[0, 0], [1, 1]], [[1, 0], [0, 1]]));
    expect(Array.from(report.results.jacobian!.forward)).toEqual([0.5, 0.5, 0.5, 0.5]);
    // Row 0: s = [½, ½], g = [1, 0]: ⟨s, g⟩ = ½, dx = [¼, −¼]; row 1 mirrors it.
    expect(Array.from(report.results.closedForm.grad)).toEqual([0.25, -0.25, -0.25, 0.25]);
    expect(Array.from(report.results.jacobian!.grad)).toEqual([0.25, -0.25, -0.25, 0.25]);
  });

  test('uses the dtype default tolerance, then the input tolerance, then the flags', () => {
    expect(judge(input([1], [1], { dtype: 'float16' })).tolerance).toEqual(DEFAULT_TOLERANCE.float16);
    const own = { rtol: 0.5, atol: 0.25 };
    expect(judge(input([1], [1], { tolerance: own }))).toMatchObject({ tolerance: own, toleranceOrigin: 'input' });
    const flags = { rtol: 0, atol: 0 };
    expect(judge(input([1], [1], { tolerance: own }), { tolerance: flags })).toMatchObject({
      tolerance: flags,
      toleranceOrigin: 'flags',
    });
  });

  test('judges expected values against the exact result when the input has them, and fails a wrong one', () => {
    const good = judge(input([0, 0], [1, 0], { expected: { forward: f64([0.5, 0.5]), grad: f64([0.25, -0.25]) } }));
    expect(good.passed).toBe(true);
    expect(good.comparisons.map((c) => [c.quantity, c.actual, c.expected])).toEqual([
      ['forward', 'jacobian', 'closedForm'],
      ['forward', 'expected', 'exact'],
      ['grad', 'jacobian', 'closedForm'],
      ['grad', 'expected', 'exact'],
    ]);
    expect(Array.from(good.exact!.grad)).toEqual([0.25, -0.25]);

    const bad = judge(input([0, 0], [1, 0], { expected: { grad: f64([0.25, -0.2]) } }));
    expect(bad.passed).toBe(false);
    const failing = bad.comparisons.filter((c) => c.closeness.mismatched > 0);
    expect(failing.map((c) => [c.quantity, c.actual, c.expected])).toEqual([['grad', 'expected', 'exact']]);
    expect(failing[0].closeness.maxAbs).toEqual({ value: 0.04999999999999999, index: 1 });
    expect(failing[0].closeness.failures).toEqual([1]);
    expect(Array.from(bad.rowClose)).toEqual([1, 0]);
    // The gradient no longer sums to 0: that is flagged too.
    expect(bad.invariants.expected!.flaggedSlices).toBe(1);
  });

  test('fails expected softmax rows that sum to 1.01, though every element is within the allowance', () => {
    // A bfloat16 kernel that normalises by a sum 1% short: each probability is 1% high, inside
    // bfloat16's rtol of 1.6%, but the row sums beyond what rounding allows (half an epsilon).
    const x = [0.5, 1.25, -2, 3, 0, 1];
    const g = [1, 0, -1, 0.5, 2, 0.25];
    const exact = judge(input(x, g, { dtype: 'bfloat16' })).results.closedForm.forward;
    const softmax = exact.map((s) => roundToDType(s * 1.01, 'bfloat16'));
    const report = judge(input(x, g, { dtype: 'bfloat16', expected: { forward: softmax } }));
    expect(report.comparisons.map((c) => c.closeness.mismatched)).toEqual([0, 0, 0]);
    expect(report.invariants.expected!.softmaxSum!.ulps).toBeGreaterThan(report.invariants.expected!.softmaxSum!.bound);
    expect(report.invariants.expected!.flaggedSlices).toBe(1);
    expect(report.passed).toBe(false);
    // With a tolerance that says the values are only good to 2%, the sums may stray that far too.
    expect(judge(input(x, g, { dtype: 'bfloat16', expected: { forward: softmax }, tolerance: { rtol: 0.02, atol: 1e-5 } })).passed).toBe(true);
  });

  test('names a slice whose logits are all -Infinity and still passes, both methods giving NaN', () => {
    const report = judge(input([[1, 2], [-Infinity, -Infinity]], [[1, 0], [1, 0]]));
    expect(report.sliceNotes).toEqual([{ slice: '[1, :]', reason: 'all-masked' }]);
    expect(Array.from(report.results.jacobian!.forward.subarray(2))).toEqual([NaN, NaN]);
    expect(Array.from(report.results.closedForm.grad.subarray(2))).toEqual([NaN, NaN]);
    expect(report.passed).toBe(true);
  });

  test('names the slice along dim 0 with the colon in the first place', () => {
    const report = judge(input([[1, -Infinity], [2, -Infinity]], [[1, 1], [1, 1]], { dim: 0 }));
    expect(report.sliceNotes).toEqual([{ slice: '[:, 1]', reason: 'all-masked' }]);
  });

  test('a partly masked slice is no note: masked elements get probability 0 and gradient 0', () => {
    const report = judge(input([1, -Infinity, 2], [3, 100, 1]));
    expect(report.sliceNotes).toEqual([]);
    expect(report.results.jacobian!.forward[1]).toBe(0);
    expect(report.results.closedForm.grad[1]).toBe(0);
    expect(report.results.jacobian!.grad[1]).toBe(0);
  });

  test('differences are Jacobian minus closed form, 0 where both are NaN', () => {
    const report = judge(input([-Infinity, -Infinity], [1, 2]));
    expect(Array.from(report.differences.forward)).toEqual([0, 0]);
  });
});

describe('verify against a reference', () => {
  test('PyTorch issue 195684: the tolerance check passes while expected is 4.4e18 ulps off at index 0', async () => {
    const { computeReference } = await import('../src/ops/softmax/softmax-reference.js');
    const { loadBigNumberReference } = await import('../src/reference/bignumber-reference.js');
    const x = { shape: [2], data: f64([37.43, 0]) };
    const g = { shape: [2], data: f64([1, 0]) };
    // What PyTorch, JAX and TensorFlow return (fixtures/pytorch/issue-195684.json).
    const expected = { forward: f64([1, 5.5508250862537194e-17]), grad: f64([0, -5.5508250862537194e-17]) };
    const reference = await computeReference(x, g, 0, 'double-double', loadBigNumberReference);
    const report = judge({ op: 'softmax', label: 't', x, g, dim: -1, axis: 0, dtype: 'float64', expected }, { reference });
    expect(report.passed).toBe(true);
    const grad = (of: string) => report.reference!.accuracy.find((a) => a.quantity === 'grad' && a.of === of)!;
    // The true gradient at index 0 is 5.550825086253719e-17; its bit pattern read as an integer
    // (Python: struct.unpack('>q', struct.pack('>d', 5.550825086253719e-17))) is the distance from 0.
    expect(grad('expected').maxUlps).toEqual({ value: 4363987568310279475, index: 0 });
    expect(grad('expected').maxUlps.value).toBeGreaterThan(4e18);
    expect(grad('closedForm').maxUlps.index).toBe(0);
    expect(grad('jacobian').notCorrectlyRounded).toBe(2);
    const softmax = report.reference!.accuracy.filter((a) => a.quantity === 'forward');
    expect(softmax.map((a) => a.notCorrectlyRounded)).toEqual([0, 0, 0]);
  });
});

describe('the verdict at its edges', () => {
  test('two correct float16 methods 2 ulps apart agree: each side may be off by the whole allowance', () => {
    const report = judge(input([0, -5.79296875, -2.896484375], [0, 4672, 0], { dtype: 'float16' }));
    const grad = report.comparisons.find((c) => c.quantity === 'grad')!;
    expect(Math.abs(report.results.jacobian!.grad[1] - report.results.closedForm.grad[1])).toBeGreaterThan(0.01);
    expect(grad.closeness.mismatched).toBe(0);
    expect(report.passed).toBe(true);
  });

  test('a g near the largest float64 cannot overflow the allowance into letting anything through', () => {
    const report = judge(input([0, -740, -740], [1, 1.7e308, 1.7e308], { expected: { grad: f64([12345, -999, 42]) } }));
    expect(report.comparisons.find((c) => c.actual === 'expected')!.closeness.mismatched).toBe(3);
    expect(report.passed).toBe(false);
  });

  test('a float32 kernel that sums in float32 (as PyTorch and GPU kernels do) raises no flag on 50,257 flat logits by default', () => {
    const n = 50_257;
    const x = Array.from({ length: n }, (_, j) => Math.fround(Math.sin(j * 12.9898) * 0.01));
    const g = Array.from({ length: n }, (_, j) => Math.fround(Math.cos(j * 78.233)));
    const kernel = runDesign({ dtype: 'float32', compute: 'float32', accumulate: 'float32', forward: 'normalise', backward: 'closed-form', storedSoftmax: true, order: 'forward' }, x, g);
    const judged = (accumulate?: 'float64') =>
      judge(input(x, g, { dtype: 'float32', expected: { forward: f64(kernel.softmax), grad: f64(kernel.grad) } }), { jacobianSkipped: JACOBIAN_LEFT_OUT, arithmetic: { accumulate } });
    const report = judged();
    expect(report.arithmetic.accumulate).toBe('float32');
    // Its rows sum to 1 within 158 float32 epsilons: a sequential float32 sum of 50,257 terms.
    expect(report.invariants.expected!.softmaxSum!.ulps).toBeGreaterThan(100);
    expect(report.invariants.expected!.flaggedSlices).toBe(0);
    expect(report.passed).toBe(true);
    // Taken as summing in float64, it would be flagged.
    expect(judged('float64').invariants.expected!.flaggedSlices).toBe(1);
  });

  test("spelling out the dtype's default tolerance judges the sums as the default does", () => {
    const x = [0.5, 1.25, -2, 3, 0, 1];
    const g = [1, 0, -1, 0.5, 2, 0.25];
    const exact = judge(input(x, g, { dtype: 'bfloat16' })).results.closedForm.forward;
    const softmax = exact.map((s) => roundToDType(s * 1.01, 'bfloat16'));
    const report = judge(input(x, g, { dtype: 'bfloat16', expected: { forward: softmax } }), { tolerance: { rtol: 1.6e-2, atol: 1e-5 } });
    expect(report.toleranceOrigin).toBe('flags');
    expect(report.invariants.expected!.flaggedSlices).toBe(1);
  });
});

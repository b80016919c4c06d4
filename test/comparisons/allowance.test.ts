import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DTYPES, DEFAULT_TOLERANCE, UNIT_ROUNDOFF, type DType } from '../../src/dtype.js';
import { arithmeticShare, cancellationSize, roundingAllowances } from '../../src/ops/softmax/softmax-allowance.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { judge } from '../../src/core/judge.js';
import { f64 } from '../helpers/fixtures.js';
import { assertNoMismatch, noOpmathKernelCase, runDesign, softmaxDesigns, type KernelDesign } from '../helpers/kernel-designs.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';
import { JACOBIAN_LEFT_OUT } from '../helpers/left-out.js';
import { allowanceParts, allowed, bothSidesRounded } from '../../src/comparisons/allowance.js';

const ONE_SLICE = (n: number) => ({ length: n, stride: 1, count: 1 });

describe('roundingAllowances', () => {
  test('x = [0, 0], g = [1, 0] in float64: each term as docs/verdict.md states it', () => {
    const x = f64([0, 0]);
    const g = f64([1, 0]);
    const s = f64([0.5, 0.5]);
    const dx = f64([0.25, -0.25]);
    const tolerance = { rtol: 1e-7, atol: 1e-7 };
    const a = roundingAllowances({ x, g, softmax: s, grad: dx, layout: ONE_SLICE(2) }, arithmeticFor('float64'), tolerance);
    const u = 2 ** -53;
    // μ_j = (2|x_j − m| + 4 ln n + 12) u_c + 3 n u_a, with |x_j − m| = 0 and n = 2, as μ(1 + 2μ)
    // (above μ/(1 − μ), and without its division).
    const firstOrder = (4 * Math.log(2) + 12) * u + 6 * u;
    const mu = firstOrder * (1 + 2 * firstOrder);
    expect([arithmeticShare(a.grad, 0, 0), arithmeticShare(a.grad, 1, 0)]).toEqual([mu, mu]);
    // C_i = s_i Σ_j s_j |g_j| = 0.5 · 0.5.
    expect([cancellationSize(a.grad, 0, 0), cancellationSize(a.grad, 1, 0)]).toEqual([0.25, 0.25]);
    const parts = allowanceParts(a.grad, 1, -0.25);
    expect(parts.atol).toBe(1e-7);
    expect(parts.relative).toBe(0.25e-7);
    expect(parts.cancellation).toBe(0.25e-7);
    expect(parts.arithmetic).toBeCloseTo(mu * 0.25 + 0.5 * mu * 0.5, 30);
    expect(parts.total).toBe(allowed(a.grad, 1, -0.25));
    expect(parts.total).toBeCloseTo(1.5e-7 + 0.5 * mu, 22);
    // The softmax has no cancellation term: atol + (rtol + μ)·|b| + underflow.
    expect(allowanceParts(a.forward, 0, 0.5).cancellation).toBe(0);
    expect(allowed(a.forward, 0, 0.5)).toBeCloseTo(1e-7 + 0.5e-7 + 0.5 * mu, 22);
  });

  test('a masked logit is allowed atol alone: every correct kernel returns exactly 0 there', () => {
    const x = f64([1, -Infinity, 2]);
    const g = f64([3, 100, 1]);
    const s = f64([0.2689414213699951, 0, 0.7310585786300049]);
    const dx = f64([0.3932238664829637, 0, -0.3932238664829637]);
    const a = roundingAllowances({ x, g, softmax: s, grad: dx, layout: ONE_SLICE(3) }, arithmeticFor('float64'), { rtol: 1e-7, atol: 1e-7 });
    expect(arithmeticShare(a.grad, 1, 0)).toBe(0);
    expect(cancellationSize(a.grad, 1, 0)).toBe(0);
    expect(allowed(a.forward, 1, 0)).toBeCloseTo(1e-7, 25);
    expect(allowed(a.grad, 1, 0)).toBeCloseTo(1e-7, 25);
  });

  test('the cancellation term is what lets a correct bfloat16 gradient through where g_i − ⟨s, g⟩ cancels', () => {
    // One peaked bfloat16 row: s_0 ≈ 0.992 and g_0 close to ⟨s, g⟩, so dx_0 is small next to the
    // terms it is made of, and a kernel that stores s in bfloat16 is off by more than rtol·|dx_0|.
    const x = f64([8, 3.1875, 1, 0]);
    const g = f64([0.5, -0.75, 2, 1.25]);
    const design: KernelDesign = { dtype: 'bfloat16', compute: 'float32', accumulate: 'float32', forward: 'normalise', backward: 'closed-form', storedSoftmax: true, order: 'forward' };
    const kernel = runDesign(design, Array.from(x), Array.from(g));
    const report = judge({ op: 'softmax', label: 't', x: { shape: [4], data: x }, g: { shape: [4], data: g }, dim: -1, axis: 0, dtype: 'bfloat16', expected: { grad: f64(kernel.grad) } });
    const comparison = report.comparisons.find((c) => c.actual === 'expected')!;
    const exact = report.exact!.grad[0];
    const difference = Math.abs(kernel.grad[0] - exact);
    // Beyond the plain rule, within the one with the cancellation term.
    expect(difference).toBeGreaterThan(DEFAULT_TOLERANCE.bfloat16.atol + DEFAULT_TOLERANCE.bfloat16.rtol * Math.abs(exact));
    expect(comparison.closeness.mismatched).toBe(0);
    const { forward: softmax, grad } = report.results.closedForm;
    const allowances = roundingAllowances({ x, g, softmax, grad, layout: sliceLayout([4], 0) }, arithmeticFor('bfloat16'), DEFAULT_TOLERANCE.bfloat16);
    expect(allowanceParts(allowances.grad, 0, exact).cancellation).toBeGreaterThan(difference);
  });

  test('the sum of a long slice may stray by 3n units of the accumulation type, far beyond a fixed 4 ε', () => {
    const n = 50_257;
    const x = new Float64Array(n);
    const g = new Float64Array(n).fill(1);
    const s = new Float64Array(n).fill(1 / n);
    const dx = new Float64Array(n);
    const bound = (accumulate: DType) =>
      roundingAllowances({ x, g, softmax: s, grad: dx, layout: ONE_SLICE(n) }, arithmeticFor('float32', { accumulate }), DEFAULT_TOLERANCE.float32).slices
        .softmaxSum[0];
    // 2u_d + Σ_j s_j μ_j, μ_j = (4 ln n + 12) u_c + 3 n u_a: sums in float32 dominate it.
    const [ua, uc] = [UNIT_ROUNDOFF.float32, UNIT_ROUNDOFF.float32];
    const firstOrder = (4 * Math.log(n) + 12) * uc + 3 * n * ua;
    expect(bound('float32')).toBeCloseTo(2 * uc + firstOrder * (1 + 2 * firstOrder), 12);
    expect(bound('float32') / (2 * uc)).toBeGreaterThan(75_000);
    // Summed in float64, the float32 operations are what is left.
    expect(bound('float64') / (2 * uc)).toBeLessThan(30);
  });

  test('μ is infinite once the accumulation type cannot bound a sum (3n·u_a ≥ 1), and allows anything but a non-finite value', () => {
    const n = 100;
    const x = new Float64Array(n);
    const g = new Float64Array(n).fill(1);
    const s = new Float64Array(n).fill(1 / n);
    const a = roundingAllowances({ x, g, softmax: s, grad: new Float64Array(n), layout: ONE_SLICE(n) }, arithmeticFor('bfloat16', { accumulate: 'bfloat16' }), DEFAULT_TOLERANCE.bfloat16);
    expect(arithmeticShare(a.grad, 0, 0)).toBe(Infinity);
    expect(allowed(a.grad, 0, 0.5)).toBe(Infinity);
    // A |b| of 0 adds nothing, rather than NaN; the cancellation term's μ still makes it infinite.
    expect(allowed(a.forward, 0, 0)).toBeCloseTo(DEFAULT_TOLERANCE.bfloat16.atol, 12);
  });

  test("a rtol below the dtype's own storage rounding is raised to it: 2u_d on |b|, u_d on the cancellation term", () => {
    const a = roundingAllowances({ x: f64([0, 0]), g: f64([1, 0]), softmax: f64([0.5, 0.5]), grad: f64([0.25, -0.25]), layout: ONE_SLICE(2) }, arithmeticFor('float16'), { rtol: 0, atol: 0 });
    expect(a.grad.rtol).toBe(2 * UNIT_ROUNDOFF.float16);
    expect(a.grad.cancellationRtol).toBe(UNIT_ROUNDOFF.float16);
  });

  test('slices along dim 0 get the allowances their transposes get along the last dim', () => {
    const [rows, cols] = [3, 4];
    const x = f64(Array.from({ length: rows * cols }, (_, k) => Math.sin(k * 1.7) * 3));
    const g = f64(Array.from({ length: rows * cols }, (_, k) => Math.cos(k * 2.3)));
    const transpose = (v: Float64Array) => f64(Array.from({ length: rows * cols }, (_, k) => v[(k % rows) * cols + Math.floor(k / rows)]));
    const along = (xs: Float64Array, gs: Float64Array, shape: number[], axis: number) => {
      const report = judge({ op: 'softmax', label: 't', x: { shape, data: xs }, g: { shape, data: gs }, dim: axis, axis, dtype: 'bfloat16' });
      const { closedForm } = report.results;
      return roundingAllowances({ x: report.input.x.data, g: report.input.g.data, softmax: closedForm.forward, grad: closedForm.grad, layout: sliceLayout(shape, axis) }, arithmeticFor('bfloat16'), DEFAULT_TOLERANCE.bfloat16);
    };
    const strided = along(x, g, [rows, cols], 0);
    const contiguous = along(transpose(x), transpose(g), [cols, rows], 1);
    for (let k = 0; k < rows * cols; k++) {
      const t = (k % cols) * rows + Math.floor(k / cols);
      expect(allowed(strided.grad, k, 0.1)).toBe(allowed(contiguous.grad, t, 0.1));
      expect(allowanceParts(strided.grad, k, 0.1)).toEqual(allowanceParts(contiguous.grad, t, 0.1));
    }
    expect(Array.from(strided.slices.gradSum)).toEqual(Array.from(contiguous.slices.gradSum));
  });

  test('two rounded results, compared with each other, each get the whole rounding allowance', () => {
    const a = roundingAllowances({ x: f64([0, 0]), g: f64([1, 0]), softmax: f64([0.5, 0.5]), grad: f64([0.25, -0.25]), layout: ONE_SLICE(2) }, arithmeticFor('float16'), DEFAULT_TOLERANCE.float16);
    const one = allowanceParts(a.grad, 0, 0.25);
    const both = allowanceParts(bothSidesRounded(a.grad), 0, 0.25);
    expect(both.atol).toBe(one.atol);
    expect(both.total - both.atol).toBeCloseTo(2 * (one.total - one.atol), 18);
  });
});

/**
 * A random slice in the dtype: logits of a random spread (peaked rows with 30, flat with 0.5),
 * some masked, some tied, and an upstream gradient, constant now and then.
 */
function randomCase(dtype: DType) {
  const value = (limit: number) => fc.double({ min: -limit, max: limit, noNaN: true, noDefaultInfinity: true });
  return fc
    .record({
      n: fc.integer({ min: 1, max: 160 }),
      scale: fc.constantFrom(0.5, 3, 10, 30),
      masked: fc.double({ min: 0, max: 0.15, noNaN: true }),
      constantG: fc.boolean(),
    })
    .chain(({ n, scale, masked, constantG }) =>
      fc.tuple(
        fc.array(fc.tuple(value(1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: n, maxLength: n }),
        fc.array(value(2), { minLength: n, maxLength: n }),
        fc.constant({ scale, masked, constantG }),
      ),
    )
    .map(([logits, gradients, { scale, masked, constantG }]) => {
      const x = logits.map(([v, p], j) => (p < masked && j > 0 ? -Infinity : roundToDType(v * scale * 3, dtype)));
      const g = gradients.map((v) => roundToDType(constantG ? gradients[0] : v, dtype));
      return { x, g };
    });
}

const designs = softmaxDesigns;

describe.each(DTYPES)('the verdict in %s', (dtype) => {
  test('accepts the results of every correct kernel design, told its compute and accumulation types', () => {
    fc.assert(
      fc.property(randomCase(dtype), designs(dtype), ({ x, g }, design) => {
        const kernel = runDesign(design, x, g);
        const shape = [x.length];
        const report = judge(
          { op: 'softmax', label: 'design', x: { shape, data: f64(x) }, g: { shape, data: f64(g) }, dim: -1, axis: 0, dtype, expected: { forward: f64(kernel.softmax), grad: f64(kernel.grad) } },
          { arithmetic: { compute: design.compute, accumulate: design.accumulate } },
        );
        assertNoMismatch(report);
        expect(report.invariants.expected!.flaggedSlices).toBe(0);
        for (const method of report.methods) expect(report.invariants[method]!.flaggedSlices, method).toBe(0);
        expect(report.passed).toBe(true);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));
});

describe('the verdict at real sizes', () => {
  test.each([
    ['bfloat16', 'float32', 'float32', true],
    ['bfloat16', 'float32', 'bfloat16', true],
    ['float16', 'float32', 'float32', false],
    ['float16', 'float16', 'float32', true],
  ] as const)('accepts a %s kernel computing in %s, summing in %s (softmax stored: %s) over rows of 2,048', (dtype, compute, accumulate, storedSoftmax) => {
    const n = 2048;
    const rows = 4;
    const x: number[] = [];
    const g: number[] = [];
    const softmax: number[] = [];
    const grad: number[] = [];
    for (let r = 0; r < rows; r++) {
      // A deterministic spread of logits (about 6 wide) and gradients, different in each row.
      const xs = Array.from({ length: n }, (_, j) => roundToDType(6 * Math.sin(j * 12.9898 + r) * Math.cos(j * 0.37 * (r + 1)), dtype));
      const gs = Array.from({ length: n }, (_, j) => roundToDType(Math.cos(j * 78.233 + r * 3.1), dtype));
      const out = runDesign({ dtype, compute, accumulate, forward: 'normalise', backward: 'closed-form', storedSoftmax, order: 'lanes' }, xs, gs);
      x.push(...xs);
      g.push(...gs);
      softmax.push(...out.softmax);
      grad.push(...out.grad);
    }
    const shape = [rows, n];
    const report = judge(
      { op: 'softmax', label: 'real size', x: { shape, data: f64(x) }, g: { shape, data: f64(g) }, dim: -1, axis: 1, dtype, expected: { forward: f64(softmax), grad: f64(grad) } },
      { arithmetic: { compute, accumulate }, jacobianSkipped: JACOBIAN_LEFT_OUT },
    );
    const judged = report.comparisons.filter((c) => c.actual === 'expected');
    expect(judged.map((c) => c.closeness.mismatched)).toEqual([0, 0]);
    // Within the allowance with room to spare, not at its edge.
    expect(Math.max(...judged.map((c) => c.closeness.worst.value))).toBeLessThan(0.6);
    expect(report.invariants.expected!.flaggedSlices).toBe(0);
    expect(report.passed).toBe(true);
  });
});

describe('a kernel without float32 opmath', () => {
  const kernel = noOpmathKernelCase();
  const { dtype } = kernel;
  const input = { op: 'softmax' as const, label: 'no opmath', x: kernel.x, g: kernel.g, dim: -1, axis: 1, dtype, expected: kernel.expected };
  const skip = { jacobianSkipped: JACOBIAN_LEFT_OUT };

  test('fails the default arithmetic (float32 operations), and the report says which flag explains it', () => {
    const report = judge(input, skip);
    expect(report.passed).toBe(false);
    expect(report.comparisons.filter((c) => c.closeness.mismatched > 0).map((c) => c.actual)).toContain('expected');
    expect(report.passesComputingInDtype).toBe(true);
  });

  test('passes once --compute bfloat16 declares it', () => {
    const report = judge(input, { ...skip, arithmetic: { compute: dtype } });
    expect(report.passed).toBe(true);
    expect(report.passesComputingInDtype).toBeUndefined();
  });

  test('gives no such hint for a forgotten ⟨s, g⟩ term, which no arithmetic explains', () => {
    const forgotten = input.expected.forward.map((s, k) => roundToDType(s * kernel.g.data[k], dtype));
    const report = judge({ ...input, expected: { ...input.expected, grad: forgotten } }, skip);
    expect(report.passed).toBe(false);
    expect(report.passesComputingInDtype).toBe(false);
  });
});

import { describe, expect, test } from 'vitest';
import { DTYPES } from '../../src/dtype.js';
import { finiteDifferenceSlice } from '../../src/ops/softmax/finite-differences.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { judge } from '../../src/core/judge.js';
import { f64, loadFixture, pytorchFixtureNames } from '../helpers/fixtures.js';

function fd(x: number[], g: number[], dtype: (typeof DTYPES)[number] = 'float64') {
  const grad = new Float64Array(x.length);
  const tolerance = new Float64Array(x.length);
  finiteDifferenceSlice(f64(x), f64(g), arithmeticFor(dtype), grad, tolerance);
  return { grad: Array.from(grad), tolerance: Array.from(tolerance) };
}

// PyTorch's gradient for the seed example (fixtures/pytorch/seed.json).
const seed = loadFixture('seed.json');
const seedX = Array.from(seed.x!.data);
const seedG = Array.from(seed.g!.data);
const seedGrad = Array.from(seed.expected!.grad!);

describe('finiteDifferenceSlice', () => {
  test("lands on PyTorch's float64 gradient within its tolerance, and that tolerance is tight", () => {
    const { grad, tolerance } = fd(seedX, seedG);
    grad.forEach((v, i) => expect(Math.abs(v - seedGrad[i])).toBeLessThanOrEqual(tolerance[i]));
    expect(Math.max(...tolerance)).toBeLessThan(1e-7);
  });

  test('tells a wrong gradient apart: 1% off at one element is far outside the tolerance', () => {
    const { grad, tolerance } = fd(seedX, seedG);
    const wrong = seedGrad.map((v, i) => (i === 4 ? v * 1.01 : v));
    expect(Math.abs(grad[4] - wrong[4])).toBeGreaterThan(100 * tolerance[4]);
  });

  test.each(DTYPES)('takes a step that does not vanish in %s, and still brackets the true gradient', (dtype) => {
    const { grad, tolerance } = fd(seedX, seedG, dtype);
    grad.forEach((v, i) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(v - seedGrad[i])).toBeLessThanOrEqual(tolerance[i]);
    });
    expect(grad.some((v) => v !== 0)).toBe(true);
  });

  test('gives 0 for a masked element and NaN for a slice without a softmax', () => {
    expect(fd([0, -Infinity, 1], [1, 2, 3]).grad[1]).toBe(0);
    expect(fd([-Infinity, -Infinity], [1, 2]).grad.every(Number.isNaN)).toBe(true);
    expect(fd([NaN, 1], [1, 2]).grad.every(Number.isNaN)).toBe(true);
  });
});

describe('verify with finite differences', () => {
  test.each(pytorchFixtureNames())('%s: the closed form agrees with central differences', (name) => {
    const doc = loadFixture(name);
    const x = doc.x!;
    const axis = (doc.dim! + x.shape.length) % x.shape.length;
    const report = judge({ op: 'softmax', label: name, x, g: doc.g!, dim: doc.dim!, axis, dtype: doc.dtype! }, { finiteDifferences: true });
    expect(report.finiteDifferences!.mismatched).toBe(0);
    expect(report.passed).toBe(true);
  });
});

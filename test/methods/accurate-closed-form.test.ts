import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { accurateClosedFormSlice } from '../../src/ops/softmax/accurate-closed-form.js';
import { exactZeroGradients } from '../../src/numeric/exact-zero-gradients.js';
import { runAccurateMethod } from '../../src/ops/softmax/pipelines.js';
import { sliceLayout, sliceStart } from '../../src/numeric/slices.js';
import { ulpDistance } from '../../src/numeric/ulp.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { normaliseDim } from '../../src/tensor.js';
import { f64, pytorchFixtureNames, PYTORCH_FIXTURES } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout, randomSlice } from '../helpers/properties.js';


const mpmathNames = readdirSync(join(PYTORCH_FIXTURES, '..', 'mpmath'))
  .filter((name) => !name.startsWith('log-softmax-') && !name.startsWith('cross-entropy-'))
  .sort();
const mpmath = (name: string) => parseInputDocument(readFileSync(join(PYTORCH_FIXTURES, '..', 'mpmath', name), 'utf8'));

let bignumber: ReferenceSlice;
beforeAll(async () => {
  bignumber = await loadBigNumberReference();
});

function run(x: number[], g: number[]) {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  accurateClosedFormSlice(f64(x), f64(g), softmax, grad);
  return { softmax: Array.from(softmax), grad: Array.from(grad) };
}

/**
 * The stated bound, per element, against the correctly rounded reference: softmax within 1 ulp;
 * gradient within 2 ulps while κ = Σ_j s_j |g_j − g_p| / |g_i − ⟨s, g⟩| (how much g_i − ⟨s, g⟩
 * cancels, p the largest logit) is below 2^30, and in general a relative error of at most
 * (2 + κ · 2^-34) · 2^-52: relative, because where κ nears 2^86 the error may carry the result
 * across 0, past all the float64s crowded near it. Exact zeros must come out exactly 0; other
 * results below 2^-1022, where the spacing is absolute, are not measured.
 * Returns the worst softmax ulps, the worst gradient ulps where κ < 2^30, the worst gradient error
 * in units of its general bound (≤ 1 holds it), and the largest κ met.
 */
async function worstExcess(x: Float64Array, g: Float64Array, shape: number[], dim: number): Promise<{ softmax: number; grad: number; general: number; kappa: number }> {
  const axis = normaliseDim(dim, shape.length)!;
  const layout = sliceLayout(shape, axis);
  const mine = runAccurateMethod(x, g, layout);
  const reference = await computeReference({ shape, data: x }, { shape, data: g }, axis, 'double-double', async () => bignumber);
  let softmax = 0;
  let grad = 0;
  let general = 0;
  let largestKappa = 0;
  const { length, stride, count } = layout;
  for (let k = 0; k < count; k++) {
    const start = sliceStart(layout, k);
    const at = (j: number) => start + j * stride;
    let p = 0;
    for (let j = 1; j < length; j++) if (x[at(j)] > x[at(p)]) p = j;
    let mass = 0;
    for (let j = 0; j < length; j++) mass += reference.forward[at(j)] * Math.abs(g[at(j)] - g[at(p)]);
    const slice = (values: Float64Array) => Float64Array.from({ length }, (_, j) => values[at(j)]);
    const zeros = g.every(Number.isFinite) ? exactZeroGradients(slice(x), slice(g)) : undefined;
    for (let i = 0; i < length; i++) {
      const e = at(i);
      if (Number.isNaN(reference.forward[e])) continue;
      softmax = Math.max(softmax, ulpDistance(mine.forward[e], reference.forward[e], 'float64'));
      if (Math.abs(reference.grad[e]) < 2 ** -1022) {
        // An exact 0 must come out 0. A result that underflows has no relative scale left to
        // hold the κ bound to (its true value, 1e-340 say, rounds to 0), so it is not measured.
        if (zeros?.[i] === 1) grad = Math.max(grad, ulpDistance(mine.grad[e], 0, 'float64'));
        continue;
      }
      const kappa = mass / Math.abs(reference.grad[e] / reference.forward[e]);
      const relative = Math.abs(mine.grad[e] - reference.grad[e]) / Math.abs(reference.grad[e]);
      general = Math.max(general, relative / ((2 + kappa * 2 ** -34) * 2 ** -52));
      largestKappa = Math.max(largestKappa, kappa);
      if (kappa < 2 ** 30) grad = Math.max(grad, ulpDistance(mine.grad[e], reference.grad[e], 'float64'));
    }
  }
  return { softmax, grad, general, kappa: largestKappa };
}

describe('the accurate closed form', () => {
  test('PyTorch issue 195684: the gradient the plain methods return as 0 comes out within 1 ulp', () => {
    const { softmax, grad } = run([37.43, 0], [1, 0]);
    expect(softmax).toEqual([1, 5.5508250862537194e-17]);
    // The correctly rounded gradient is [5.550825086253719e-17, -5.550825086253719e-17] (mpmath).
    expect(ulpDistance(grad[0], 5.550825086253719e-17, 'float64')).toBeLessThanOrEqual(1);
    expect(ulpDistance(grad[1], -5.550825086253719e-17, 'float64')).toBeLessThanOrEqual(1);
  });

  test('gives an exact 0 for symmetric g over equal logits', () => {
    expect(run([3, 3, 3], [0, 1, 2]).grad[1]).toBe(0);
    // Groups 1, 2 and 0.5 all average g to 0.5: the gradient is exactly 0 where g is 0.5, and the
    // formula alone would leave rounding noise of 1e-17 there (4e18 ulps from 0).
    const { grad } = run([1, 2, 2, 0.5], [0.5, 1, 0, 0.5]);
    expect([grad[0], grad[3]]).toEqual([0, 0]);
    expect(grad[1]).toBeGreaterThan(0);
  });

  test('gives what the plain closed form gives for an infinite upstream gradient, and returns', () => {
    // It once looped forever here: the infinite g made the scale of D infinite.
    expect(run([0, 1], [Infinity, 1]).grad).toEqual([NaN, -Infinity]);
    expect(run([0, 1, 2], [1, NaN, 2]).grad.every(Number.isNaN)).toBe(true);
  });

  test('follows PyTorch on masks and on slices without a softmax', () => {
    expect(run([0, -Infinity, 0], [1, 5, 3])).toEqual({ softmax: [0.5, 0, 0.5], grad: [-0.5, 0, 0.5] });
    for (const x of [[-Infinity, -Infinity], [NaN, 1], [Infinity, 1]]) {
      const { softmax, grad } = run(x, [1, 2]);
      expect([...softmax, ...grad].every(Number.isNaN)).toBe(true);
    }
  });

  test.each(mpmathNames)(
    "lands within 2 ulps of mpmath's correctly rounded values in %s",
    (name) => {
      const doc = mpmath(name);
      const layout = sliceLayout(doc.x!.shape, normaliseDim(doc.dim!, doc.x!.shape.length)!);
      const mine = runAccurateMethod(doc.x!.data, doc.g!.data, layout);
      for (const quantity of ['forward', 'grad'] as const) {
        const expected = doc.expected![quantity]!;
        const worst = Math.max(...Array.from(mine[quantity], (v, i) => ulpDistance(v, expected[i], 'float64')));
        expect(worst, quantity).toBeLessThanOrEqual(2);
      }
    },
  );

  test.each([...pytorchFixtureNames().map((name) => `pytorch/${name}`), ...mpmathNames.map((name) => `mpmath/${name}`)])(
    'keeps the stated bound on %s: softmax within 1 ulp, grad within 2',
    async (path) => {
      const doc = parseInputDocument(readFileSync(join(PYTORCH_FIXTURES, '..', path), 'utf8'));
      const excess = await worstExcess(doc.x!.data, doc.g!.data, [...doc.x!.shape], doc.dim!);
      expect(excess).toMatchObject({ softmax: expect.toBeOneOf([0, 1]), grad: expect.toBeOneOf([0, 1, 2]) });
      expect(excess.general).toBeLessThanOrEqual(1);
    },
  );

  test('keeps the general bound where g_i sits within ulps of the weighted mean (κ up to 2^53)', async () => {
    // g_2 = s_1 / (s_0 + s_1) makes g_2 = ⟨s, g⟩ in real numbers; float64 g_2 near it leaves a
    // gradient that is all cancellation.
    const x = [0, 0.3, 0.7];
    const centre = Math.exp(0.3) / (1 + Math.exp(0.3));
    let largestKappa = 0;
    for (let steps = -4; steps <= 4; steps++) {
      const g = [0, 1, centre + steps * 2 ** -53];
      const excess = await worstExcess(f64(x), f64(g), [3], -1);
      expect(excess.general, `g_2 = ${g[2]}`).toBeLessThanOrEqual(1);
      largestKappa = Math.max(largestKappa, excess.kappa);
    }
    expect(largestKappa).toBeGreaterThan(2 ** 50);
  });

  test('keeps tiny probabilities times subnormal offsets finite (once NaN: their scaling overflowed)', async () => {
    const x = [637.7462997436523, -197.85024738311768, 0, -Infinity, 0, 0];
    const g = [0, 5e-324, 0, -5.397605346933922e-79, 0, 5e-324];
    expect(run(x, g).grad.every(Number.isFinite)).toBe(true);
    const excess = await worstExcess(f64(x), f64(g), [6], -1);
    expect(excess).toMatchObject({ softmax: expect.toBeOneOf([0, 1]), grad: expect.toBeOneOf([0, 1, 2]) });
  });

  test('keeps the stated bound on random slices', async () => {
    await fc.assert(
      fc.asyncProperty(randomSlice(16), async ([x, g]) => {
        const excess = await worstExcess(f64(x), f64(g), [x.length], -1);
        return excess.softmax <= 1 && excess.grad <= 2 && excess.general <= 1;
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(5));
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { accurateClosedFormSlice } from '../../src/math/accurate-closed-form.js';
import { runAccurateMethod } from '../../src/math/pipelines.js';
import { sliceLayout, sliceStart } from '../../src/math/slices.js';
import { ulpDistance } from '../../src/numeric/ulp.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/reference/compute-reference.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { normaliseDim } from '../../src/tensor.js';
import { f64, pytorchFixtureNames, PYTORCH_FIXTURES } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout, randomSlice } from '../helpers/properties.js';


const mpmathNames = readdirSync(join(PYTORCH_FIXTURES, '..', 'mpmath')).sort();
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
 * The stated bound, per gradient element: a relative error of at most (3 + 2κ) · 2^-52 (so at
 * most 3 + 2κ ulps), with κ = Σ_j s_j |g_j − g_p| / |g_i − ⟨s, g⟩| the condition of g_i − ⟨s, g⟩
 * as the method forms it (p the largest logit). Relative, not in ulps, because where κ nears 2^52
 * the error may carry the result across 0, past all the float64s crowded near it. Measured against
 * the correctly rounded reference, for results in the normal range: an exact 0 has no relative
 * scale (structural zeros are tested apart), and below 2^-1022 the spacing is absolute.
 * Returns the worst softmax ulps and the worst grad error in units of its bound (≤ 1 holds it).
 */
async function worstExcess(x: Float64Array, g: Float64Array, shape: number[], dim: number): Promise<{ softmax: number; grad: number }> {
  const axis = normaliseDim(dim, shape.length)!;
  const layout = sliceLayout(shape, axis);
  const mine = runAccurateMethod(x, g, layout);
  const reference = await computeReference({ shape, data: x }, { shape, data: g }, axis, 'double-double', async () => bignumber);
  let softmax = 0;
  let grad = -Infinity;
  const { length, stride, count } = layout;
  for (let k = 0; k < count; k++) {
    const start = sliceStart(layout, k);
    const at = (j: number) => start + j * stride;
    let p = 0;
    for (let j = 1; j < length; j++) if (x[at(j)] > x[at(p)]) p = j;
    let mass = 0;
    for (let j = 0; j < length; j++) mass += reference.softmax[at(j)] * Math.abs(g[at(j)] - g[at(p)]);
    for (let i = 0; i < length; i++) {
      const e = at(i);
      if (Number.isNaN(reference.softmax[e])) continue;
      softmax = Math.max(softmax, ulpDistance(mine.softmax[e], reference.softmax[e], 'float64'));
      if (Math.abs(reference.grad[e]) < 2 ** -1022) continue;
      const kappa = mass / Math.abs(reference.grad[e] / reference.softmax[e]);
      const relative = Math.abs(mine.grad[e] - reference.grad[e]) / Math.abs(reference.grad[e]);
      grad = Math.max(grad, relative / ((3 + 2 * kappa) * 2 ** -52));
    }
  }
  return { softmax, grad };
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
  });

  test('follows PyTorch on masks and on slices without a softmax', () => {
    expect(run([0, -Infinity, 0], [1, 5, 3])).toEqual({ softmax: [0.5, 0, 0.5], grad: [-0.5, 0, 0.5] });
    for (const x of [[-Infinity, -Infinity], [NaN, 1], [Infinity, 1]]) {
      const { softmax, grad } = run(x, [1, 2]);
      expect([...softmax, ...grad].every(Number.isNaN)).toBe(true);
    }
  });

  test.each(['issue-195684.json', 'near-one-hot.json', 'seed.json', 'subnormal-probabilities.json', 'exact-tie.json', 'equal-logits.json'])(
    "lands within 2 ulps of mpmath's correctly rounded values in %s, where the gradient is well conditioned",
    (name) => {
      const doc = mpmath(name);
      const layout = sliceLayout(doc.x!.shape, normaliseDim(doc.dim!, doc.x!.shape.length)!);
      const mine = runAccurateMethod(doc.x!.data, doc.g!.data, layout);
      for (const quantity of ['softmax', 'grad'] as const) {
        const expected = doc.expected![quantity]!;
        const worst = Math.max(...Array.from(mine[quantity], (v, i) => ulpDistance(v, expected[i], 'float64')));
        expect(worst, quantity).toBeLessThanOrEqual(2);
      }
    },
  );

  test.each([...pytorchFixtureNames().map((name) => `pytorch/${name}`), ...mpmathNames.map((name) => `mpmath/${name}`)])(
    'keeps the stated bound on %s: softmax within 2 ulps, grad within 3 + 2κ',
    async (path) => {
      const doc = parseInputDocument(readFileSync(join(PYTORCH_FIXTURES, '..', path), 'utf8'));
      const excess = await worstExcess(doc.x!.data, doc.g!.data, [...doc.x!.shape], doc.dim!);
      expect(excess.softmax).toBeLessThanOrEqual(2);
      expect(excess.grad).toBeLessThanOrEqual(1);
    },
  );

  test('keeps the stated bound on random slices', async () => {
    await fc.assert(
      fc.asyncProperty(randomSlice(16), async ([x, g]) => {
        const excess = await worstExcess(f64(x), f64(g), [x.length], -1);
        return excess.softmax <= 2 && excess.grad <= 1;
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(5));
});

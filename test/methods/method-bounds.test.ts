import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { DTYPES, EPSILON, SMALLEST_SUBNORMAL, type DType } from '../../src/dtype.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { roundedInput, judge } from '../../src/core/judge.js';
import { f64 } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';


/** The smallest normal number of each dtype: below it the spacing is absolute, not relative. */
const MIN_NORMAL: Readonly<Record<DType, number>> = { float64: 2 ** -1022, float32: 2 ** -126, float16: 2 ** -14, bfloat16: 2 ** -126 };

let bignumber: ReferenceSlice;
beforeAll(async () => {
  bignumber = await loadBigNumberReference();
});


/**
 * The bounds docs/numerics.md states for the two plain methods, per element of one slice, as relative
 * errors against the exact result. ε_c, ε_a, ε_d: the epsilons of the compute, accumulation and
 * stored types; τ_d and τ_c the stored and compute types' smallest subnormals; m the largest
 * logit; n the slice length; c_i = g_i − ⟨s, g⟩.
 *   softmax: r_i = (|x_i − m| + 2 ln n + 4) ε_c + n ε_a + ε_d + τ_d / s_i
 *   grad:    r_i + 3 ε_c + ε_d + τ_d / |dx_i| + (Σ_j |g_j| + n + 1) τ_c / |dx_i|
 *            + (Σ_j s_j |g_j| (r_j + 3 ε_c + n ε_a) + |g_i| (4 ε_c + s_i r_i)) / |c_i|
 * The last term is the cancellation in g_i − ⟨s, g⟩: unbounded as c_i goes to 0, which is what
 * PyTorch issue 195684 is. τ_d / s_i is a softmax stored below the normal range, whose few bits
 * backward then reads. The τ_c term is products that underflow in the compute type (s_i s_j of
 * two tiny probabilities): each is off by up to τ_c / 2 absolute, then multiplied by |g_j|. A long
 * run (seed 11, 70,209 float32 cases) found a gradient 75 units from the exact one at the bottom
 * of float32's normal range, which the bound without that term had not allowed for.
 */
function bounds(x: Float64Array, g: Float64Array, s: Float64Array, grad: Float64Array, dtype: DType) {
  const a = arithmeticFor(dtype);
  const [ec, ea, ed, tiny] = [EPSILON[a.compute], EPSILON[a.accumulate], EPSILON[dtype], SMALLEST_SUBNORMAL[dtype]];
  const n = x.length;
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  const softmax = Array.from(x, (v, i) => (Math.abs(v - m) + 2 * Math.log(n) + 4) * ec + n * ea + ed + tiny / s[i]);
  let spread = 0;
  for (let j = 0; j < n; j++) spread += s[j] * Math.abs(g[j]) * (softmax[j] + 3 * ec + n * ea);
  let gMagnitude = 0;
  for (const v of g) gMagnitude += Math.abs(v);
  const underflow = (gMagnitude + n + 1) * SMALLEST_SUBNORMAL[a.compute];
  const gradient = Array.from(x, (_, i) => {
    const centred = Math.abs(grad[i] / s[i]);
    const cancellation = (spread + Math.abs(g[i]) * (4 * ec + s[i] * softmax[i])) / centred;
    return softmax[i] + 3 * ec + ed + (tiny + underflow) / Math.abs(grad[i]) + cancellation;
  });
  return { softmax, gradient };
}

describe.each(DTYPES)('the plain methods in %s', (dtype) => {
  test('stay within the stated bounds of the correctly rounded result on random slices', async () => {
    const slice = fc.integer({ min: 1, max: 24 }).chain((n) =>
      fc.tuple(
        fc.array(fc.integer({ min: -40 * 256, max: 40 * 256 }).map((k) => k / 256), { minLength: n, maxLength: n }),
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(slice, async ([xs, gs]) => {
        const input = roundedInput({ op: 'softmax', label: 'p', x: { shape: [xs.length], data: f64(xs) }, g: { shape: [gs.length], data: f64(gs) }, dim: -1, axis: 0, dtype });
        const { x, g } = input;
        const reference = await computeReference(x, g, 0, 'double-double', async () => bignumber);
        const report = judge(input);
        const allowed = bounds(x.data, g.data, reference.forward, reference.grad, dtype);
        for (const method of ['jacobian', 'closedForm'] as const) {
          const result = report.results[method]!;
          for (let i = 0; i < xs.length; i++) {
            const exact = { forward: reference.forward[i], grad: reference.grad[i] };
            for (const quantity of ['forward', 'grad'] as const) {
              const truth = roundToDType(exact[quantity], dtype);
              if (Math.abs(truth) < MIN_NORMAL[dtype] || Math.abs(exact[quantity]) < MIN_NORMAL[dtype]) continue;
              const relative = Math.abs(result[quantity][i] - exact[quantity]) / Math.abs(exact[quantity]);
              const bound = quantity === 'forward' ? allowed.softmax[i] : allowed.gradient[i];
              if (!(relative <= bound)) return false;
            }
          }
        }
        return true;
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(10));

  test('keep the invariants within 4 units of the epsilon on slices of up to 24 moderate logits', () => {
    const report = judge({ op: 'softmax', label: 'i', x: { shape: [3, 8], data: f64(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 5)) }, g: { shape: [3, 8], data: f64(Array.from({ length: 24 }, (_, i) => Math.cos(i * 1.3))) }, dim: -1, axis: 1, dtype });
    for (const method of report.methods) expect(report.invariants[method]!.flaggedSlices, method).toBe(0);
  });
});

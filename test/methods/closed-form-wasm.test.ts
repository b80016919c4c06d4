import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { closedFormFloat64Scalar } from '../../src/ops/softmax/closed-form-float64-scalar.js';
import { CHUNK, closedFormFloat64Kernel, closedFormFloat64Slice, closedFormKernel, KERNEL_FROM } from '../../src/ops/softmax/closed-form-wasm.js';
import { runAccurateMethod, runClosedFormMethod } from '../../src/ops/softmax/pipelines.js';
import { accurateExp } from '../../src/numeric/accurate-exp.js';
import { kernelExp } from '../../src/numeric/kernel-exp.js';
import { ulpDistance } from '../../src/numeric/ulp.js';
import { KERNEL_DATA_START } from '../../src/wasm/closed-form-kernel.generated.js';
import { f64 } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, PROPERTY_RUNS, PROPERTY_SEED, propertyTimeout, randomSlice } from '../helpers/properties.js';

/** exp of every argument through the kernel's own paths (vector, and scalar for blocks with a lane below −700). */
function kernelExpViaWasm(t: Float64Array): Float64Array {
  const k = closedFormKernel();
  const start = KERNEL_DATA_START / 8;
  const needed = 8 * (start + 2 * t.length) - k.memory.buffer.byteLength;
  if (needed > 0) k.memory.grow(Math.ceil(needed / 65536));
  const view = new Float64Array(k.memory.buffer);
  view.set(t, start);
  k.expArray(8 * start, 8 * (start + t.length), t.length);
  return view.slice(start + t.length, start + 2 * t.length);
}

/** A deterministic stream of doubles in [0, 1) with 53 random bits (mulberry32, twice per value). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  return () => (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
}

/**
 * |y − exp(t)| in units of the float64 spacing at exp(t) (2^-1074 below the normal range), from
 * the accurate exponential (relative error below 2^-88, tested against 60 digits of decimal.js).
 * Worked in the scaled domain, exp(t) = 2^k (hi + lo), so nothing underflows on the way.
 */
function ulpError(t: number, y: number): number {
  const { k, hi, lo } = accurateExp(t, 0, { k: 0, hi: 0, lo: 0 });
  if (hi === 0) return y === 0 ? 0 : Infinity;
  // hi + lo lies within 2^-12 of [1, 2): its binade is k − 1, k or k + 1.
  const above = (edge: number): boolean => hi > edge || (hi === edge && lo >= 0);
  const binade = k + (above(2) ? 1 : above(1) ? 0 : -1);
  const spacingExponent = Math.max(binade - 52, -1074);
  // y · 2^-k, exactly: in two power-of-two steps, since 2^-k alone may overflow.
  const half = Math.trunc(-k / 2);
  const scaled = y * 2 ** half * 2 ** (-k - half);
  return Math.abs(scaled - hi - lo) * 2 ** (k - spacingExponent);
}

/** The kernel exponential's bound in ulps, derived in its test below. */
const EXP_BOUND = 0.5 + 2 ** -5.5;

describe('the kernel exponential', () => {
  // The bound: 0.5 ulp for the final rounding of scale + scale·tmp, plus tmp's own error relative
  // to scale: Taylor's truncation r⁶/720 ≤ 2^-60.7 (|r| ≤ ln2/256), the roundings inside tmp and
  // of scale·tmp (|tmp| < 2^-8.4, so each under 2^-61.4; four of them) and the reduction's (the
  // last addition into r, under 2^-61.4): in all under 2^-58.6. The result is at least scale·0.997
  // and an ulp is at least 2^-53 of it, so that is at most 2^-5.6 ulp; the scaled path for
  // subnormal results rounds once to the subnormal spacing with the same error or less.
  // PROPERTY_RUNS=30000 (216 million arguments) found 0.5126 ulp at worst (t = −545.569).

  test('is within 0.522 ulp of exp over two million arguments across its range (a tenth by default; PROPERTY_RUNS=30000: two hundred million)', () => {
    const random = uniform(PROPERTY_SEED);
    const times = Math.max(1, Math.round(PROPERTY_RUNS / 300));
    // Fewer than 300 runs (the default, unless SOFTMAX_VERIFY_SLOW_TESTS=1) take that share of each range.
    const share = Math.min(1, PROPERTY_RUNS / 300);
    const ranges: [number, number, number][] = [
      [-700, 0, 1.5 * 2 ** 20], // the vector path, uniformly in t
      [-1, 0, 2 ** 18], // the probabilities of close logits
      [-(2 ** -10), 0, 2 ** 16], // near 1, where k = 0 and r is t itself
      [-745.2, -700, 2 ** 18], // the scaled path: the bottom of the normal range, then subnormal results rounded once
    ];
    let worst = 0;
    let worstAt = 0;
    for (const [low, high, n] of ranges.flatMap((range) => new Array<[number, number, number]>(times).fill(range))) {
      const t = Float64Array.from({ length: Math.ceil(n * share) }, () => low + (high - low) * random());
      const y = kernelExpViaWasm(t);
      for (let i = 0; i < t.length; i++) {
        const error = ulpError(t[i], y[i]);
        if (error > worst) [worst, worstAt] = [error, t[i]];
      }
    }
    expect(worst, `at t = ${worstAt}`).toBeLessThanOrEqual(EXP_BOUND);
  }, propertyTimeout(10));

  test('gives exp(0) = 1, exp(−0) = 1 and 0 for −Infinity and far below the range, exactly', () => {
    expect(Array.from(kernelExpViaWasm(f64([0, -0, -Infinity, -1e300, -745.2, -746, -1e-320, 0])))).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
  });

  test('rounds correctly at the bottom of the subnormal range: about 2^-1074, just over and just under 2^-1075', () => {
    // ln(2^-1074) = −744.44007..., ln(2^-1075) = −745.13321...
    const y = kernelExpViaWasm(f64([-744.44, -745.13, -745.14, 0]));
    expect(Array.from(y)).toEqual([5e-324, 5e-324, 0, 1]);
  });

  test('gives every lane the same value whether its block took the vector path or the scalar one', () => {
    const random = uniform(7);
    const t = Float64Array.from({ length: 4096 }, () => -700 * random());
    const vector = kernelExpViaWasm(t);
    // The same arguments, each block of four given a lane below −700, which sends it to the scalar path.
    const mixed = new Float64Array(t.length * 2);
    for (let b = 0; b < t.length / 2; b++) mixed.set([t[2 * b], t[2 * b + 1], -720, -720], 4 * b);
    const scalar = kernelExpViaWasm(mixed);
    const fromScalar = Float64Array.from(t, (_, i) => scalar[4 * (i >> 1) + (i & 1)]);
    expect(fromScalar).toEqual(vector);
  });
});

type Route = typeof closedFormFloat64Slice;

function kernelClosedForm(x: number[] | Float64Array, g: number[] | Float64Array, route: Route = closedFormFloat64Slice) {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  route(f64(Array.from(x)), f64(Array.from(g)), softmax, grad);
  return { softmax, grad };
}

/**
 * Ulps of float64 between the kernel's s_i and the accurate method's (itself within 1 ulp of the
 * exact value). s_i = e_i · fl(1/Σ) carries exp's error (under 0.522 · 2^-52 relative), the roundings of 1/Σ
 * and of the product (2^-53 each) and Σ's relative error, at most L · 2^-53 for L additions on
 * the longest path: a quarter of a chunk in one lane, two to combine the lanes, three for the
 * remainder, one per further chunk. A relative error δ is at most δ · 2^53 ulps.
 */
function softmaxUlpBound(n: number): number {
  const additions = Math.ceil(Math.min(n, CHUNK) / 4) + 2 + 3 + Math.ceil(n / CHUNK);
  return 2 * EXP_BOUND + 2 + additions + 1;
}

describe.each([
  ['the kernel', closedFormFloat64Kernel],
  ['its JavaScript twin', closedFormFloat64Scalar],
] as [string, Route][])('the float64 closed form through %s', (_, route) => {
  test('stays within its stated bound of the accurate method for every length 1 to 9 (the kernel\'s scalar remainder)', () => {
    for (let n = 1; n <= 9; n++) {
      const x = Array.from({ length: n }, (_, i) => i + 1);
      const g = Array.from({ length: n }, (_, i) => i + 11);
      const ours = kernelClosedForm(x, g, route);
      const accurate = runAccurateMethod(f64(x), f64(g), { length: n, stride: 1, count: 1 });
      for (let i = 0; i < n; i++) expect(ulpDistance(ours.softmax[i], accurate.forward[i], 'float64'), `n ${n} softmax[${i}]`).toBeLessThanOrEqual(softmaxUlpBound(n));
    }
  });

  test('gives masked (−Infinity) logits exactly 0 probability and 0 gradient', () => {
    const { softmax, grad } = kernelClosedForm([1, -Infinity, 2, -Infinity, 3], [5, 1e300, 6, -7, 8], route);
    expect(softmax[1]).toBe(0);
    expect(softmax[3]).toBe(0);
    expect(grad[1]).toBe(0);
    expect(grad[3] === 0).toBe(true); // −0 here: 0 times a negative g_j − ⟨s, g⟩
    expect(softmax[0] + softmax[2] + softmax[4]).toBeCloseTo(1, 15);
  });

  test.each([
    ['a NaN logit', [1, NaN, 2, 3, 4]],
    ['a +Infinity logit', [1, Infinity, 2, 3, 4]],
    ['only −Infinity logits', [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]],
  ])('with %s gives NaN throughout, as PyTorch does', (_, x) => {
    const ours = kernelClosedForm(x, [1, 2, 3, 4, 5], route);
    expect(ours.softmax.every(Number.isNaN)).toBe(true);
    expect(ours.grad.every(Number.isNaN)).toBe(true);
  });

  test.each([
    [Infinity, -Infinity],
    [-Infinity, Infinity],
  ])('with g_2 = %d: ⟨s, g⟩ is %d too, so dx_j = ∓Infinity elsewhere and NaN (∞ − ∞) at 2', (bad, others) => {
    const { grad } = kernelClosedForm([0.5, 1, 1.5, 2, 2.5, 3], [1, 2, bad, 4, 5, 6], route);
    expect(Array.from(grad)).toEqual([others, others, NaN, others, others, others]);
  });

  test('with a NaN in g gives NaN throughout', () => {
    const { grad } = kernelClosedForm([0.5, 1, 1.5, 2, 2.5, 3], [1, 2, NaN, 4, 5, 6], route);
    expect(grad.every(Number.isNaN)).toBe(true);
  });
});

describe('the float64 closed form on long slices', () => {
  test('does not overflow where Σ e_j g_j would: 10,000 equal logits, g near the float64 limit', () => {
    const n = 10_000;
    const x = new Array<number>(n).fill(3);
    const g = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1e308 : 0.5e308));
    const { softmax, grad } = kernelClosedForm(x, g);
    expect(softmax[0]).toBe(1e-4);
    // ⟨s, g⟩ = 0.75e308: dx_i = 1e-4 · (±0.25e308), within a few ulps.
    expect(Math.abs(grad[0] - 0.25e304) / 0.25e304).toBeLessThan(2 ** -40);
    expect(Math.abs(grad[1] + 0.25e304) / 0.25e304).toBeLessThan(2 ** -40);
  });

  test('returns the same bits for a slice wherever it sits in a batch, across chunk boundaries', () => {
    const n = 2 * CHUNK + 5;
    const random = uniform(3);
    const row = Float64Array.from({ length: n }, () => 40 * random() - 20);
    const upstream = Float64Array.from({ length: n }, () => random() - 0.5);
    const alone = kernelClosedForm(row, upstream);
    const x = new Float64Array(3 * n);
    const g = new Float64Array(3 * n);
    for (let b = 0; b < 3; b++) {
      x.set(b === 1 ? row : row.map((v) => v + b), b * n);
      g.set(upstream, b * n);
    }
    const batch = runClosedFormMethod(x, g, { length: n, stride: 1, count: 3 });
    expect(batch.forward.subarray(n, 2 * n)).toEqual(alone.softmax);
    expect(batch.grad.subarray(n, 2 * n)).toEqual(alone.grad);
  });

  test('stays within its stated bound of the accurate method on a long slice, across chunks', () => {
    const n = 3 * CHUNK + 7;
    const random = uniform(11);
    const x = Float64Array.from({ length: n }, () => 16 * random() - 8);
    const g = Float64Array.from({ length: n }, () => random());
    const ours = kernelClosedForm(x, g);
    const accurate = runAccurateMethod(x, g, { length: n, stride: 1, count: 1 });
    for (let i = 0; i < n; i++) if (!(ulpDistance(ours.softmax[i], accurate.forward[i], 'float64') <= softmaxUlpBound(n))) expect.fail(`softmax[${i}]`);
  });
});

describe('the kernel\'s JavaScript twin, for slices shorter than KERNEL_FROM', () => {
  test('computes the kernel exponential\'s bits, on every path (fast, scaled, subnormal, zero)', () => {
    const random = uniform(PROPERTY_SEED + 1);
    const t = Float64Array.from({ length: 100_000 }, (_, i) => {
      const u = random();
      return [-800 * u, -50 * u, -(u ** 8), -700 - 46 * u, 0][i % 5];
    });
    t.set([-0, -Infinity, -745.2, -745.1999999999999, -700, -700.0000000000001, -708.3964185322641, -1e-320], 0);
    expect(Float64Array.from(t, (v) => kernelExp(v))).toEqual(kernelExpViaWasm(t));
  });

  test('gives the kernel\'s bits for random slices, masked, wide and subnormal ones included', () => {
    const slice = fc.tuple(randomSlice(2 * KERNEL_FROM), fc.constantFrom(1, 1e-300, 1e300));
    fc.assert(
      fc.property(slice, ([[xs, gs], gScale]) => {
        const x = f64(xs);
        const g = f64(gs.map((v) => v * gScale));
        const twin = { softmax: new Float64Array(x.length), grad: new Float64Array(x.length) };
        const kernel = { softmax: new Float64Array(x.length), grad: new Float64Array(x.length) };
        closedFormFloat64Scalar(x, g, twin.softmax, twin.grad);
        closedFormFloat64Kernel(x, g, kernel.softmax, kernel.grad);
        expect(twin.softmax).toEqual(kernel.softmax);
        expect(twin.grad).toEqual(kernel.grad);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(5));

});


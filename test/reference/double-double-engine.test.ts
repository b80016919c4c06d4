import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { forEachSlice, sliceLayout } from '../../src/numeric/slices.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import { doubleDoubleReferenceSlice } from '../../src/ops/softmax/double-double-reference.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { normaliseDim } from '../../src/tensor.js';
import { f64 } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout, randomSlice } from '../helpers/properties.js';
import { bitDifferences } from '../helpers/reference-run.js';
import { runs } from '../helpers/slow-tests.js';

/**
 * The double-double engine's contract: every slice it calls certain is the correctly rounded
 * result, so bit for bit what BigNumber (the judge) gives, signed zeros included; where it cannot
 * decide, it says so, and computeReference hands the slice to BigNumber.
 */
let bignumber: ReferenceSlice;
beforeAll(async () => {
  bignumber = await loadBigNumberReference();
});

interface Run {
  certain: boolean;
  softmax: Float64Array;
  grad: Float64Array;
}

function doubleDouble(x: Float64Array, g: Float64Array): Run {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  return { certain: doubleDoubleReferenceSlice(x, g, softmax, grad), softmax, grad };
}

function judge(x: Float64Array, g: Float64Array): Run {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  bignumber(x, g, softmax, grad);
  return { certain: true, softmax, grad };
}

/** Where double-double is certain, its bits and BigNumber's; [] when they agree (or it is not). */
function disagreement(x: Float64Array, g: Float64Array): { certain: boolean; softmax: number[]; grad: number[] } {
  const a = doubleDouble(x, g);
  if (!a.certain) return { certain: false, softmax: [], grad: [] };
  const b = judge(x, g);
  return { certain: true, softmax: bitDifferences(a.softmax, b.softmax), grad: bitDifferences(a.grad, b.grad) };
}

// Every fixture of the project (fixtures/**.json), double-double on every slice; BigNumber, at
// 0.2 ms an element, on at most two slices a fixture (the first and one halfway) of at most 4096 elements, so
// that the file takes seconds (by default one of the two, the first or the halfway one by turns from
// fixture to fixture; both with SOFTMAX_VERIFY_SLOW_TESTS=1). REFERENCE_FIXTURES=all compares every slice (about a minute).
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const fixtureFiles = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
  // softmax's fixtures: the log_softmax and cross_entropy ones are other ops'.
  .filter((name) => name.endsWith('.json') && !name.includes('log-softmax-') && !name.includes('cross-entropy-'))
  .sort();
const everySlice = process.env.REFERENCE_FIXTURES === 'all';

describe('the double-double engine on the fixtures', () => {
  test.each(fixtureFiles)('is certain only where it equals BigNumber bit for bit: %s', (name) => {
    const doc = parseInputDocument(readFileSync(join(FIXTURES, name), 'utf8'));
    if (doc.x === undefined || doc.g === undefined) return;
    const layout = sliceLayout(doc.x.shape, normaliseDim(doc.dim ?? -1, doc.x.shape.length)!);
    const n = doc.x.data.length;
    const [s1, d1, s2, d2] = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const uncertain = new Set<number>();
    forEachSlice(layout, [doc.x.data, doc.g.data], [s1, d1], ([x, g], [s, d], k) => {
      if (!doubleDoubleReferenceSlice(x, g, s, d)) uncertain.add(k);
    });
    const step = everySlice ? 1 : Math.max(1, Math.ceil(layout.count / 2));
    const candidates = Array.from({ length: layout.count }, (_, k) => k).filter((k) => k % step === 0);
    const turn = fixtureFiles.indexOf(name);
    const picked = new Set(Array.from({ length: runs(candidates.length) }, (_, j) => candidates[(turn + j) % candidates.length]));
    const compared = (k: number) => everySlice || (picked.has(k) && layout.length <= 4096);
    const differing: number[] = [];
    forEachSlice(layout, [doc.x.data, doc.g.data, s1, d1], [s2, d2], ([x, g, s0, d0], [s, d], k) => {
      if (!compared(k) || uncertain.has(k)) return;
      bignumber(x, g, s, d);
      if (bitDifferences(s0, s).length > 0 || bitDifferences(d0, d).length > 0) differing.push(k);
    });
    expect(differing).toEqual([]);
  }, 120_000);
});

/**
 * Slices made to be hard: near-ties in g (g_i close to ⟨s, g⟩), one dominant logit (PyTorch
 * issue 195684, x = [37.43, 0], g = [1, 0]), g near the float64 limit and subnormal, masks,
 * probabilities in and below the subnormals, spreads beyond 4096 (the exponential's BigInt
 * reduction) and beyond 2^40 (far logits: torch.finfo.min masks, differences that overflow).
 */
const hardSlice: fc.Arbitrary<[number[], number[]]> = fc.oneof(
  randomSlice(12),
  // One dominant logit, g of the shape, perturbed.
  fc
    .tuple(fc.integer({ min: 2, max: 8 }), fc.double({ min: 20, max: 60, noNaN: true }), fc.double({ min: -1e-3, max: 1e-3, noNaN: true }))
    .map(([n, top, tilt]): [number[], number[]] => [
      Array.from({ length: n }, (_, i) => (i === 0 ? top : 0)),
      Array.from({ length: n }, (_, i) => (i === 0 ? 1 : tilt * i)),
    ]),
  // Near-ties: equal logits with g of nearly opposite sign, others small.
  fc
    .tuple(
      fc.integer({ min: 3, max: 10 }),
      fc.double({ min: 1, max: 1e3, noNaN: true }),
      fc.integer({ min: -8, max: 8 }),
      fc.double({ min: -40, max: 40, noNaN: true }),
    )
    .map(([n, big, ulps, other]): [number[], number[]] => {
      const x = Array.from({ length: n }, (_, i) => (i < 2 ? 37.43 : i === 2 ? other : 0));
      const g = Array.from({ length: n }, (_, i) => (i === 0 ? big : i === 1 ? -big * (1 + ulps * 2 ** -52) : 0));
      return [x, g];
    }),
  // Extreme g: near the float64 limit, subnormal, zero, beside ordinary ones.
  fc.integer({ min: 1, max: 8 }).chain((n) =>
    fc.tuple(
      fc.array(fc.oneof(fc.double({ min: -30, max: 30, noNaN: true }), fc.constant(-Infinity)), { minLength: n, maxLength: n }),
      fc.array(
        fc.oneof(
          fc.constantFrom(1.7976931348623157e308, -1.7976931348623157e308, 1e300, -1e-310, 5e-324, -5e-324, 0, 2 ** -1022),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.double({ min: -1, max: 1, noNaN: true }),
        ),
        { minLength: n, maxLength: n },
      ),
    ),
  ),
  // Wide spreads: subnormal and vanishing probabilities, the far reduction, and beyond.
  fc.integer({ min: 2, max: 8 }).chain((n) =>
    fc.tuple(
      fc.array(
        fc.oneof(
          fc.double({ min: -800, max: 800, noNaN: true }),
          fc.double({ min: -2e4, max: 2e4, noNaN: true }),
          fc.constantFrom(0, -745.1, -1100, -4096.5, -3e12, -1.7976931348623157e308, 1e308),
        ),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(1e300, -1e-310, 5e-324)), { minLength: n, maxLength: n }),
    ),
  ),
);

describe('the double-double engine on hard random slices', () => {
  test('is certain only where it equals BigNumber bit for bit, and computeReference always does', async () => {
    await fc.assert(
      fc.asyncProperty(hardSlice, async ([xs, gs]) => {
        const [x, g] = [f64(xs), f64(gs)];
        const verdict = disagreement(x, g);
        expect(verdict.softmax).toEqual([]);
        expect(verdict.grad).toEqual([]);
        const shape = [x.length];
        const mixed = await computeReference({ shape, data: x }, { shape, data: g }, 0, 'double-double', async () => bignumber);
        const b = judge(x, g);
        expect(bitDifferences(mixed.forward, b.softmax)).toEqual([]);
        expect(bitDifferences(mixed.grad, b.grad)).toEqual([]);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('decides ordinary hard slices: the issue, near-one-hot, subnormal and far probabilities, g at the float64 limit', () => {
    // Uncertain are only those made to sit within about 2^-100 of a rounding midpoint, or beyond 2^40.
    const cases: [number[], number[]][] = [
      [[37.43, 0], [1, 0]],
      [[37.43, 0, 0, 0], [1, 0, 0, 0]],
      [[0.5, -3, 7, 2], [0.25, -1, 3, 0.125]],
      [[0, -5000, -5001], [0, 1, -3]],
      [[0, -745.5, -1200], [1, -2, 3]],
      [[1, 0.5, -2], [1.7976931348623157e308, -1.7976931348623157e308, 1]],
    ];
    for (const [xs, gs] of cases) {
      const verdict = disagreement(f64(xs), f64(gs));
      expect(verdict).toEqual({ certain: true, softmax: [], grad: [] });
    }
  });
});

describe('the double-double engine, particular slices', () => {
  test("keeps PyTorch issue 195684's gradient: 5.55e-17, not 0", () => {
    const run = doubleDouble(f64([37.43, 0]), f64([1, 0]));
    expect(run.certain).toBe(true);
    expect(Array.from(run.grad)).toEqual([5.550825086253719e-17, -5.550825086253719e-17]);
  });

  test('keeps a subnormal g beside one near the float64 limit: 9.80413743674e-313, where scaling g by 2^-64 lost it', () => {
    // The engine before this one scaled every g by 2^-64 once some |g| passed 2^1000, turning
    // -1e-310 into 0, and called the gradient -0, certain; halving only beyond 2^1022 loses nothing.
    const x = f64([-9837.455260567367, 1, -Infinity, -3.6050477078154257]);
    const g = f64([1e300, 0, 1.7976931348623157e308, -1e-310]);
    const run = doubleDouble(x, g);
    expect(run.certain).toBe(true);
    expect(run.grad[1]).toBe(9.80413743674e-313);
    expect(bitDifferences(run.grad, judge(x, g).grad)).toEqual([]);
  });

  test("gives a gradient that underflows to zero BigNumber's sign", () => {
    // D = e^-5000 (1 − 3/e) < 0 decides the sign of the pivot's gradient, far below the subnormals.
    const x = f64([0, -5000, -5001]);
    const g = f64([0, 1, -3]);
    const run = doubleDouble(x, g);
    expect(run.certain).toBe(true);
    expect(Object.is(run.grad[0], 0)).toBe(true);
    expect(bitDifferences(run.grad, judge(x, g).grad)).toEqual([]);
  });

  test('decides far logits itself (torch.finfo.min masks): +0 probabilities, gradients zeros of their numerator\'s sign', async () => {
    const min = -1.7976931348623157e308;
    for (const [xs, gs, farGrad] of [
      // g_i − ⟨s, g⟩ < 0 at the far logit: −0; > 0: +0.
      [[0.3, 0.3, min, -1], [1, 0, 0, 0], [-0]],
      [[0.3, 0.3, min, -1], [0, 0, 1, 0], [0]],
      [[0, -3e12, 1], [1, 2, 3], [-0]],
      // x_i − max overflows to −Infinity beside 1e308.
      [[1e308, min, 3, -1e308], [1, 0, 2, 5], [-0, 0, 0]],
    ] as const) {
      const [x, g] = [f64(xs), f64(gs)];
      const run = doubleDouble(x, g);
      expect(run.certain).toBe(true);
      const far = xs.flatMap((v, i) => (v - Math.max(...xs) < -(2 ** 40) ? [i] : []));
      expect(far.map((i) => run.softmax[i])).toEqual(far.map(() => 0));
      expect(far.map((i) => Object.is(run.grad[i], -0))).toEqual(farGrad.map((v) => Object.is(v, -0)));
      expect(bitDifferences(run.softmax, judge(x, g).softmax)).toEqual([]);
      expect(bitDifferences(run.grad, judge(x, g).grad)).toEqual([]);
      const result = await computeReference({ shape: [x.length], data: x }, { shape: [x.length], data: g }, 0, 'double-double', async () => bignumber);
      expect(result.slicesByBigNumber).toBe(0);
    }
  });

  test('finds exact zeros without BigNumber: symmetric g over equal logits, constant g', () => {
    for (const [xs, gs, zeros] of [
      [[1, 2, 2], [0, 1, -1], [0]],
      [[0.5, -3, 7], [2.5, 2.5, 2.5], [0, 1, 2]],
      [[0, 0, 1, 1, 2], [0.25, 0.75, 0.75, 0.25, 0.5], [4]],
    ] as const) {
      const run = doubleDouble(f64(xs), f64(gs));
      expect(run.certain).toBe(true);
      for (const i of zeros) expect(Object.is(run.grad[i], 0)).toBe(true);
      expect(bitDifferences(run.grad, judge(f64(xs), f64(gs)).grad)).toEqual([]);
    }
  });

  test('gives the same results whatever ran before it: its per-element state is reused between calls', () => {
    const big = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 9);
    const bigG = Float64Array.from({ length: 5000 }, (_, i) => Math.cos(i * 1.3));
    const small = f64([0.25, -1, 3]);
    const smallG = f64([1, -2, 0.5]);
    const first = doubleDouble(small, smallG);
    const bigRun = doubleDouble(big, bigG);
    const again = doubleDouble(small, smallG);
    expect(again).toEqual(first);
    expect(doubleDouble(big, bigG)).toEqual(bigRun);
    // A view into a larger buffer, as forEachSlice passes the last dim.
    const buffer = new Float64Array(10);
    buffer.set(small, 4);
    const bufferG = new Float64Array(10);
    bufferG.set(smallG, 4);
    expect(doubleDouble(buffer.subarray(4, 7), bufferG.subarray(4, 7))).toEqual(first);
  });
});

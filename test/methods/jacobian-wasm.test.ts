import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType } from '../../src/dtype.js';
import {
  jacobianBackwardSlice,
  jacobianKernelFor,
  jacobianRowsByKernel,
  jacobianRowsTimesVector,
  jacobianRowsTimesVectorScalar,
} from '../../src/ops/softmax/jacobian-backward.js';
import { jacobianRowsWasm } from '../../src/ops/softmax/jacobian-wasm.js';
import { softmaxNormalisedSlice } from '../../src/ops/softmax/softmax-normalised.js';
import { arithmeticFor, type Arithmetic, type ArithmeticTypes } from '../../src/numeric/arithmetic.js';
import { JACOBIAN_KERNEL_ROWS } from '../../src/wasm/jacobian-kernel.generated.js';
import { f64 } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, PROPERTY_RUNS, PROPERTY_SEED, propertyTimeout, randomSlice } from '../helpers/properties.js';

/** Every arithmetic a kernel covers, with the kernel that takes it. */
const KERNEL_ARITHMETICS: [DType, ArithmeticTypes, string][] = [
  ['float64', {}, 'float64'],
  ['float64', { compute: 'float32' }, 'float64'], // a float64 dtype takes the float64 loop whatever compute says
  ['float32', {}, 'float32'],
  ['float32', { accumulate: 'float64' }, 'float32Wide'],
  ['float32', { compute: 'float64', accumulate: 'float64' }, 'float64'],
  ['float16', {}, 'float32'],
  ['float16', { accumulate: 'float64' }, 'float32Wide'],
  ['float16', { compute: 'float64', accumulate: 'float64' }, 'float64'],
  ['bfloat16', {}, 'float32'],
  ['bfloat16', { accumulate: 'float64' }, 'float32Wide'],
  ['bfloat16', { compute: 'float64', accumulate: 'float64' }, 'float64'],
];
const label = ([dtype, types]: [DType, ArithmeticTypes, string]): string =>
  `${dtype}${types.compute ? ` compute ${types.compute}` : ''}${types.accumulate ? ` sums ${types.accumulate}` : ''}`;

const bits = (v: number): string => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : `${v}`);

/** Where `ours` and `spec` differ as values (NaN equals NaN, −0 differs from 0), first few. */
function differences(ours: Float64Array, spec: Float64Array): string[] {
  const found: string[] = [];
  for (let i = 0; i < spec.length && found.length < 5; i++) if (!Object.is(ours[i], spec[i])) found.push(`[${i}] ${bits(ours[i])} vs ${bits(spec[i])}`);
  return found;
}

/** Rows `from` to `to` by the kernel and by the scalar specification; the kernel must be taken. */
function bothRoutes(s: Float64Array, g: Float64Array, from: number, to: number, a: Arithmetic): { kernel: Float64Array; scalar: Float64Array } {
  const kernel = new Float64Array(s.length).fill(7);
  const scalar = new Float64Array(s.length).fill(7);
  expect(jacobianRowsByKernel(s, g, kernel, from, to, a)).toBe(true);
  jacobianRowsTimesVectorScalar(s, g, scalar, from, to, a);
  return { kernel, scalar };
}

/** Special values that may be planted in s or g: masks, subnormals, signed zeros, infinities, NaN. */
const SPECIAL = [0, -0, 5e-324, 2.2250738585072014e-308, 1e-310, 1.401298464324817e-45, 1e-40, Infinity, -Infinity, NaN, 1, 0.5];

describe('the explicit Jacobian\'s WebAssembly kernel', () => {
  test('takes the float64 and float32 arithmetics, and leaves half-type compute to JavaScript', () => {
    for (const [dtype, types, kernel] of KERNEL_ARITHMETICS) expect(jacobianKernelFor(arithmeticFor(dtype, types)), label([dtype, types, kernel])).toBe(kernel);
    expect(jacobianKernelFor(arithmeticFor('bfloat16', { compute: 'bfloat16' }))).toBeUndefined();
    expect(jacobianKernelFor(arithmeticFor('float16', { compute: 'float16', accumulate: 'float16' }))).toBeUndefined();
    expect(jacobianKernelFor(arithmeticFor('float32', { accumulate: 'bfloat16' }))).toBeUndefined();
  });

  test(`gives the scalar loop's bits on random slices in every arithmetic it takes, special values planted (${PROPERTY_RUNS} runs)`, () => {
    const maxLength = 3 * JACOBIAN_KERNEL_ROWS.float32 + 5;
    const slice = fc.record({
      slice: randomSlice(maxLength),
      arithmetic: fc.integer({ min: 0, max: KERNEL_ARITHMETICS.length - 1 }),
      // Plain probabilities, or s straight from a generator: tiny, subnormal, zero, any size.
      sFrom: fc.constantFrom('softmax', 'raw'),
      raw: fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...SPECIAL)), { minLength: maxLength, maxLength }),
      planted: fc.array(fc.tuple(fc.constantFrom('s', 'g'), fc.nat(), fc.constantFrom(...SPECIAL)), { maxLength: 3 }),
      gScale: fc.constantFrom(1, 1e-300, 1e300, 2 ** -140),
      // Every row, or a run of them (from and to taken modulo n + 1).
      rows: fc.oneof(fc.constant(undefined), fc.tuple(fc.nat(maxLength), fc.nat(maxLength))),
    });
    fc.assert(
      fc.property(slice, ({ slice: [xs, gs], arithmetic, sFrom, raw, planted, gScale, rows }) => {
        const [dtype, types] = KERNEL_ARITHMETICS[arithmetic];
        const a = arithmeticFor(dtype, types);
        const n = xs.length;
        // As verify hands them over: x and g rounded to the dtype, s stored in it.
        const s = new Float64Array(n);
        if (sFrom === 'softmax') softmaxNormalisedSlice(f64(xs).map(a.store), s, a);
        else s.set(raw.slice(0, n).map(a.store));
        const g = f64(gs.map((v) => a.store(v * gScale)));
        for (const [where, at, value] of planted) (where === 's' ? s : g)[at % n] = a.store(value);
        const ends = rows === undefined ? [0, n] : rows.map((r) => r % (n + 1));
        const [from, to] = [Math.min(...ends), Math.max(...ends)];
        const { kernel, scalar } = bothRoutes(s, g, from, to, a);
        expect(differences(kernel, scalar), label(KERNEL_ARITHMETICS[arithmetic])).toEqual([]);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(5));

  test.each(KERNEL_ARITHMETICS)('gives the scalar loop\'s bits for every length 1 to 70 and around the blocks, in %s %o', (dtype, types) => {
    const a = arithmeticFor(dtype, types);
    const lengths = [...Array.from({ length: 70 }, (_, k) => k + 1), 127, 128, 129, 255, 256, 257, 1001];
    for (const n of lengths) {
      const x = f64(Array.from({ length: n }, (_, i) => a.store(Math.sin(i * 12.9898 + n) * 6)));
      const s = new Float64Array(n);
      softmaxNormalisedSlice(x, s, a);
      const g = f64(Array.from({ length: n }, (_, i) => a.store(Math.cos(i * 78.233 + n) * 3)));
      for (const [from, to] of [[0, n], [Math.floor(n / 3), n - Math.floor(n / 4)], [n - 1, n]]) {
        const { kernel, scalar } = bothRoutes(s, g, from, to, a);
        expect(differences(kernel, scalar), `n ${n}, rows ${from} to ${to}`).toEqual([]);
      }
    }
  });

  test.each(KERNEL_ARITHMETICS)('keeps masked rows, NaN and infinities as the scalar loop does, in %s %o', (dtype, types) => {
    const a = arithmeticFor(dtype, types);
    const n = 41;
    const base = (): { s: Float64Array; g: Float64Array } => {
      const s = new Float64Array(n);
      softmaxNormalisedSlice(f64(Array.from({ length: n }, (_, i) => a.store((i * 7) % 11))), s, a);
      return { s, g: f64(Array.from({ length: n }, (_, i) => a.store(i - 20.5))) };
    };
    const cases: [string, (s: Float64Array, g: Float64Array) => void][] = [
      ['masked elements (s = 0)', (s) => [0, 9, 17, 18, 40].forEach((i) => (s[i] = 0))],
      ['a NaN in s', (s) => (s[12] = NaN)],
      ['a NaN in g', (_, g) => (g[30] = NaN)],
      ['+Infinity and −Infinity in g', (_, g) => ((g[3] = Infinity), (g[33] = -Infinity))],
      ['Infinity in g at a masked element (0 · ∞ = NaN)', (s, g) => ((s[5] = 0), (g[5] = Infinity))],
      ['subnormal probabilities', (s) => [1, 8, 16, 24].forEach((i, k) => (s[i] = a.store([5e-324, 1e-310, 1.401298464324817e-45, 1e-40][k])))],
      ['−0 in g', (_, g) => g.fill(-0, 10, 20)],
      ['s all NaN (a slice with a NaN logit)', (s) => s.fill(NaN)],
    ];
    for (const [name, plant] of cases) {
      const { s, g } = base();
      plant(s, g);
      const { kernel, scalar } = bothRoutes(s, g, 0, n, a);
      expect(differences(kernel, scalar), name).toEqual([]);
    }
  });

  test('agrees with float32 operations rounded from float64 on a million float32 entries with subnormal and huge operands', () => {
    // The float32 kernels rest on fl32(a ∘ b) = fl32(fl64(a ∘ b)) for float32 a, b and ∘ in +, −, ×;
    // here the operands are drawn to reach the subnormal range and overflow as well.
    let state = PROPERTY_SEED >>> 0;
    const random = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const n = 1000;
    const s = Float64Array.from({ length: n }, () => Math.fround(random() * 2 ** (-Math.floor(random() * 150))));
    const g = Float64Array.from({ length: n }, () => Math.fround((random() - 0.5) * 2 ** (Math.floor(random() * 250) - 120)));
    for (const accumulate of ['float32', 'float64'] as const) {
      const { kernel, scalar } = bothRoutes(s, g, 0, n, arithmeticFor('float32', { accumulate }));
      expect(differences(kernel, scalar), accumulate).toEqual([]);
    }
  });

  test('declines float32 kernels for values float32 cannot hold, and the rows then run in JavaScript with the scalar bits', () => {
    const s = f64([0.1, 0.2, 0.3, 0.4]);
    const g = f64([1, 2, 3, 4]);
    const out = new Float64Array(4);
    expect(jacobianRowsWasm('float32', s, g, out, 0, 4)).toBe(false);
    expect(jacobianRowsWasm('float32Wide', g, s, out, 0, 4)).toBe(false);
    expect(jacobianRowsWasm('float64', s, g, out, 0, 4)).toBe(true);
    const a = arithmeticFor('float32');
    const n = 300;
    const wide = Float64Array.from({ length: n }, (_, i) => 1 / (n + i));
    const gs = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
    const [ours, spec] = [new Float64Array(n), new Float64Array(n)];
    jacobianRowsTimesVector(wide, gs, ours, 0, n, a);
    jacobianRowsTimesVectorScalar(wide, gs, spec, 0, n, a);
    expect(differences(ours, spec)).toEqual([]);
  });

  test('leaves the arithmetics it does not take to JavaScript, unchanged', () => {
    const a = arithmeticFor('bfloat16', { compute: 'bfloat16' });
    expect(jacobianRowsByKernel(f64([0.5, 0.5]), f64([1, 2]), new Float64Array(2), 0, 2, a)).toBe(false);
  });

  test('gives the materialised matrix\'s bits through jacobianBackwardSlice, whichever route the slice takes', () => {
    // Not float64 computing in float32: the scalar loop's float64 route ignores compute there, the
    // matrix does not (an arithmetic narrower than its dtype, which the commands refuse).
    for (const [dtype, types] of KERNEL_ARITHMETICS.filter(([dtype, types]) => !(dtype === 'float64' && types.compute === 'float32'))) {
      const a = arithmeticFor(dtype, types);
      for (const n of [17, 128, 200]) {
        const s = new Float64Array(n);
        softmaxNormalisedSlice(f64(Array.from({ length: n }, (_, i) => a.store(Math.sin(i) * 5))), s, a);
        const g = f64(Array.from({ length: n }, (_, i) => a.store(Math.cos(3 * i))));
        const [materialised, streamed] = [new Float64Array(n), new Float64Array(n)];
        jacobianBackwardSlice(s, g, materialised, n, a);
        jacobianBackwardSlice(s, g, streamed, 0, a);
        expect(differences(streamed, materialised), `${dtype} ${JSON.stringify(types)} n ${n}`).toEqual([]);
      }
    }
  });
});

import { runAccurateMethod, runClosedFormMethod, runJacobianMethod } from '../ops/softmax/pipelines.js';
import { sliceLayout } from '../numeric/slices.js';
import { doubleDoubleReferenceSlice } from '../ops/softmax/double-double-reference.js';

export const BENCH_METHODS = ['jacobian', 'closedForm', 'accurate', 'reference'] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

/** What each method's cost is counted in: the Jacobian per entry (n² a slice), the rest per element. */
export const BENCH_UNIT: Readonly<Record<BenchMethod, 'entry' | 'element'>> = {
  jacobian: 'entry',
  closedForm: 'element',
  accurate: 'element',
  reference: 'element',
};

/** Sizes that finish in well under a minute here, together. */
export const DEFAULT_SIZES: Readonly<Record<BenchMethod, readonly number[]>> = {
  jacobian: [500, 1000, 2000, 4000, 8000],
  closedForm: [10_000, 100_000, 1_000_000, 4_000_000],
  accurate: [10_000, 100_000, 1_000_000],
  reference: [1_000, 10_000, 100_000],
};

export interface BenchPoint {
  readonly n: number;
  /** Median wall time of one run, in milliseconds. */
  readonly ms: number;
  /** Nanoseconds per entry (Jacobian) or per element. */
  readonly perUnit: number;
  readonly runs: number;
}

export interface BenchSeries {
  readonly method: BenchMethod;
  readonly unit: 'entry' | 'element';
  readonly points: readonly BenchPoint[];
  /** The fitted growth exponent k in time ∝ n^k: about 1 for O(n), 2 for the Jacobian. */
  readonly exponent: number | null;
}

/**
 * Times each method on one slice of n logits at each size: the median of several runs (at least 3,
 * at most 9, fewer when one run is long), on inputs that are the same every time (a seeded sine).
 */
export function runBench(methods: readonly BenchMethod[], sizes?: readonly number[]): BenchSeries[] {
  return methods.map((method) => {
    const points = (sizes ?? DEFAULT_SIZES[method]).map((n) => timePoint(method, n));
    return { method, unit: BENCH_UNIT[method], points, exponent: growthExponent(points) };
  });
}

function timePoint(method: BenchMethod, n: number): BenchPoint {
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8);
  const g = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 78.233));
  const layout = sliceLayout([n], 0);
  const once = (): number => {
    const start = performance.now();
    let keep: number;
    if (method === 'jacobian') keep = runJacobianMethod(x, g, layout).grad[n - 1];
    else if (method === 'closedForm') keep = runClosedFormMethod(x, g, layout).grad[n - 1];
    else if (method === 'accurate') keep = runAccurateMethod(x, g, layout).grad[n - 1];
    else {
      const softmax = new Float64Array(n);
      const grad = new Float64Array(n);
      doubleDoubleReferenceSlice(x, g, softmax, grad);
      keep = grad[n - 1];
    }
    // Reading the result keeps the work from being optimised away.
    if (keep === 42.4242) process.stdout.write('');
    return performance.now() - start;
  };
  const times = [once()];
  const runs = times[0] > 2000 ? 3 : 9;
  while (times.length < runs) times.push(once());
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const units = BENCH_UNIT[method] === 'entry' ? n * n : n;
  return { n, ms, perUnit: (ms * 1e6) / units, runs };
}

/** Least-squares slope of log(time) against log(n), over the points long enough to time (≥ 0.2 ms). */
export function growthExponent(points: readonly { n: number; ms: number }[]): number | null {
  const usable = points.filter((p) => p.ms >= 0.2);
  if (usable.length < 2) return null;
  const xs = usable.map((p) => Math.log(p.n));
  const ys = usable.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? null : num / den;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { judge } from '../../src/core/judge.js';
import type { VerifyInput } from '../../src/core/report.js';
import { parseInputDocument } from '../../src/input/input-document.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { sliceLayout, sliceStart, type SliceLayout } from '../../src/numeric/slices.js';
import { runAccurateFloat64 } from '../../src/ops/softmax/pipelines.js';
import { JACOBIAN_LEFT_OUT } from '../helpers/left-out.js';

/** The diagnosis reads the exact result, not the explicit Jacobian: left out, as over its budget. */
const judged = (input: VerifyInput) => judge(input, { jacobianSkipped: JACOBIAN_LEFT_OUT });

/**
 * The diagnosis names the bug planted into PyTorch's own results (fixtures/genuine: its bfloat16,
 * float16 and float32 softmax at realistic sizes; fixtures/pytorch: float64; fixtures/family:
 * log_softmax), computed from PyTorch's values and stored in the fixture's dtype as a kernel would.
 */
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const read = (path: string): VerifyInput => inputFromDocument(path, parseInputDocument(readFileSync(join(FIXTURES, path), 'utf8')));

const SOFTMAX = ['genuine/bf16-4x1000-scale10.json', 'genuine/f16-4x1000-scale10.json', 'genuine/f32-2x32000-scale8.json', 'pytorch/batch-4x7-dim-last.json'];
const LOG_SOFTMAX = ['family/log-softmax-bf16-8x256.json', 'family/log-softmax-f16-16x64.json', 'family/log-softmax-f32-4x1000.json', 'family/log-softmax-f64-3x50.json'];

type Values = { forward: Float64Array; grad: Float64Array };

/** Slice by slice over a layout: `each(at)` with slice k's element indices. */
function slices(layout: SliceLayout, each: (at: (j: number) => number, k: number) => void): void {
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    each((j) => start + j * layout.stride, k);
  }
}

const sum = (layout: SliceLayout, at: (j: number) => number, f: (i: number) => number) => {
  let total = 0;
  for (let j = 0; j < layout.length; j++) total += f(at(j));
  return total;
};

/** softmax's backward from probabilities s: s ⊙ (g − ⟨s, g⟩). */
function softmaxBackward(s: Float64Array, g: Float64Array, layout: SliceLayout): Float64Array {
  const out = new Float64Array(s.length);
  slices(layout, (at) => {
    const dot = sum(layout, at, (i) => s[i] * g[i]);
    for (let j = 0; j < layout.length; j++) out[at(j)] = s[at(j)] * (g[at(j)] - dot);
  });
  return out;
}

/** The input with expected values made by `plant` from PyTorch's, stored in the dtype. */
function planted(input: VerifyInput, plant: (pytorch: Values, layout: SliceLayout) => Partial<Values>): VerifyInput {
  const pytorch = input.expected as Values;
  const store = arithmeticFor(input.dtype).store;
  const changed = plant(pytorch, sliceLayout(input.x.shape, input.axis));
  return {
    ...input,
    expected: {
      forward: (changed.forward ?? pytorch.forward).map(store),
      grad: (changed.grad ?? pytorch.grad).map(store),
    },
  };
}

const firstCode = (input: VerifyInput) => {
  const report = judged(input);
  expect(report.passed).toBe(false);
  return report.diagnosis[0]?.code;
};

const SOFTMAX_BUGS: Record<string, (input: VerifyInput) => (p: Values, layout: SliceLayout) => Partial<Values>> = {
  'grad-missing-inner-product': (input) => (p) => ({ grad: p.forward.map((s, i) => s * input.g.data[i]) }),
  'log-softmax-backward-used': (input) => (p, layout) => {
    const grad = new Float64Array(p.grad.length);
    slices(layout, (at) => {
      const total = sum(layout, at, (i) => input.g.data[i]);
      for (let j = 0; j < layout.length; j++) grad[at(j)] = input.g.data[at(j)] - p.forward[at(j)] * total;
    });
    return { grad };
  },
  'normaliser-off': (input) => (p, layout) => {
    // Each slice's probabilities scaled by its own wrong sum: 1.1, 1.2, …
    const forward = new Float64Array(p.forward.length);
    slices(layout, (at, k) => {
      for (let j = 0; j < layout.length; j++) forward[at(j)] = p.forward[at(j)] * (1 + 0.1 * (k + 1));
    });
    return { forward, grad: softmaxBackward(forward, input.g.data, layout) };
  },
  'grad-reads-constant-g': () => (p) => ({ grad: new Float64Array(p.grad.length) }),
  'grad-sign': () => (p) => ({ grad: p.grad.map((v) => -v) }),
  scaled: () => (p) => ({ grad: p.grad.map((v) => 1.25 * v) }),
  'isolated-elements': () => (p) => {
    const grad = Float64Array.from(p.grad);
    grad[3] += 0.5;
    return { grad };
  },
};

describe('diagnosis: softmax', () => {
  for (const path of SOFTMAX) {
    test.each(Object.keys(SOFTMAX_BUGS))(`${path}: a planted %s is named first`, (code) => {
      const input = read(path);
      expect(firstCode(planted(input, SOFTMAX_BUGS[code](input)))).toBe(code);
    });
  }

  test.each(SOFTMAX)('%s computed along the other dim: wrong-dim, naming it', (path) => {
    const input = read(path);
    const other = input.axis === 0 ? 1 : 0;
    const along = runAccurateFloat64(input.x.data, input.g.data, sliceLayout(input.x.shape, other));
    const report = judged(planted(input, () => along));
    expect([report.diagnosis[0]?.code, report.diagnosis[0]?.details]).toEqual(['wrong-dim', { dim: other }]);
  });

  // (The genuine fixtures' own looser tolerance lets bfloat16 values pass them: the default one does not;
  // float32 values pass float64's default elementwise, failing only the sums, which the diagnosis does not read.)
  test.each([
    ['pytorch/float32-64.json', 'bfloat16'],
    ['pytorch/batch-4x7-dim-last.json', 'bfloat16'],
  ] as const)('%s stored in %s: lower-precision, naming --dtype', (path, narrow) => {
    const input = read(path);
    const round = (v: number) => roundToDType(v, narrow);
    const report = judged(planted(input, (p) => ({ forward: p.forward.map(round), grad: p.grad.map(round) })));
    expect([report.diagnosis[0]?.code, report.diagnosis[0]?.details]).toEqual(['lower-precision', { dtype: narrow, flag: `--dtype ${narrow}` }]);
  });

  test.each(['float32', 'bfloat16', 'float16'] as const)('exp not shifted by the max, in %s: NaN where logits near 90 overflow float32 (its opmath), overflow-no-max-shift', (dtype) => {
    const store = arithmeticFor(dtype).store;
    const x = Float64Array.from({ length: 12 }, (_, i) => store(87 + (i % 4) + 0.25 * Math.floor(i / 4)));
    const g = Float64Array.from({ length: 12 }, (_, i) => store(1 + 0.5 * (i % 3)));
    const input: VerifyInput = { op: 'softmax', label: 'no max shift', x: { shape: [3, 4], data: x }, g: { shape: [3, 4], data: g }, dim: -1, axis: 1, dtype };
    // As the kernel computes it in float32: exp(x) overflows to inf past 88.7, and inf / inf is NaN.
    const e = x.map((v) => Math.fround(Math.exp(v)));
    const forward = e.map((v, i) => {
      const row = Math.floor(i / 4) * 4;
      return store(Math.fround(v / Math.fround(e[row] + e[row + 1] + e[row + 2] + e[row + 3])));
    });
    const report = judged({ ...input, expected: { forward, grad: softmaxBackward(forward, g, sliceLayout([3, 4], 1)).map(store) } });
    expect(forward.some(Number.isNaN)).toBe(true);
    expect(report.diagnosis[0]?.code).toBe('overflow-no-max-shift');
  });

  test('a fully masked row given 0 where PyTorch gives NaN: masked-row-convention', () => {
    const input = read('pytorch/all-masked-row.json');
    const layout = sliceLayout(input.x.shape, input.axis);
    const report = judged(planted(input, (p) => ({ forward: p.forward.map((v) => (Number.isNaN(v) ? 0 : v)), grad: p.grad.map((v) => (Number.isNaN(v) ? 0 : v)) })));
    expect(layout.count).toBeGreaterThan(1);
    expect([report.diagnosis[0]?.code, report.diagnosis[0]?.details]).toEqual(['masked-row-convention', { gives: 'zero', flag: '--masked-rows zero' }]);
  });
});

const LOG_SOFTMAX_BUGS: Record<string, (input: VerifyInput) => (p: Values, layout: SliceLayout) => Partial<Values>> = {
  'grad-missing-sum-term': (input) => () => ({ grad: input.g.data }),
  'softmax-backward-used': (input) => (p, layout) => ({ grad: softmaxBackward(p.forward.map(Math.exp), input.g.data, layout) }),
  'row-offset': (input) => (p, layout) => {
    // Each slice off by its own constant (0.5, 1, …), its backward from that output.
    const forward = new Float64Array(p.forward.length);
    const grad = new Float64Array(p.grad.length);
    slices(layout, (at, k) => {
      const total = sum(layout, at, (i) => input.g.data[i]);
      for (let j = 0; j < layout.length; j++) {
        forward[at(j)] = p.forward[at(j)] + 0.5 * (k + 1);
        grad[at(j)] = input.g.data[at(j)] - Math.exp(forward[at(j)]) * total;
      }
    });
    return { forward, grad };
  },
  'grad-sign': () => (p) => ({ grad: p.grad.map((v) => -v) }),
};

describe('diagnosis: log_softmax', () => {
  for (const path of LOG_SOFTMAX) {
    test.each(Object.keys(LOG_SOFTMAX_BUGS))(`${path}: a planted %s is named first`, (code) => {
      const input = read(path);
      expect(firstCode(planted(input, LOG_SOFTMAX_BUGS[code](input)))).toBe(code);
    });
  }

  test.each(['float32', 'bfloat16'] as const)('log(softmax(x)) in %s: −inf where the probability underflows float32, log-of-softmax', (dtype) => {
    const store = arithmeticFor(dtype).store;
    const x = Float64Array.from([0, -110, -3, 2, -120, 1]);
    const g = Float64Array.from([1, 0.5, -1, 2, 1, 0.25]);
    const input: VerifyInput = { op: 'log_softmax', label: 'log of softmax', x: { shape: [2, 3], data: x }, g: { shape: [2, 3], data: g }, dim: -1, axis: 1, dtype };
    const exact = judged({ ...input, expected: { forward: new Float64Array(6) } }).exact!;
    const s = exact.forward.map((y) => Math.fround(Math.exp(y)));
    const forward = s.map((p) => store(Math.fround(Math.log(p))));
    expect(forward.filter((v) => v === -Infinity)).toHaveLength(2);
    const report = judged({ ...input, expected: { forward, grad: exact.grad.map(store) } });
    expect(report.diagnosis[0]?.code).toBe('log-of-softmax');
  });
});

describe('diagnosis: what is not named', () => {
  test('a mean loss off alone: one number is no common factor, and nothing else fits', () => {
    const input = read('family/cross-entropy-f64-8x10-mean.json');
    const report = judged(planted(input, (p) => ({ forward: p.forward.map((v) => v + 0.05) })));
    expect([report.passed, report.diagnosis]).toEqual([false, []]);
  });

  test('log_softmax without the max shift in float32: −inf from an overflowing sum is overflow, not log(softmax)', () => {
    const x = Float64Array.from([95, 96, 94, 95.5, 1, 2, 3, 0]);
    const g = Float64Array.from([1, -0.5, 2, 0.25, 1, 0, -1, 0.5]);
    const input: VerifyInput = { op: 'log_softmax', label: 'no max shift', x: { shape: [2, 4], data: x }, g: { shape: [2, 4], data: g }, dim: -1, axis: 1, dtype: 'float32' };
    const exact = judged({ ...input, expected: { forward: new Float64Array(8) } }).exact!;
    // Row 0's Σ exp(x) overflows float32: y = x − log(inf) = −inf, and the backward g − exp(y)·Σg is g.
    const forward = exact.forward.map((y, i) => (i < 4 ? -Infinity : Math.fround(y)));
    const grad = exact.grad.map((d, i) => (i < 4 ? g[i] : Math.fround(d)));
    const report = judged({ ...input, expected: { forward, grad } });
    expect(report.diagnosis.map((d) => d.code)).toEqual(['overflow-no-max-shift']);
  });
});

describe('diagnosis: nothing named on correct output', () => {
  const committed = ['genuine', 'pytorch', 'family'].flatMap((folder) =>
    readdirSync(join(FIXTURES, folder))
      .filter((name) => name.endsWith('.json'))
      .map((name) => `${folder}/${name}`),
  );
  test('every committed fixture that passes has an empty diagnosis', () => {
    let passing = 0;
    for (const path of committed) {
      const report = judged(read(path));
      if (!report.passed) continue;
      passing++;
      expect(report.diagnosis, path).toEqual([]);
    }
    expect(passing).toBeGreaterThan(40);
  });
});

import { describe, expect, test } from 'vitest';
import { familyFixture, familyNames } from '../helpers/family-fixtures.js';
import { judge } from '../../src/core/judge.js';
import type { DiagnosisContext } from '../../src/diagnosis/hypothesis.js';
import type { Report, VerifyInput } from '../../src/core/report.js';
import type { DType } from '../../src/dtype.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { CROSS_ENTROPY_DIAGNOSES } from '../../src/ops/cross_entropy/cross-entropy-diagnoses.js';
import { crossEntropySpec } from '../../src/ops/cross_entropy/cross-entropy-fields-out.js';
import type { CrossEntropySpec } from '../../src/ops/cross_entropy/cross-entropy-spec.js';
import type { OpSpec } from '../../src/ops/op-definition.js';
import { JACOBIAN_LEFT_OUT } from '../helpers/left-out.js';

/**
 * cross_entropy's own diagnoses (src/ops/cross_entropy/cross-entropy-diagnoses.ts), each named
 * first for its bug planted into PyTorch's fixtures (fixtures/family/): the buggy loss and
 * gradient made from PyTorch's own expected values (scaled, or with the term the bug adds) or, where
 * the bug drops a field, from a plain float64 cross_entropy written here, rounded to the fixture's
 * dtype. Where no committed fixture of a dtype has what a bug needs (bfloat16 with ignored samples
 * or smoothing, float32 with reduction none or weights), one is derived: a committed fixture's x, g
 * and weights in the other dtype, its expected values this float64 cross_entropy rounded to it.
 */
const NAMES = familyNames('cross-entropy-');
const fixture = familyFixture;
/** Derived inputs, made once. */
const inputs = new Map<string, VerifyInput>();

const specOf = (input: VerifyInput): CrossEntropySpec => crossEntropySpec(input.spec);

/** A committed fixture in another dtype: x, g and weights rounded to it, the expected values the float64 cross_entropy rounded to it. */
function derived(name: string, dtype: DType): VerifyInput {
  const key = `${name} as ${dtype}`;
  let input = inputs.get(key);
  if (input === undefined) {
    const base = fixture(name);
    const round = (v: number) => roundToDType(v, dtype);
    const spec = specOf(base);
    const changed: VerifyInput = {
      ...base,
      label: key,
      dtype,
      x: { shape: base.x.shape, data: base.x.data.map(round) },
      g: { shape: base.g.shape, data: base.g.data.map(round) },
      spec: { ...spec, weight: spec.weight?.map(round) },
    };
    const { forward, grad } = crossEntropyFloat64(changed);
    input = { ...changed, expected: { forward: forward.map(round), grad: grad.map(round) } };
    inputs.set(key, input);
  }
  return input;
}

/** Samples (slices along the class dim): how many, the classes, and where class c of sample k is. */
function samplesOf(input: VerifyInput): { count: number; classes: number; at: (k: number, c: number) => number; sampleOf: (i: number) => number } {
  const { shape } = input.x;
  const classes = shape[input.axis];
  const inner = shape.slice(input.axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, input.axis).reduce((a, b) => a * b, 1);
  return {
    count: outer * inner,
    classes,
    at: (k, c) => Math.floor(k / inner) * classes * inner + (k % inner) + c * inner,
    sampleOf: (i) => Math.floor(i / (classes * inner)) * inner + (i % inner),
  };
}

/** log_softmax along the class dim, in plain float64. */
function logSoftmax(input: VerifyInput): Float64Array {
  const x = input.x.data;
  const { count, classes, at } = samplesOf(input);
  const y = new Float64Array(x.length);
  for (let k = 0; k < count; k++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, x[at(k, c)]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(x[at(k, c)] - max);
    for (let c = 0; c < classes; c++) y[at(k, c)] = x[at(k, c)] - max - Math.log(sum);
  }
  return y;
}

/** What mean divides by: the counted targets' weights (N less the ignored without weights), or N for probabilities. */
function meanDivisor(input: VerifyInput): number {
  const spec = specOf(input);
  if (spec.targetKind === 'probability') return samplesOf(input).count;
  let total = 0;
  for (const t of spec.target.data) if (t !== spec.ignoreIndex) total += spec.weight?.[t] ?? 1;
  return total;
}

/** torch.nn.functional.cross_entropy's loss and gradient (of g), in plain float64, for the input's spec or another. */
function crossEntropyFloat64(input: VerifyInput, spec = specOf(input)): { forward: Float64Array; grad: Float64Array } {
  const y = logSoftmax(input);
  const g = input.g.data;
  const { count, classes, at } = samplesOf(input);
  const weight = (c: number) => spec.weight?.[c] ?? 1;
  const divisor = spec.reduction === 'mean' ? meanDivisor({ ...input, spec }) : 1;
  const losses = new Float64Array(count);
  const grad = new Float64Array(input.x.data.length);
  for (let k = 0; k < count; k++) {
    const t = spec.targetKind === 'index' ? spec.target.data[k] : -1;
    if (spec.targetKind === 'index' && t === spec.ignoreIndex) continue;
    const q = (c: number) =>
      (1 - spec.labelSmoothing) * (spec.targetKind === 'index' ? Number(c === t) : spec.target.data[at(k, c)]) + spec.labelSmoothing / classes;
    const scale = spec.reduction === 'none' ? g[k] : g[0] / divisor;
    let wq = 0;
    for (let c = 0; c < classes; c++) {
      if (q(c) !== 0) losses[k] -= weight(c) * q(c) * y[at(k, c)];
      wq += weight(c) * q(c);
    }
    for (let c = 0; c < classes; c++) grad[at(k, c)] = scale * (Math.exp(y[at(k, c)]) * wq - weight(c) * q(c));
  }
  const forward = spec.reduction === 'none' ? losses : Float64Array.of(losses.reduce((a, b) => a + b, 0) / divisor);
  return { forward, grad };
}

/**
 * PyTorch issue 73205: each sample's smoothing term ε·(−Σ_c w_c y_c)/C counted for the ignored
 * ones too (over D, the counted samples' divisor, for a mean), or, `over: 'N'`, the whole smoothing
 * term of a mean divided by every sample: what it adds to the loss and to the gradient.
 */
function smoothingOfIgnored(input: VerifyInput, over: 'D' | 'N' = 'D'): { forward: Float64Array; grad: Float64Array } {
  const spec = specOf(input);
  const y = logSoftmax(input);
  const g = input.g.data;
  const { count, classes, at } = samplesOf(input);
  const weight = (c: number) => spec.weight?.[c] ?? 1;
  let weights = 0;
  for (let c = 0; c < classes; c++) weights += weight(c);
  const divisor = meanDivisor(input);
  const forward = new Float64Array(spec.reduction === 'none' ? count : 1);
  const grad = new Float64Array(input.x.data.length);
  for (let k = 0; k < count; k++) {
    const ignored = spec.target.data[k] === spec.ignoreIndex;
    const times = spec.reduction !== 'mean' ? Number(ignored) : over === 'D' ? (ignored ? 1 / divisor : 0) : ignored ? 1 / count : 1 / count - 1 / divisor;
    if (times === 0) continue;
    let smooth = 0;
    for (let c = 0; c < classes; c++) smooth -= weight(c) * y[at(k, c)];
    forward[spec.reduction === 'none' ? k : 0] += ((times * spec.labelSmoothing) / classes) * smooth;
    const scale = ((spec.reduction === 'none' ? g[k] : g[0]) * times * spec.labelSmoothing) / classes;
    for (let c = 0; c < classes; c++) grad[at(k, c)] = scale * (Math.exp(y[at(k, c)]) * weights - weight(c));
  }
  return { forward, grad };
}

/** Judges the input with these expected values in place of its own. */
function judged(input: VerifyInput, expected: { forward: Float64Array; grad: Float64Array }): Report {
  return judge({ ...input, expected }, { jacobianSkipped: JACOBIAN_LEFT_OUT });
}

const rounded = (input: VerifyInput, values: Float64Array) => values.map((v) => roundToDType(v, input.dtype));

/** The bugs, each planted into an input's expected values. */
const PLANTED = {
  // PyTorch's own mean times D: the sum.
  'mean-not-divided': (input: VerifyInput) => {
    const divisor = meanDivisor(input);
    const { forward, grad } = input.expected as { forward: Float64Array; grad: Float64Array };
    return { forward: rounded(input, forward.map((v) => v * divisor)), grad: rounded(input, grad.map((v) => v * divisor)) };
  },
  // PyTorch's own mean times D / N: the sum over all N samples.
  'ignored-counted': (input: VerifyInput) => {
    const factor = meanDivisor(input) / samplesOf(input).count;
    const { forward, grad } = input.expected as { forward: Float64Array; grad: Float64Array };
    return { forward: rounded(input, forward.map((v) => v * factor)), grad: rounded(input, grad.map((v) => v * factor)) };
  },
  'smoothing-ignored': (input: VerifyInput) => {
    const { forward, grad } = crossEntropyFloat64(input, { ...specOf(input), labelSmoothing: 0 });
    return { forward: rounded(input, forward), grad: rounded(input, grad) };
  },
  // PyTorch's own values with the ignored samples' smoothing term added.
  'smoothing-counts-ignored': (input: VerifyInput, over: 'D' | 'N' = 'D') => {
    const added = smoothingOfIgnored(input, over);
    const { forward, grad } = input.expected as { forward: Float64Array; grad: Float64Array };
    return { forward: rounded(input, forward.map((v, k) => v + added.forward[k])), grad: rounded(input, grad.map((v, i) => v + added.grad[i])) };
  },
  'weight-ignored': (input: VerifyInput) => {
    const { forward, grad } = crossEntropyFloat64(input, { ...specOf(input), weight: undefined });
    return { forward: rounded(input, forward), grad: rounded(input, grad) };
  },
  // PyTorch's own gradient of each sample times g[0] / g[n]; the loss is g's to none.
  'none-grad-first-g': (input: VerifyInput) => {
    const g = input.g.data;
    const { sampleOf } = samplesOf(input);
    const { forward, grad } = input.expected as { forward: Float64Array; grad: Float64Array };
    return { forward, grad: rounded(input, grad.map((v, i) => (v * g[0]) / g[sampleOf(i)])) };
  },
} as const;
type Code = keyof typeof PLANTED;

/** Each bug's inputs: committed fixtures by name, derived ones as [name, dtype]. */
const CASES: Record<Code, readonly (string | readonly [string, DType])[]> = {
  'mean-not-divided': [
    'cross-entropy-f32-16x1000-mean-smoothing',
    'cross-entropy-f32-smoothing-ignore',
    'cross-entropy-bf16-16x512-mean',
    'cross-entropy-bf16-2x32000-mean',
    'cross-entropy-f64-8x10-mean',
    'cross-entropy-f64-mean-weight',
    'cross-entropy-f64-8x10-soft-mean',
    'cross-entropy-f64-2x5x3x4-mean-ignore',
  ],
  'ignored-counted': [
    'cross-entropy-f32-smoothing-ignore',
    ['cross-entropy-f32-smoothing-ignore', 'bfloat16'],
    ['cross-entropy-f64-mean-ignore-default', 'bfloat16'],
    'cross-entropy-f64-mean-ignore-default',
    'cross-entropy-f64-2x5x3x4-mean-ignore',
    'cross-entropy-f64-padding-rows-mean',
  ],
  'smoothing-ignored': [
    'cross-entropy-f32-16x1000-mean-smoothing',
    'cross-entropy-f32-smoothing-ignore',
    ['cross-entropy-f32-smoothing-ignore', 'bfloat16'],
    'cross-entropy-f64-mean-weight-smoothing',
    'cross-entropy-f64-soft-mean-smoothing',
    'cross-entropy-f64-none-smoothing-ignore',
  ],
  'smoothing-counts-ignored': [
    'cross-entropy-f32-smoothing-ignore',
    ['cross-entropy-f32-smoothing-ignore', 'bfloat16'],
    'cross-entropy-f64-mean-weight-smoothing-ignore',
    'cross-entropy-f64-none-smoothing-ignore',
    'cross-entropy-f64-padding-rows-sum-smoothing',
  ],
  'weight-ignored': [
    'cross-entropy-bf16-16x512-none-weight',
    ['cross-entropy-bf16-16x512-none-weight', 'float32'],
    'cross-entropy-f64-mean-weight',
    'cross-entropy-f64-soft-mean-weight',
    'cross-entropy-f64-2x5x3x4-none-weight',
    'cross-entropy-f64-mean-weight-ignore3',
  ],
  'none-grad-first-g': [
    'cross-entropy-bf16-16x512-none-weight',
    ['cross-entropy-bf16-16x512-none-weight', 'float32'],
    'cross-entropy-f64-8x10-none',
    'cross-entropy-f64-soft-none',
    'cross-entropy-f64-2x5x3x4-none-weight',
  ],
};

const inputOf = (c: string | readonly [string, DType]): VerifyInput => (typeof c === 'string' ? fixture(c) : derived(c[0], c[1]));
const labelOf = (c: string | readonly [string, DType]): string => (typeof c === 'string' ? c : `${c[0]} as ${c[1]}`);

const CODES = Object.keys(PLANTED) as Code[];
const cases = CODES.flatMap((code) => CASES[code].map((c) => [code, labelOf(c), c] as const));

describe("cross_entropy's diagnoses", () => {
  test('every committed cross_entropy fixture passes, with no diagnosis', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(31);
    for (const name of NAMES) {
      const report = judge(fixture(name), { jacobianSkipped: JACOBIAN_LEFT_OUT });
      expect(report.passed, name).toBe(true);
      expect(report.diagnosis, name).toEqual([]);
    }
  });

  test('each bug is planted in float32, bfloat16 and float64', () => {
    for (const code of CODES) expect(new Set(CASES[code].map((c) => inputOf(c).dtype)), code).toEqual(new Set(['float32', 'bfloat16', 'float64']));
  });

  const derivedCases = [...new Map(Object.values(CASES).flat().filter((c) => typeof c !== 'string').map((c) => [labelOf(c), c] as const)).values()];
  test.each(derivedCases)(
    'the derived input %s as %s passes with its float64 values rounded, with no diagnosis',
    (name, dtype) => {
      const report = judge(derived(name, dtype), { jacobianSkipped: JACOBIAN_LEFT_OUT });
      expect(report.passed).toBe(true);
      expect(report.diagnosis).toEqual([]);
    },
  );

  test.each(cases)('%s planted into %s is named first', (code, _label, c) => {
    const input = inputOf(c);
    const report = judged(input, PLANTED[code](input));
    expect(report.passed).toBe(false);
    expect(report.diagnosis.map((d) => d.code)).toContain(code);
    expect(report.diagnosis[0].code).toBe(code);
    // No other bug of cross_entropy's explains it.
    expect(report.diagnosis.filter((d) => d.code !== code && (CODES as string[]).includes(d.code))).toEqual([]);
  });

  test('mean-not-divided names the divisor: N, the counted samples, or the counted targets\' weights', () => {
    const message = (c: string) => judged(fixture(c), PLANTED['mean-not-divided'](fixture(c))).diagnosis[0].message;
    expect(message('cross-entropy-bf16-16x512-mean')).toBe('the loss and gradient are the sum, not the mean: not divided by N = 16');
    expect(message('cross-entropy-f32-smoothing-ignore')).toBe('the loss and gradient are the sum, not the mean: not divided by N = 8 (the 12 samples less the 4 ignored)');
    const weights = meanDivisor(fixture('cross-entropy-f64-mean-weight'));
    expect(message('cross-entropy-f64-mean-weight')).toBe(
      `the loss and gradient are the sum, not the mean: not divided by Σ w = ${Number(weights.toPrecision(4))} (the counted targets' weights)`,
    );
  });

  test('ignored-counted says how many samples count', () => {
    const input = fixture('cross-entropy-f32-smoothing-ignore');
    const [first] = judged(input, PLANTED['ignored-counted'](input)).diagnosis;
    expect(first.message).toBe('the loss and gradient are divided by N = 12, every sample, not by the 8 that count: the 4 ignored counted in the mean');
    expect(first.details).toEqual({ divisor: 12, ignored: 4 });
  });

  test('smoothing-counts-ignored: the ignored samples\' gradient, 0 in PyTorch, is what the bug changes', () => {
    const input = fixture('cross-entropy-f32-smoothing-ignore');
    const planted = PLANTED['smoothing-counts-ignored'](input);
    const report = judged(input, planted);
    const spec = specOf(input);
    const { sampleOf } = samplesOf(input);
    // The gradient fails on the ignored samples only (nearly all of their elements), and the loss.
    const close = report.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!.closeness.closeMask;
    const ignoredElements = close.filter((_, i) => spec.target.data[sampleOf(i)] === spec.ignoreIndex).length;
    expect(ignoredElements).toBe(4 * 40);
    const failing = [...close.keys()].filter((i) => close[i] === 0);
    expect(failing.every((i) => spec.target.data[sampleOf(i)] === spec.ignoreIndex)).toBe(true);
    expect(failing.length).toBeGreaterThan(0.9 * ignoredElements);
    expect(report.comparisons.find((c) => c.quantity === 'forward' && c.actual === 'expected')!.closeness.mismatched).toBe(1);
    expect(report.diagnosis[0]).toMatchObject({
      code: 'smoothing-counts-ignored',
      quantity: 'grad',
      explains: failing.length + 1,
      failing: failing.length + 1,
      message: 'the label smoothing term is summed over the 4 ignored samples too: their ε·Σ −w_c log p_c / C not masked out',
      details: { ignored: 4, dividedBy: 8 },
    });
  });

  test.each([['cross-entropy-f32-smoothing-ignore', 'float32'], ['cross-entropy-f32-smoothing-ignore', 'bfloat16']] as const)(
    'smoothing-counts-ignored in %s as %s: the whole smoothing term of a mean over all N samples is its other variant',
    (name, dtype: DType) => {
      const input = dtype === fixture(name).dtype ? fixture(name) : derived(name, dtype);
      const report = judged(input, PLANTED['smoothing-counts-ignored'](input, 'N'));
      expect(report.diagnosis[0]).toMatchObject({
        code: 'smoothing-counts-ignored',
        message: 'the label smoothing term is summed over the 4 ignored samples too, and the whole smoothing term divided by all N = 12 samples, not 8: their ε·Σ −w_c log p_c / C not masked out',
        details: { ignored: 4, dividedBy: 12 },
      });
    },
  );

  test('none-grad-first-g names g[0]', () => {
    const input = fixture('cross-entropy-f64-8x10-none');
    const [first] = judged(input, PLANTED['none-grad-first-g'](input)).diagnosis;
    expect(first.message).toBe(`every sample's gradient is scaled by g[0] = ${Number(input.g.data[0].toPrecision(4))}, not by its own g[n]: the upstream gradient read as one number`);
    expect(first.quantity).toBe('grad');
  });

  test('each returns undefined, computing nothing, where it cannot apply', () => {
    const hypothesis = (code: Code) => CROSS_ENTROPY_DIAGNOSES.find((h) => h.code === code)!;
    // A context whose recomputations throw: a hypothesis that cannot apply must not reach them.
    const contextOf = (input: VerifyInput, change: Partial<CrossEntropySpec> = {}, g = input.g): DiagnosisContext<OpSpec> =>
      ({
        x: input.x,
        g,
        axis: input.axis,
        spec: { ...specOf(input), ...change },
        dtype: input.dtype,
        layout: sliceLayout(input.x.shape, input.axis),
        exact: judge(input, { jacobianSkipped: JACOBIAN_LEFT_OUT }).exact,
        exactFor: () => {
          throw new Error('exactFor where the hypothesis cannot apply');
        },
        explained: () => {
          throw new Error('explained where the hypothesis cannot apply');
        },
      }) as unknown as DiagnosisContext<OpSpec>;
    const cannot = (code: Code, context: DiagnosisContext<OpSpec>) => expect(hypothesis(code).predict(context), code).toBeUndefined();
    const mean = fixture('cross-entropy-f64-8x10-mean');
    const ignoring = fixture('cross-entropy-f64-mean-ignore-default');
    const smoothingIgnoring = fixture('cross-entropy-f32-smoothing-ignore');
    const weighted = fixture('cross-entropy-f64-mean-weight');
    const none = fixture('cross-entropy-f64-8x10-none');
    cannot('mean-not-divided', contextOf(mean, { reduction: 'sum' }));
    cannot('mean-not-divided', contextOf(none));
    // One sample: its mean is its sum.
    cannot('mean-not-divided', contextOf(fixture('cross-entropy-f64-single-sample-mean')));
    cannot('ignored-counted', contextOf(mean));
    cannot('ignored-counted', contextOf(ignoring, { reduction: 'sum' }));
    cannot('ignored-counted', contextOf(ignoring, { weight: new Float64Array(10).fill(2) }));
    cannot('ignored-counted', contextOf(fixture('cross-entropy-f64-8x10-soft-mean')));
    cannot('smoothing-ignored', contextOf(ignoring));
    cannot('smoothing-counts-ignored', contextOf(ignoring));
    cannot('smoothing-counts-ignored', contextOf(fixture('cross-entropy-f32-16x1000-mean-smoothing')));
    cannot('smoothing-counts-ignored', contextOf(smoothingIgnoring, { target: { ...specOf(smoothingIgnoring).target, data: new Float64Array(12).fill(-100) } }));
    cannot('weight-ignored', contextOf(mean));
    cannot('weight-ignored', contextOf(weighted, { weight: new Float64Array(10).fill(1) }));
    cannot('none-grad-first-g', contextOf(mean));
    cannot('none-grad-first-g', contextOf(none, {}, { shape: none.g.shape, data: new Float64Array(8).fill(0.25) }));
    // And each does where it can (the recomputation asked for).
    for (const [code, input] of [
      ['mean-not-divided', mean],
      ['ignored-counted', ignoring],
      ['smoothing-ignored', smoothingIgnoring],
      ['weight-ignored', weighted],
      ['none-grad-first-g', none],
    ] as const) {
      expect(() => hypothesis(code).predict(contextOf(input)), code).toThrow('exactFor where the hypothesis cannot apply');
    }
    expect(() => hypothesis('smoothing-counts-ignored').predict(contextOf(smoothingIgnoring))).toThrow('explained where the hypothesis cannot apply');
  });
});

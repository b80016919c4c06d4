import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../src/check/run-check.js';
import { parseInputDocument } from '../src/input/input-document.js';
import { inputFromDocument } from '../src/input/resolve-input.js';
import { arithmeticFor } from '../src/numeric/arithmetic.js';
import { forEachSlice, sliceLayout } from '../src/numeric/slices.js';
import { judge } from '../src/core/judge.js';
import { JACOBIAN_LEFT_OUT } from './helpers/left-out.js';
import type { CrossEntropySpec } from '../src/ops/cross_entropy/cross-entropy-spec.js';
import { lossLayer, runCrossEntropyClosedFormMethod } from '../src/ops/cross_entropy/cross-entropy.js';
import { crossEntropySpec } from '../src/ops/cross_entropy/cross-entropy-fields-out.js';
import { type VerifyInput } from '../src/core/report.js';

/**
 * The softmax family's PyTorch fixtures (fixtures/family/, made by
 * scripts/pytorch/generate-family-fixtures.py): log_softmax in float64, float32, bfloat16 and
 * float16, along the last, the first and a middle dim, masked, large logits, rows of 32,000;
 * cross_entropy with every reduction, smoothing, ignore_index, weights and soft targets.
 */
const FAMILY = join(import.meta.dirname, '..', 'fixtures', 'family');
const logSoftmaxNames = readdirSync(FAMILY)
  .filter((name) => name.startsWith('log-softmax-') && name.endsWith('.json'))
  .sort();

const documents = new Map<string, VerifyInput>();
function familyInput(name: string): VerifyInput {
  let input = documents.get(name);
  if (input === undefined) {
    input = inputFromDocument(name, parseInputDocument(readFileSync(join(FAMILY, name), 'utf8')));
    documents.set(name, input);
  }
  return input;
}

/** The bugs a log_softmax backward is written with, planted into PyTorch's own forward output. */
const PLANTED: Record<string, (input: VerifyInput) => Float64Array> = {
  // dx = g: the s·Σg term forgotten.
  'the s·Σg term forgotten': (input) => input.g.data.map(arithmeticFor(input.dtype).store),
  // softmax's backward, s ⊙ (g − ⟨s, g⟩), for log_softmax's.
  "softmax's backward used": (input) => {
    const { store } = arithmeticFor(input.dtype);
    const layout = sliceLayout(input.x.shape, input.axis);
    const grad = new Float64Array(input.x.data.length);
    forEachSlice(layout, [input.expected!.forward!, input.g.data], [grad], ([ys, gs], [dx]) => {
      let dot = 0;
      for (let i = 0; i < ys.length; i++) if (ys[i] > -Infinity) dot += Math.exp(ys[i]) * gs[i];
      for (let i = 0; i < ys.length; i++) dx[i] = store(ys[i] > -Infinity ? Math.exp(ys[i]) * (gs[i] - dot) : 0);
    });
    return grad;
  },
  // Σg taken over the whole batch, not each slice.
  'Σg over the whole batch': (input) => {
    const { store } = arithmeticFor(input.dtype);
    const total = input.g.data.reduce((a, b) => a + b, 0);
    return input.expected!.forward!.map((y, k) => store(input.g.data[k] - Math.exp(y) * total));
  },
};

describe('PyTorch log_softmax fixtures', () => {
  test('are the cases the issue asks for: four dtypes, three dims, rows of 32,000', () => {
    const inputs = logSoftmaxNames.map(familyInput);
    expect(new Set(inputs.map((input) => input.dtype))).toEqual(new Set(['float64', 'float32', 'bfloat16', 'float16']));
    expect(new Set(inputs.map((input) => input.op))).toEqual(new Set(['log_softmax']));
    expect(Math.max(...inputs.map((input) => input.x.shape[input.axis]))).toBe(32_000);
    expect(inputs.some((input) => input.axis === 0 && input.x.shape.length > 1)).toBe(true);
    expect(inputs.some((input) => input.axis > 0 && input.axis < input.x.shape.length - 1)).toBe(true);
  });

  test('every one passes check, the explicit Jacobian included', async () => {
    const run = await runCheck(logSoftmaxNames.map((name) => join(FAMILY, name)), { parallel: false });
    expect(run.outcomes.map((outcome) => [outcome.name, outcome.status])).toEqual(logSoftmaxNames.map((name) => [name.replace('.json', ''), 'pass']));
    for (const outcome of run.outcomes) if (outcome.status !== 'error') expect(outcome.report.methods).toContain('jacobian');
  });

  test.each(logSoftmaxNames.filter((name) => name.includes('bf16')))("%s: the closed form gives PyTorch's bfloat16 bits", (name) => {
    const input = familyInput(name);
    const report = judge(input, { jacobianSkipped: JACOBIAN_LEFT_OUT });
    const same = (a: Float64Array, b: Float64Array) => a.every((v, k) => Object.is(v, b[k]));
    expect(same(report.results.closedForm.forward, input.expected!.forward!)).toBe(true);
    expect(same(report.results.closedForm.grad, input.expected!.grad!)).toBe(true);
  });

  // Σg over the batch is Σg over the slice where there is one slice.
  const oneSlice = (name: string) => familyInput(name).x.data.length === familyInput(name).x.shape[familyInput(name).axis];
  const cases = logSoftmaxNames.flatMap((name) =>
    Object.keys(PLANTED)
      .filter((bug) => !(bug === 'Σg over the whole batch' && oneSlice(name)))
      .map((bug) => [name, bug] as const),
  );
  test.each(cases)('%s with a planted bug (%s) fails', (name, bug) => {
    const input = familyInput(name);
    const grad = PLANTED[bug](input);
    const report = judge({ ...input, expected: { ...input.expected, grad } }, { jacobianSkipped: JACOBIAN_LEFT_OUT });
    expect(report.passed).toBe(false);
    const failing = report.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!;
    expect(failing.closeness.mismatched).toBeGreaterThan(0);
  });
});

const crossEntropyNames = readdirSync(FAMILY)
  .filter((name) => name.startsWith('cross-entropy-') && name.endsWith('.json'))
  .sort();

/** A correct kernel with one of the bugs cross_entropy's backward is written with: its gradient, from PyTorch's inputs. */
function plantedGradient(input: VerifyInput, change: (spec: CrossEntropySpec) => CrossEntropySpec, scale = 1): Float64Array {
  const spec = change(crossEntropySpec(input.spec));
  const { grad } = runCrossEntropyClosedFormMethod(input.x.data, input.g.data, spec, sliceLayout(input.x.shape, input.axis), arithmeticFor(input.dtype));
  return grad.map((v) => arithmeticFor(input.dtype).store(v * scale));
}

const layerOf = (input: VerifyInput) => lossLayer(crossEntropySpec(input.spec), input.g.data, sliceLayout(input.x.shape, input.axis), arithmeticFor(input.dtype));

const CROSS_ENTROPY_BUGS: Record<string, { applies: (input: VerifyInput) => boolean; grad: (input: VerifyInput) => Float64Array }> = {
  // mean's division by D left out: the gradient of the sum.
  'a mean not divided': {
    // (D = 1 for a single sample: the sum is the mean there.)
    applies: (input) => crossEntropySpec(input.spec).reduction === 'mean' && layerOf(input).divisor !== 1,
    grad: (input) => plantedGradient(input, (spec) => ({ ...spec, reduction: 'sum' })),
  },
  'label smoothing ignored': {
    applies: (input) => crossEntropySpec(input.spec).labelSmoothing > 0,
    grad: (input) => plantedGradient(input, (spec) => ({ ...spec, labelSmoothing: 0 })),
  },
  // The ignored samples counted, as class 0: in the mean's divisor and with a gradient of their own.
  // (Not for a sum over padding rows alone: their gradient is NaN either way, and no divisor moves.)
  'ignored rows counted': {
    applies: (input) => {
      const spec = crossEntropySpec(input.spec);
      if (spec.targetKind !== 'index' || !spec.target.data.includes(spec.ignoreIndex)) return false;
      if (spec.reduction === 'mean') return true;
      let ignoredWithLogits = false;
      forEachSlice(sliceLayout(input.x.shape, input.axis), [input.x.data], [], ([xs], _, k) => {
        if (spec.target.data[k] === spec.ignoreIndex && xs.some((v) => v > -Infinity)) ignoredWithLogits = true;
      });
      return ignoredWithLogits;
    },
    grad: (input) =>
      plantedGradient(input, (spec) => ({
        ...spec,
        ignoreIndex: -1e9,
        target: { ...spec.target, data: spec.target.data.map((t) => (t === spec.ignoreIndex ? 0 : t)) },
      })),
  },
  // dx = −w ⊙ q · scale: log_softmax's backward without its s·Σh term.
  'the s·Σ(w q) term forgotten': {
    // (Every sample ignored: the gradient is 0 either way.)
    applies: (input) => layerOf(input).counted.includes(1),
    grad: (input) => {
      const layer = lossLayer(crossEntropySpec(input.spec), input.g.data, sliceLayout(input.x.shape, input.axis), arithmeticFor(input.dtype));
      return layer.h.map(arithmeticFor(input.dtype).store);
    },
  },
};

describe('PyTorch cross_entropy fixtures', () => {
  test('are the cases the issue asks for: every reduction, smoothing, ignore_index, weights, soft targets, [N, C, H, W], three dtypes, 32,000 classes', () => {
    const specs = crossEntropyNames.map((name) => [familyInput(name), crossEntropySpec(familyInput(name).spec)] as const);
    expect(new Set(specs.map(([, spec]) => spec.reduction))).toEqual(new Set(['mean', 'sum', 'none']));
    expect(new Set(specs.map(([, spec]) => spec.targetKind))).toEqual(new Set(['index', 'probability']));
    expect(specs.some(([, spec]) => spec.labelSmoothing > 0 && spec.targetKind === 'index' && spec.target.data.includes(spec.ignoreIndex))).toBe(true);
    expect(specs.some(([, spec]) => spec.weight !== undefined && spec.targetKind === 'probability')).toBe(true);
    expect(specs.some(([input]) => input.x.shape.length === 4)).toBe(true);
    expect(specs.some(([input]) => input.x.shape.length === 1)).toBe(true);
    expect(new Set(specs.map(([input]) => input.dtype))).toEqual(new Set(['float64', 'float32', 'bfloat16']));
    expect(Math.max(...specs.map(([input]) => input.x.shape[input.axis]))).toBe(32_000);
  });

  test('every one passes check, the explicit Jacobian included', async () => {
    const run = await runCheck(crossEntropyNames.map((name) => join(FAMILY, name)), { parallel: false });
    expect(run.outcomes.map((outcome) => [outcome.name, outcome.status])).toEqual(crossEntropyNames.map((name) => [name.replace('.json', ''), 'pass']));
    for (const outcome of run.outcomes) if (outcome.status !== 'error') expect(outcome.report.methods).toContain('jacobian');
  });

  test("the closed form gives PyTorch's bfloat16 mean over 32,000 classes bit for bit", () => {
    const input = familyInput('cross-entropy-bf16-2x32000-mean.json');
    const report = judge(input, { jacobianSkipped: JACOBIAN_LEFT_OUT });
    expect(report.results.closedForm.grad.every((v, k) => Object.is(v, input.expected!.grad![k]))).toBe(true);
    expect(report.results.closedForm.forward[0]).toBe(input.expected!.forward![0]);
  });

  const cases = crossEntropyNames.flatMap((name) =>
    Object.entries(CROSS_ENTROPY_BUGS)
      .filter(([, bug]) => bug.applies(familyInput(name)))
      .map(([bug]) => [name, bug] as const),
  );
  test('the planted bugs apply to the cases they are about', () => {
    for (const bug of Object.keys(CROSS_ENTROPY_BUGS)) expect(cases.filter(([, b]) => b === bug).length, bug).toBeGreaterThanOrEqual(2);
  });

  test.each(cases)('%s with a planted bug (%s) fails', (name, bug) => {
    const input = familyInput(name);
    const grad = CROSS_ENTROPY_BUGS[bug].grad(input);
    const report = judge({ ...input, expected: { ...input.expected, grad } }, { jacobianSkipped: JACOBIAN_LEFT_OUT });
    expect(report.passed).toBe(false);
    expect(report.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!.closeness.mismatched).toBeGreaterThan(0);
  });
});

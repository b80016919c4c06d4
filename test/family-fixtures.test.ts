import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../src/check/run-check.js';
import { parseInputDocument } from '../src/input/input-document.js';
import { inputFromDocument } from '../src/input/resolve-input.js';
import { arithmeticFor } from '../src/numeric/arithmetic.js';
import { forEachSlice, sliceLayout } from '../src/methods/slices.js';
import { verify, type VerifyInput } from '../src/verify.js';

/**
 * The softmax family's PyTorch fixtures (fixtures/family/, made by
 * scripts/pytorch/generate-family-fixtures.py): log_softmax in float64, float32, bfloat16 and
 * float16, along the last, the first and a middle dim, masked, large logits, rows of 32,000.
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
    const report = verify(input);
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
    const report = verify({ ...input, expected: { ...input.expected, grad } });
    expect(report.passed).toBe(false);
    const failing = report.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!;
    expect(failing.closeness.mismatched).toBeGreaterThan(0);
  });
});

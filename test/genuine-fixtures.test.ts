import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../src/check/run-check.js';
import { main } from '../src/cli/main.js';
import { parseInputDocument } from '../src/input/input-document.js';
import { runClosedFormMethod } from '../src/ops/softmax/pipelines.js';
import { forEachSlice, sliceLayout } from '../src/numeric/slices.js';
import { softmaxNormalisedSlice } from '../src/ops/softmax/softmax-normalised.js';
import { closedFormBackwardSlice } from '../src/ops/softmax/closed-form-backward.js';
import { arithmeticFor } from '../src/numeric/arithmetic.js';
import { fixtureToJson } from '../src/output/fixture-json.js';
import { normaliseDim, type Tensor } from '../src/tensor.js';
import { judge } from '../src/core/judge.js';
import { testIo } from './helpers/run-cli.js';
import { folderWith } from './helpers/temp-dir.js';
import { JACOBIAN_LEFT_OUT } from './helpers/left-out.js';
import { type VerifyInput } from '../src/core/report.js';
import { runs } from './helpers/slow-tests.js';

/**
 * PyTorch's own low-precision results at realistic sizes (fixtures/genuine/, made by
 * scripts/pytorch/generate-genuine-fixtures.py): correct kernels whose gradients a plain
 * |a − b| ≤ atol + rtol·|b| against the exact values fails, where g_i − ⟨s, g⟩ cancels.
 */
const GENUINE = join(import.meta.dirname, '..', 'fixtures', 'genuine');
const names = readdirSync(GENUINE).filter((name) => name.endsWith('.json')).sort();

/** Each fixture read once (the largest takes some 80 ms to parse); every caller gets its own copy of the values. */
const documents = new Map<string, ReturnType<typeof parseInputDocument>>();

function genuineInput(name: string): VerifyInput {
  let doc = documents.get(name);
  if (doc === undefined) documents.set(name, (doc = parseInputDocument(readFileSync(join(GENUINE, name), 'utf8'))));
  const copy = (tensor: Tensor): Tensor => ({ ...tensor, shape: [...tensor.shape], data: tensor.data.slice() });
  const x = copy(doc.x!);
  const expected = doc.expected && Object.fromEntries(Object.entries(doc.expected).map(([key, values]) => [key, values?.slice()]));
  return { op: 'softmax', label: name, name: doc.name, source: doc.source, x, g: copy(doc.g!), dim: doc.dim!, axis: normaliseDim(doc.dim!, x.shape.length)!, dtype: doc.dtype!, expected };
}

/** A deterministic stand-in for noise: uniform in [-1, 1), different for every element. */
const noise = (k: number): number => {
  const v = Math.sin(k * 12.9898 + 78.233) * 43758.5453;
  return 2 * (v - Math.floor(v)) - 1;
};

/**
 * The bugs a kernel author makes, planted into PyTorch's results: each gives expected values a
 * correct kernel could not have returned.
 */
const PLANTED: Record<string, (input: VerifyInput) => { forward: Float64Array; grad: Float64Array }> = {
  // dx = s ⊙ g: the ⟨s, g⟩ term forgotten, from PyTorch's own softmax.
  'forgotten ⟨s, g⟩ term': (input) => {
    const { store } = arithmeticFor(input.dtype);
    const softmax = input.expected!.forward!;
    return { forward: softmax, grad: softmax.map((s, k) => store(s * input.g.data[k])) };
  },
  // Softmax and its backward run along the next dimension instead of `dim`.
  'softmax along the wrong dim': (input) => {
    const axis = (input.axis + 1) % input.x.shape.length;
    return runClosedFormMethod(input.x.data, input.g.data, sliceLayout(input.x.shape, axis), arithmeticFor(input.dtype));
  },
  'gradient off by 5 %': (input) => {
    const { store } = arithmeticFor(input.dtype);
    return { forward: input.expected!.forward!, grad: input.expected!.grad!.map((v) => store(v * 1.05)) };
  },
  // Forward right, but backward reads the softmax of logits each moved by about 0.3 % of its size
  // (a stale buffer, a temperature applied twice): at logits of 10, half a bfloat16 spacing.
  'backward reads a softmax of slightly different logits': (input) => {
    const a = arithmeticFor(input.dtype);
    const moved = input.x.data.map((v, k) => v * (1 + 0.003 * Math.sqrt(3) * noise(k)));
    const layout = sliceLayout(input.x.shape, input.axis);
    const stale = new Float64Array(moved.length);
    const grad = new Float64Array(moved.length);
    forEachSlice(layout, [moved], [stale], ([xs], [ss]) => softmaxNormalisedSlice(xs, ss, a));
    forEachSlice(layout, [stale, input.g.data], [grad], ([ss, gs], [dx]) => closedFormBackwardSlice(ss, gs, dx, a));
    return { forward: input.expected!.forward!, grad };
  },
};

describe('genuine PyTorch fixtures', () => {
  test('there are bfloat16, float16 and float32 ones, up to 32,000-wide rows', () => {
    const inputs = names.map(genuineInput);
    expect(new Set(inputs.map((input) => input.dtype))).toEqual(new Set(['bfloat16', 'float16', 'float32']));
    expect(Math.max(...inputs.map((input) => input.x.shape[input.axis]))).toBe(32_000);
  });

  test('every one passes check, the explicit Jacobian included', async () => {
    const run = await runCheck(names.map((name) => join(GENUINE, name)), { parallel: false });
    expect(run.outcomes.map((outcome) => [outcome.name, outcome.status])).toEqual(names.map((name) => [name.replace('.json', ''), 'pass']));
  });

  test.each(names)('%s: PyTorch is within the allowance with room to spare, and its sums raise no flag', (name) => {
    const report = judge(genuineInput(name), { jacobianSkipped: JACOBIAN_LEFT_OUT });
    const judged = report.comparisons.filter((c) => c.actual === 'expected');
    expect(judged.map((c) => c.closeness.mismatched)).toEqual([0, 0]);
    expect(Math.max(...judged.map((c) => c.closeness.worst.value))).toBeLessThan(0.5);
    expect(report.invariants.expected!.flaggedSlices).toBe(0);
    for (const method of report.methods) expect(report.invariants[method]!.flaggedSlices, method).toBe(0);
  });

  const cases = names.flatMap((name) => Object.keys(PLANTED).map((bug) => [name, bug] as const));
  test.each(cases)('%s with a planted bug (%s) fails', (name, bug) => {
    const input = genuineInput(name);
    const expected = PLANTED[bug](input);
    const report = judge({ ...input, expected }, { jacobianSkipped: JACOBIAN_LEFT_OUT });
    expect(report.passed).toBe(false);
    const grad = report.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!;
    expect(grad.closeness.mismatched).toBeGreaterThan(0);
    expect(grad.closeness.worst.value).toBeGreaterThan(1);
  });

  test('check exits 1 on the planted bugs, every fixture failing', async () => {
    // All but the 32,000-wide float32 rows, whose explicit Jacobian (2e9 entries) alone takes seconds.
    const small = names.filter((name) => !name.startsWith('f32-2x32000'));
    const bugs = Object.keys(PLANTED);
    const files: Record<string, string> = {};
    for (const [i, name] of small.entries()) {
      const input = genuineInput(name);
      // Every bug in every fixture with SOFTMAX_VERIFY_SLOW_TESTS=1; by default fewer a fixture, by turns, so that every bug is in some.
      for (const k of Array.from({ length: runs(bugs.length) }, (_, j) => (i + j) % bugs.length)) {
        const bug = bugs[k];
        const planted = { ...input, expected: PLANTED[bug](input) };
        files[`${k}-${name}`] = fixtureToJson({ ...planted, name: `${bug} in ${name}`, source: `${input.source}, with a planted bug: ${bug}` });
      }
    }
    const folder = folderWith(files);
    let out = '';
    const code = await main(['check', folder], testIo({ stdout: { write: (text: string) => (out += text) }, stderr: { write: () => true } }));
    expect(code).toBe(1);
    const lines = out.split('\n');
    expect(lines.filter((line) => line.startsWith('FAIL '))).toHaveLength(Object.keys(files).length);
    expect(lines.at(-2)).toMatch(new RegExp(`^${Object.keys(files).length} fixtures: 0 passed, ${Object.keys(files).length} failed, 0 errored`));
  });
});

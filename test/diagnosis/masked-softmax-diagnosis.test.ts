import { describe, expect, test } from 'vitest';
import { familyFixture, familyNames } from '../helpers/family-fixtures.js';
import { judge } from '../../src/core/judge.js';
import type { Report, VerifyInput } from '../../src/core/report.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { sliceLayout, sliceStart } from '../../src/numeric/slices.js';
import { OP_DEFINITIONS } from '../../src/ops/index.js';
import { maskedSoftmaxSpec } from '../../src/ops/masked_softmax/masked-softmax-fields-out.js';
import { fullyMaskedSlices } from '../../src/ops/masked_softmax/masked-softmax.js';
import type { MaskedRows, MaskedSoftmaxSpec } from '../../src/ops/masked_softmax/masked-softmax-spec.js';

/**
 * masked_softmax's diagnoses on PyTorch's own results (fixtures/family/): each bug planted into
 * the expected values, from PyTorch's or from a float64 recomputation stored in the dtype, must be
 * named first; PyTorch's own results, which pass, name nothing.
 */
const NAMES = familyNames('masked-softmax-');
const fixture = familyFixture;

const specOf = (input: VerifyInput): MaskedSoftmaxSpec => maskedSoftmaxSpec(input.spec);
const storeIn = (input: VerifyInput) => arithmeticFor(input.dtype).store;

function withExpected(input: VerifyInput, expected: { forward?: Float64Array; grad?: Float64Array }): VerifyInput {
  return { ...input, expected: { forward: expected.forward ?? input.expected!.forward, grad: expected.grad ?? input.expected!.grad } };
}

/** 1 for every element of a fully masked slice. */
function deadElements(input: VerifyInput): Uint8Array {
  const layout = sliceLayout(input.x.shape, input.axis);
  const dead = fullyMaskedSlices(specOf(input), layout);
  const out = new Uint8Array(input.x.data.length);
  for (let k = 0; k < layout.count; k++) {
    if (dead[k] === 0) continue;
    for (let j = 0; j < layout.length; j++) out[sliceStart(layout, k) + j * layout.stride] = 1;
  }
  return out;
}

/** A kernel's result with another spec (mask, masked rows), in the run's arithmetic, stored in its dtype. */
function kernelWith(input: VerifyInput, spec: MaskedSoftmaxSpec): { forward: Float64Array; grad: Float64Array } {
  const store = storeIn(input);
  const { forward, grad } = OP_DEFINITIONS.masked_softmax
    .methods({ ...input, spec })
    .closedForm(input.x.data, input.g.data, sliceLayout(input.x.shape, input.axis), arithmeticFor(input.dtype));
  return { forward: forward.map(store), grad: grad.map(store) };
}

/** j ≤ i + d over the last two dims of x. */
function causalKeep(shape: readonly number[], d: number): Uint8Array {
  const [rows, columns] = shape.slice(-2);
  return Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, at) => (at % columns <= (Math.floor(at / columns) % rows) + d ? 1 : 0));
}

/** A causal fixture given as the tril mask itself ([L, S], broadcast over the batch): the same keep, so PyTorch's values still pass. */
function asTrilMask(input: VerifyInput): VerifyInput {
  const [rows, columns] = input.x.shape.slice(-2);
  const tril = { shape: [rows, columns], data: Float64Array.from(causalKeep([rows, columns], 0)) };
  return { ...input, spec: { ...specOf(input), causal: false, mask: tril } };
}

function judged(input: VerifyInput): Report {
  const report = judge(input);
  // The plant must fail the verdict: else nothing is diagnosed, and the test would prove nothing.
  expect(report.passed).toBe(false);
  return report;
}

const codes = (report: Report) => report.diagnosis.map((d) => d.code);

describe("masked_softmax's committed fixtures", () => {
  test.each(NAMES)('%s passes, and no diagnosis is made', (name) => {
    const report = judge(fixture(name));
    expect({ passed: report.passed, diagnosis: report.diagnosis }).toEqual({ passed: true, diagnosis: [] });
  });
});

describe('grad-without-scale: the gradient without the factor scale', () => {
  // PyTorch's gradient divided by the scale, stored in the dtype: softmax's backward of g, not of scale·g.
  test.each([
    ['masked-softmax-f32-8x64-random-scale48', 0.14453125],
    ['masked-softmax-bf16-8x64-random-scale48', 0.14453125],
    ['masked-softmax-f32-2x4x16x16-random', 0.125],
    ['masked-softmax-bf16-2x4x16x16-random', 0.125],
    ['masked-softmax-bf16-2x12x12-causal', 0.14453125],
  ] as const)('%s (scale %f)', (name, scale) => {
    const input = fixture(name);
    expect(specOf(input).scale).toBe(scale);
    const store = storeIn(input);
    const report = judged(withExpected(input, { grad: input.expected!.grad!.map((v) => store(v / scale)) }));
    const [first] = report.diagnosis;
    expect([first.code, first.quantity, first.details]).toEqual(['grad-without-scale', 'grad', { scale }]);
    expect(first.message).toContain(`scale = ${Number(scale.toPrecision(4))}`);
    expect(first.explains).toBeGreaterThanOrEqual(0.9 * first.failing);
    // The generic constant factor fits too (1/scale, fitted), but the op's own bug ranks first.
    expect(codes(report)).toEqual(['grad-without-scale', 'scaled']);
  });

  test('is not made for a scale of 1: a gradient twice the exact one is only the generic factor', () => {
    const input = fixture('masked-softmax-f32-2x3x8x16-native');
    expect(specOf(input).scale).toBe(1);
    const report = judged(withExpected(input, { grad: input.expected!.grad!.map((v) => 2 * v) }));
    expect(codes(report)).toEqual(['scaled']);
    expect(report.diagnosis[0].details?.factor).toBeCloseTo(2, 6);
  });
});

describe('masked-grad-leaks: a gradient at masked positions, where the exact one is 0', () => {
  /** The gradient with `leak(i)` at every masked position of a slice that keeps something. */
  function leaking(input: VerifyInput, leak: (i: number) => number): Float64Array {
    const { keep } = specOf(input);
    const dead = deadElements(input);
    const store = storeIn(input);
    return input.expected!.grad!.map((v, i) => (keep[i] === 0 && dead[i] === 0 ? store(leak(i)) : v));
  }

  /** FlashAttention's backward with the mask left out: p = exp(scale·x − lse) over every position, D = ⟨s, g'⟩ from the forward. */
  function logsumexpLeak(input: VerifyInput): Float64Array {
    const { keep, scale } = specOf(input);
    const layout = sliceLayout(input.x.shape, input.axis);
    const s = input.expected!.forward!;
    const leaks = new Float64Array(s.length);
    for (let k = 0; k < layout.count; k++) {
      const at = (j: number) => sliceStart(layout, k) + j * layout.stride;
      let lse = 0;
      let dot = 0;
      for (let j = 0; j < layout.length; j++) {
        if (keep[at(j)] === 1) {
          lse += Math.exp(scale * input.x.data[at(j)]);
          dot += s[at(j)] * scale * input.g.data[at(j)];
        }
      }
      for (let j = 0; j < layout.length; j++) leaks[at(j)] = (Math.exp(scale * input.x.data[at(j)]) / lse) * (scale * input.g.data[at(j)] - dot);
    }
    return leaks;
  }

  test.each(['masked-softmax-f32-2x4x16x16-random', 'masked-softmax-bf16-2x4x16x16-random', 'masked-softmax-f32-3x10x5-native-dim1', 'masked-softmax-bf16-2x3x8x16-native'])(
    "%s: the unmasked softmax's backward at the masked positions",
    (name) => {
      const input = fixture(name);
      const spec = specOf(input);
      const unmasked = kernelWith(input, { ...spec, keep: new Uint8Array(spec.keep.length).fill(1) });
      const report = judged(withExpected(input, { grad: leaking(input, (i) => unmasked.grad[i]) }));
      const [first] = report.diagnosis;
      expect([codes(report), first.quantity, first.explains, first.details?.matches]).toEqual([['masked-grad-leaks'], 'grad', first.failing, 'unmasked-backward']);
      expect(first.message).toMatch(/^the gradient is nonzero at \d+ masked positions \(first \[[\d, ]+\]\), where the exact one is 0: it is the unmasked softmax's backward there/);
    },
  );

  test.each(['masked-softmax-f32-2x12x12-causal', 'masked-softmax-bf16-2x3x8x16-masked-rows', 'masked-softmax-f32-2x3x8x16-masked-rows'])(
    '%s: the probabilities recomputed from the logsumexp without the mask',
    (name) => {
      const input = fixture(name);
      const leaks = logsumexpLeak(input);
      const report = judged(withExpected(input, { grad: leaking(input, (i) => leaks[i]) }));
      const [first] = report.diagnosis;
      expect([codes(report), first.explains, first.details?.matches]).toEqual([['masked-grad-leaks'], first.failing, 'logsumexp-without-mask']);
      expect(first.message).toContain('the backward recomputes p from the logsumexp without the mask');
    },
  );

  test.each(['masked-softmax-bf16-2x3x8x8-mask8x8', 'masked-softmax-f32-8x64-random-scale48'])('%s: values no recomputation explains (g written there)', (name) => {
    const input = fixture(name);
    const report = judged(withExpected(input, { grad: leaking(input, (i) => input.g.data[i]) }));
    const [first] = report.diagnosis;
    expect([first.code, first.explains, first.details?.matches]).toEqual(['masked-grad-leaks', first.failing, undefined]);
    expect(first.details?.leaks).toBe(first.failing);
    expect(first.message).toMatch(/where the exact one is 0: the backward does not zero masked positions$/);
  });

  test.each(['masked-softmax-f32-2x3x8x16-masked-rows', 'masked-softmax-bf16-2x3x8x16-masked-rows'])(
    "%s: NaN gradients in the fully masked rows (the NaN forward's backward not zeroed)",
    (name) => {
      const input = fixture(name);
      const dead = deadElements(input);
      const report = judged(withExpected(input, { grad: input.expected!.grad!.map((v, i) => (dead[i] === 1 ? NaN : v)) }));
      const [first] = report.diagnosis;
      expect([codes(report), first.failing, first.details]).toEqual([['masked-grad-leaks'], 64, { leaks: 64, nan: 64 }]);
      expect(first.message).toMatch(/^the gradient is NaN at 64 masked positions \(first \[0, 0, 3, 0\]\)/);
    },
  );
});

describe('causal-off-by-one: the causal mask one diagonal off', () => {
  const cases = [
    ['masked-softmax-f32-2x12x12-causal', 'causal'],
    ['masked-softmax-bf16-2x12x12-causal', 'causal'],
    ['masked-softmax-f32-2x8x12-causal-nonsquare', 'causal'],
    ['masked-softmax-f32-2x12x12-causal', 'tril mask'],
    ['masked-softmax-bf16-2x12x12-causal', 'tril mask'],
  ] as const;
  test.each(cases.flatMap(([name, given]) => [[name, given, '+', 1], [name, given, '−', -1]] as const))('%s as %s: j ≤ i %s 1', (name, given, _sign, shift) => {
    const input = given === 'causal' ? fixture(name) : asTrilMask(fixture(name));
    const spec = specOf(input);
    expect(spec.causal).toBe(given === 'causal');
    // j ≤ i − 1 masks the first row: a kernel given as a tril mask is taken to write 0 there (FlashAttention's), the causal one NaN.
    const maskedRows: MaskedRows = given === 'causal' ? 'nan' : 'zero';
    const planted = judged(withExpected(input, kernelWith(input, { ...spec, keep: causalKeep(input.x.shape, shift), maskedRows })));
    const [first] = planted.diagnosis;
    const keeps = shift === 1 ? 'j ≤ i + 1' : 'j ≤ i − 1';
    expect([codes(planted), first.explains >= 0.9 * first.failing, first.details]).toEqual([
      ['causal-off-by-one'],
      true,
      { shift, direction: shift === 1 ? 'j = i + 1 kept' : 'j = i masked', keeps },
    ]);
    expect(first.message).toBe(`the causal mask is one diagonal off: it keeps ${keeps}, not j ≤ i (${shift === 1 ? 'j = i + 1 kept' : 'j = i masked'})`);
  });

  test('is not made for a mask of no causal shape', () => {
    // mask8x8 is random: the same plant (its keep cut to j ≤ i + 1) is no causal shift of it.
    const input = fixture('masked-softmax-f32-2x3x8x8-mask8x8');
    const spec = specOf(input);
    const keep = causalKeep(input.x.shape, 1).map((v, i) => v & spec.keep[i]);
    const report = judged(withExpected(input, kernelWith(input, { ...spec, keep })));
    expect(codes(report)).not.toContain('causal-off-by-one');
  });
});

describe('masked-row-convention (generic) on fully masked rows', () => {
  test.each(['masked-softmax-f32-2x3x8x16-masked-rows', 'masked-softmax-bf16-2x3x8x16-masked-rows', 'masked-softmax-f32-3x10x5-native-dim1'])(
    '%s: 0 where PyTorch gives NaN',
    (name) => {
      const input = fixture(name);
      const dead = deadElements(input);
      const report = judged(withExpected(input, { forward: input.expected!.forward!.map((v, i) => (dead[i] === 1 ? 0 : v)) }));
      const [first] = report.diagnosis;
      const rows = dead.reduce((n, v) => n + v, 0);
      expect([codes(report), first.quantity, first.explains, first.failing, first.details]).toEqual([['masked-row-convention'], 'forward', rows, rows, { gives: 'zero', flag: '--masked-rows zero' }]);
    },
  );

  test('masked-softmax-f64-2x3x8x16-masked-rows-zero: NaN where the run expects 0', () => {
    const input = fixture('masked-softmax-f64-2x3x8x16-masked-rows-zero');
    expect(specOf(input).maskedRows).toBe('zero');
    const dead = deadElements(input);
    const report = judged(withExpected(input, { forward: input.expected!.forward!.map((v, i) => (dead[i] === 1 ? NaN : v)) }));
    const [first] = report.diagnosis;
    expect([codes(report), first.explains, first.failing, first.details]).toEqual([['masked-row-convention'], 64, 64, { gives: 'nan', flag: '--masked-rows nan' }]);
  });
});

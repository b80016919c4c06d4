import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { judge } from '../../src/core/judge.js';
import type { Report, VerifyInput } from '../../src/core/report.js';
import { InputError, verify } from '../../src/index.js';
import { parseInputDocument } from '../../src/input/input-document.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { OP_DEFINITIONS } from '../../src/ops/index.js';
import { maskedSoftmaxSpec } from '../../src/ops/masked_softmax/masked-softmax-fields-out.js';
import { fullyMaskedSlices } from '../../src/ops/masked_softmax/masked-softmax.js';
import type { MaskedSoftmaxSpec } from '../../src/ops/masked_softmax/masked-softmax-spec.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import { UNLIMITED } from '../../src/reference/reference-by-slices.js';
import { folderWith } from '../helpers/temp-dir.js';
import { ROOT, runMain } from '../helpers/run-cli.js';

/**
 * masked_softmax (the softmax inside attention) on PyTorch's own results (fixtures/family/, made by
 * scripts/pytorch/generate-masked-fixtures.py): the masked_fill composition and
 * torch._masked_softmax in float32 and bfloat16, random, broadcast and causal masks, fully masked
 * rows; and the bugs attention kernels ship with, planted into those results.
 */
const FAMILY = join(ROOT, 'fixtures', 'family');
const NAMES = readdirSync(FAMILY)
  .filter((name) => name.startsWith('masked-softmax-') && name.endsWith('.json'))
  .sort();

function fixtureInput(name: string): VerifyInput {
  return inputFromDocument(name, parseInputDocument(readFileSync(join(FAMILY, name), 'utf8')));
}

/** masked_softmax's closed form on `input` with another spec: what a kernel with that mask (or scale) returns. */
function resultsWith(input: VerifyInput, spec: MaskedSoftmaxSpec) {
  const a = arithmeticFor(input.dtype);
  const other = { ...input, spec };
  const { forward, grad } = OP_DEFINITIONS.masked_softmax.methods(other).closedForm(input.x.data, input.g.data, sliceLayout(input.x.shape, input.axis), a);
  return { forward, grad };
}

function withExpected(input: VerifyInput, expected: { forward?: Float64Array; grad?: Float64Array }): VerifyInput {
  return { ...input, expected: { forward: expected.forward ?? input.expected!.forward, grad: expected.grad ?? input.expected!.grad } };
}

/** The report's expected-vs-exact comparison of `quantity`: how many elements fail it. */
function expectedMismatches(report: Report, quantity: 'forward' | 'grad'): number {
  return report.comparisons.find((c) => c.quantity === quantity && c.actual === 'expected')!.closeness.mismatched;
}

describe('masked_softmax on PyTorch fixtures', () => {
  test('there are the fixtures the issue names: both dtypes, the composition and torch._masked_softmax, causal, broadcast, fully masked rows', () => {
    expect(NAMES).toHaveLength(15);
    const sources = NAMES.map((name) => fixtureInput(name).source!);
    expect(sources.filter((source) => source.includes('masked_fill')).length).toBeGreaterThanOrEqual(10);
    expect(sources.filter((source) => source.includes('torch._masked_softmax')).length).toBe(3);
  });

  test.each(NAMES)('passes %s', (name) => {
    const report = judge(fixtureInput(name));
    expect([expectedMismatches(report, 'forward'), expectedMismatches(report, 'grad'), report.passed]).toEqual([0, 0, true]);
  });

  test("torch._masked_softmax's bfloat16 CPU kernel computes in bfloat16 (x − max and each exp rounded), as its fixture says: at PyTorch's usual float32 opmath it fails, with the hint", () => {
    const input = fixtureInput('masked-softmax-bf16-2x3x8x16-native.json');
    expect(input.arithmetic).toEqual({ compute: 'bfloat16', accumulate: 'float32' });
    const usual = judge({ ...input, arithmetic: undefined });
    expect([usual.passed, expectedMismatches(usual, 'forward'), usual.passesComputingInDtype]).toEqual([false, 6, true]);
    expect(judge(input, { arithmetic: { compute: 'float32' } }).passed).toBe(false);
  });

  const scaled = NAMES.filter((name) => maskedSoftmaxSpec(fixtureInput(name).spec).scale !== 1);
  test.each(scaled)('fails %s with the scale left out of the gradient', (name) => {
    const input = fixtureInput(name);
    const { scale } = maskedSoftmaxSpec(input.spec);
    const { store } = arithmeticFor(input.dtype);
    const report = judge(withExpected(input, { grad: input.expected!.grad!.map((v) => store(v / scale)) }));
    expect(report.passed).toBe(false);
    expect(expectedMismatches(report, 'grad')).toBeGreaterThan(0);
  });

  test.each(NAMES)('fails %s with the gradient leaking into masked positions (an unmasked backward there)', (name) => {
    const input = fixtureInput(name);
    const spec = maskedSoftmaxSpec(input.spec);
    const unmasked = resultsWith(input, { ...spec, keep: new Uint8Array(spec.keep.length).fill(1) });
    const dead = fullyMaskedSlices(spec, sliceLayout(input.x.shape, input.axis));
    const { length, stride } = sliceLayout(input.x.shape, input.axis);
    const sliceOf = (i: number) => (stride === 1 ? Math.floor(i / length) : Math.floor(i / (length * stride)) * stride + (i % stride));
    const leaked = input.expected!.grad!.map((v, i) => (spec.keep[i] === 0 && dead[sliceOf(i)] === 0 ? unmasked.grad[i] : v));
    const report = judge(withExpected(input, { grad: leaked }));
    expect(report.passed).toBe(false);
    expect(expectedMismatches(report, 'grad')).toBeGreaterThan(0);
  });

  const causal = NAMES.filter((name) => maskedSoftmaxSpec(fixtureInput(name).spec).causal);
  test.each(causal.flatMap((name) => [[name, 1], [name, -1]] as const))('fails %s with the causal mask off by %i (j ≤ i + k)', (name, k) => {
    const input = fixtureInput(name);
    const spec = maskedSoftmaxSpec(input.spec);
    const [rows, columns] = input.x.shape.slice(-2);
    const keep = spec.keep.map((_, at) => (at % columns <= (Math.floor(at / columns) % rows) + k ? 1 : 0));
    const report = judge(withExpected(input, resultsWith(input, { ...spec, keep })));
    expect(report.passed).toBe(false);
    expect(expectedMismatches(report, 'forward')).toBeGreaterThan(0);
    expect(expectedMismatches(report, 'grad')).toBeGreaterThan(0);
  });

  const withDeadRows = NAMES.filter((name) => {
    const input = fixtureInput(name);
    return fullyMaskedSlices(maskedSoftmaxSpec(input.spec), sliceLayout(input.x.shape, input.axis)).includes(1);
  });
  test.each(withDeadRows)("fails %s judged by the other convention for fully masked rows", (name) => {
    const input = fixtureInput(name);
    const spec = maskedSoftmaxSpec(input.spec);
    const report = judge({ ...input, spec: { ...spec, maskedRows: spec.maskedRows === 'nan' ? 'zero' : 'nan' } });
    expect(report.passed).toBe(false);
    expect(expectedMismatches(report, 'forward')).toBeGreaterThan(0);
  });

  test('its exact reference is softmax\'s of the kept logits alone, slice by slice, bit for bit (scale 0.125: scale·x exact)', async () => {
    const input = fixtureInput('masked-softmax-f32-2x3x8x16-masked-rows.json');
    const spec = maskedSoftmaxSpec(input.spec);
    const found = await OP_DEFINITIONS.masked_softmax.reference(input, 'double-double', UNLIMITED);
    if (!('forward' in found)) throw new Error('reference left undecided');
    const n = input.x.shape.at(-1)!;
    const loadBigNumber = async () => (await import('../../src/reference/bignumber-reference.js')).loadBigNumberReference();
    for (let row = 0; row < input.x.data.length / n; row++) {
      const kept = [...Array(n).keys()].filter((j) => spec.keep[row * n + j] === 1);
      const forward = found.forward.subarray(row * n, row * n + n);
      const grad = found.grad.subarray(row * n, row * n + n);
      if (kept.length === 0) {
        expect([forward.every(Number.isNaN), grad.every((v) => v === 0)]).toEqual([true, true]);
        continue;
      }
      const x = Float64Array.from(kept, (j) => spec.scale * input.x.data[row * n + j]);
      const g = Float64Array.from(kept, (j) => input.g.data[row * n + j]);
      const alone = await computeReference({ shape: [kept.length], data: x }, { shape: [kept.length], data: g }, 0, 'double-double', loadBigNumber);
      expect(kept.map((j) => forward[j])).toEqual(Array.from(alone.forward));
      expect(kept.map((j) => grad[j])).toEqual(Array.from(alone.grad, (v) => v * spec.scale));
      expect([...Array(n).keys()].filter((j) => !kept.includes(j)).every((j) => forward[j] === 0 && grad[j] === 0)).toBe(true);
    }
  });
});

describe('masked_softmax at every door', () => {
  const x = '[[1, 2, 3], [4, 5, 6]]';
  const g = '[[1, 0, 0], [0, 1, 0]]';
  const s0 = 1 / (1 + Math.E);

  test('flags: a JSON mask of booleans, the scale, masked rows given 0; the text and JSON reports say so', async () => {
    const args = ['--op', 'masked_softmax', '--x', x, '--g', g, '--mask', '[[true, false, true], [false, false, false]]', '--scale', '0.5', '--masked-rows', 'zero'];
    const json = await runMain([...args, '--format', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    const { softmax, grad } = report.results.closedForm;
    // x' = 0.5·[1, −∞, 3]: softmax(0.5, 1.5) = [1/(1+e), e/(1+e)]; dx = 0.5·s ⊙ (g − s_0).
    expect(softmax[0][0]).toBeCloseTo(s0, 15);
    expect([softmax[0][1], softmax[1], grad[1]]).toEqual([0, [0, 0, 0], [0, 0, 0]]);
    expect(grad[0][0]).toBeCloseTo(0.5 * s0 * (1 - s0), 15);
    expect(grad[0][2]).toBeCloseTo(-0.5 * s0 * (1 - s0), 15);
    expect([report.input.mask, report.input.scale, report.input.maskedRows, report.input.causal]).toEqual([[[1, 0, 1], [0, 0, 0]], 0.5, 'zero', false]);
    const text = await runMain(args);
    expect(text.stdout).toContain('mask: [2, 3], 2 of 6 elements kept; scale 0.5; a fully masked slice gives 0 forward and 0 gradient');
  });

  test('a flat list of 1/0 or true/false, and a mask of trailing dims broadcast over the leading ones, mean the same mask', async () => {
    const run = async (mask: string) => JSON.parse((await runMain(['--op', 'masked_softmax', '--x', x, '--g', g, '--mask', mask, '--format', 'json'])).stdout).results.closedForm;
    const full = await run('[[true, false, true], [true, false, true]]');
    expect(await run('1,0,1')).toEqual(full);
    expect(await run('true false true')).toEqual(full);
    expect(await run('[[1, 0, 1]]')).toEqual(full);
  });

  test('causal keeps j ≤ i over the last two dims, top-left aligned', async () => {
    const json = await runMain(['--op', 'masked_softmax', '--x', '[[1, 2, 3], [4, 5, 6]]', '--causal', '--format', 'json']);
    expect(json.code).toBe(0);
    const { softmax } = JSON.parse(json.stdout).results.closedForm;
    expect(softmax[0]).toEqual([1, 0, 0]);
    expect(softmax[1][2]).toBe(0);
    expect(softmax[1][0] + softmax[1][1]).toBeCloseTo(1, 15);
  });

  test.each([
    ['a mask value that is no boolean', ['--mask', '[[1, 0.5, 1], [1, 1, 1]]'], 'error: --mask[0, 1] is 0.5, not a boolean: a mask holds true/false (or 1/0), true where the element takes part\n'],
    ['a word that is no boolean', ['--mask', '1,yes,1'], 'error: --mask[1] is not a boolean: "yes"\n'],
    ['a mask that does not broadcast', ['--mask', '[1, 0]'], "error: mask has shape [2], which does not broadcast to x's [2, 3]: give x's shape, or its trailing dims (each the same or 1)\n"],
    ['both a mask and causal', ['--mask', '1,0,1', '--causal'], 'error: mask and causal are both given: give one (causal is the mask that keeps j ≤ i)\n'],
    ['a scale that is no number', ['--scale', 'half'], 'error: --scale must be a finite number, got "half"\n'],
    ['a masked-rows convention it does not know', ['--masked-rows', 'skip'], 'error: --masked-rows must be one of nan, zero, got "skip"\n'],
  ])('refuses %s: one line, exit 2', async (_, extra, stderr) => {
    const run = await runMain(['--op', 'masked_softmax', '--x', x, '--g', g, ...extra]);
    expect([run.code, run.stderr, run.stdout]).toEqual([2, stderr, '']);
  });

  test('refuses causal on x of rank 1, and a mask with another op, by name', async () => {
    const rank1 = await runMain(['--op', 'masked_softmax', '--x', '1,2,3', '--causal']);
    expect([rank1.code, rank1.stderr]).toEqual([2, 'error: causal needs x of rank 2 or more (it keeps j ≤ i over the last two dims), but x has shape [3]\n']);
    const stray = await runMain(['--x', '1,2,3', '--mask', '1,0,1']);
    expect([stray.code, stray.stderr]).toEqual([2, 'error: --mask is for --op masked_softmax\n']);
  });

  test('a JSON document with "mask", and one with a mask of another op refused', async () => {
    const doc = { op: 'masked_softmax', x: [[1, 2, 3]], g: [[1, 0, 0]], mask: [[true, true, false]], scale: 2, masked_rows: 'nan' };
    expect((await runMain(['--input', '-'], { stdin: JSON.stringify(doc) })).code).toBe(0);
    const wrong = await runMain(['--input', '-'], { stdin: JSON.stringify({ ...doc, op: 'softmax' }) });
    expect([wrong.code, wrong.stderr]).toEqual([2, 'error: stdin: mask is a field of op masked_softmax: add "op": "masked_softmax", or leave it out\n']);
    const notBoolean = await runMain(['--input', '-'], { stdin: JSON.stringify({ ...doc, causal: 'yes' }) });
    expect([notBoolean.code, notBoolean.stderr]).toEqual([2, 'error: stdin: causal must be true or false, got "yes"\n']);
  });

  test('the library: nested booleans or a typed array of 1/0; a bad mask refused by name', async () => {
    const request = { op: 'masked_softmax' as const, x: [[1, 2, 3]], g: [[1, 0, 0]], scale: 2 };
    const nested = await verify({ ...request, mask: [[true, false, true]] });
    const typed = await verify({ ...request, mask: { shape: [1, 3], data: Uint8Array.of(1, 0, 1) } });
    expect([nested.passed, typed.passed]).toEqual([true, true]);
    expect(Array.from(nested.results.closedForm.forward)).toEqual(Array.from(typed.results.closedForm.forward));
    expect(nested.results.closedForm.forward[1]).toBe(0);
    await expect(verify({ ...request, mask: [[true, 'no', true]] as never })).rejects.toThrow(new InputError('mask[0][1] is not a boolean: "no"'));
    await expect(verify({ ...request, mask: [[2, 0, 1]] })).rejects.toThrow(InputError);
  });

  test('a scale of 0: every gradient exactly 0; an expected one 1e-12 off is within its allowance (no 0/0 there)', async () => {
    const request = { op: 'masked_softmax' as const, x: [[1, 2, 3]], g: [[1, 0, 0]], mask: [[true, true, false]], scale: 0 };
    const exact = await verify({ ...request, expected: { softmax: [[0.5, 0.5, 0]], grad: [[0, 0, 0]] } });
    expect([exact.passed, Array.from(exact.results.closedForm.grad)]).toEqual([true, [0, 0, 0]]);
    const off = await verify({ ...request, expected: { softmax: [[0.5, 0.5, 0]], grad: [[1e-12, 0, 0]] } });
    const grad = off.comparisons.find((c) => c.quantity === 'grad' && c.actual === 'expected')!.closeness;
    expect([grad.mismatched, grad.worst.value]).toEqual([0, 1e-5]);
  });

  test("bfloat16 logits where rounding scale·x moves s by a lot: PyTorch's exact y = [1, 0] passes (no ∞·0 in the allowance), a swapped softmax fails", async () => {
    const flags = ['--op', 'masked_softmax', '--dtype', 'bfloat16', '--scale', '0.3', '--source', 'torch'];
    const confident = await runMain([...flags, '--x', '1000,0', '--g', '1,2', '--expected-softmax', '1,0', '--expected-grad', '0,0']);
    expect([confident.code, confident.stdout]).not.toContain('NaN');
    expect(confident.code).toBe(0);
    // PyTorch's composition gives [0.469, 0.469, 0.063] here (the exact result is [0.740, 0.223, 0.037]).
    const wide = ['--x', '1000,996,990'];
    expect((await runMain([...flags, ...wide, '--expected-softmax', '0.46875,0.46875,0.0625'])).code).toBe(0);
    expect((await runMain([...flags, ...wide, '--expected-softmax', '0,1,0'])).code).toBe(1);
  });

  test('logits so large that rounding scale·x moves them by more than exp can take (bfloat16 at 1e8): an allowance of the whole [0, 1], not NaN (found by hunt)', async () => {
    const x = [[100139008, 100139008, 100139008]];
    const report = await verify({ op: 'masked_softmax', dtype: 'bfloat16', x, g: [[1, 0.5, 0]], scale: 1 / Math.sqrt(96), expected: { softmax: [[0.333984375, 0.333984375, 0.333984375]] } });
    const softmax = report.comparisons.find((c) => c.quantity === 'forward' && c.actual === 'expected')!.closeness;
    expect([report.passed, softmax.mismatched, Number.isFinite(softmax.worst.value)]).toEqual([true, 0, true]);
  });

  test("a tie that rounding scale·x makes in bfloat16 (PyTorch 1.13's 0.5 and 0.5 where the exact result is 1 and 0) is within the allowance: found by hunt", async () => {
    // (x * 0.158...).softmax(-1) in bfloat16: both products round to 4480, 32 apart from the exact ones.
    const report = await verify({
      op: 'masked_softmax',
      dtype: 'bfloat16',
      x: [[28416, 1168, 1152, -2848, -3632, -6784, 4896, 28288]],
      g: [[4, 4, 3, 4, 2, 4, 1, 3]],
      scale: 0.15811388300841897,
      expected: { softmax: [[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]], grad: [[0.03955078125, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, -0.03955078125]] },
    });
    expect(report.passed).toBe(true);
  });

  test('the notes read the logits the softmax sees: scale −1 makes +∞ a masked −∞ logit, and −∞ a +∞ one', async () => {
    expect((await runMain(['--op', 'masked_softmax', '--x', 'inf,1', '--g', '1,2', '--scale', '-1'])).stdout).not.toContain('note:');
    expect((await runMain(['--op', 'masked_softmax', '--x', '-inf,1', '--g', '1,2', '--scale', '-1'])).stdout).toContain('note: slice x[:] has a +Infinity logit');
    const none = await runMain(['--op', 'masked_softmax']);
    expect([none.code, none.stderr]).toEqual([2, 'error: --op masked_softmax has no built-in example: give --x (and --g, --mask, …), or --input\n']);
  });

  test('a fully masked slice is explained; a NaN at a masked position is no NaN logit', async () => {
    const doc = { op: 'masked_softmax', x: [[1, 2, 3], [4, 'NaN', 6]], g: [[1, 0, 0], [0, 1, 0]], mask: [[false, false, false], [true, false, true]] };
    const run = await runMain(['--input', '-'], { stdin: JSON.stringify(doc) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`note: slice x[0, :] has every element masked out: both methods give it masked_rows' forward (NaN, or 0 for "zero") and a gradient of 0, as PyTorch does`);
    expect(run.stdout).not.toContain('NaN logit');
  });

  test("a fixture's own arithmetic is said in the report, and a flag that changes it drops the word; one narrower than the dtype is refused by its name", async () => {
    const native = join(FAMILY, 'masked-softmax-bf16-2x3x8x16-native.json');
    expect((await runMain(['--input', native])).stdout).toContain("operations in bfloat16, sums in float32, results stored in bfloat16 (the input's)");
    expect((await runMain(['--input', native, '--accumulate', 'float64'])).stdout).toContain('operations in bfloat16, sums in float64, results stored in bfloat16\n');
    const narrower = await runMain(['--input', '-'], { stdin: JSON.stringify({ x: [1, 2], g: [1, 0], dtype: 'float64', arithmetic: { compute: 'float32' } }) });
    expect([narrower.code, narrower.stderr]).toEqual([2, 'error: stdin: arithmetic.compute float32 is narrower than the dtype float64: a kernel computes and sums at least as wide as the values it reads\n']);
  });

  test('record writes a fixture with its mask as booleans, and check passes it', async () => {
    const cwd = folderWith({});
    const recorded = await runMain(['record', '--op', 'masked_softmax', '--x', x, '--g', g, '--mask', '1,0,1', '--scale', '0.25', '--name', 'attention', '-o', 'attention.json'], { cwd });
    expect(recorded.code).toBe(0);
    const fixture = JSON.parse(readFileSync(join(cwd, 'attention.json'), 'utf8'));
    expect([fixture.op, fixture.mask, fixture.scale, fixture.masked_rows, fixture.causal]).toEqual(['masked_softmax', [true, false, true], 0.25, 'nan', undefined]);
    expect((await runMain(['check', 'attention.json'], { cwd })).code).toBe(0);
  });
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cascadeSumBound } from '../src/ops/cross_entropy/cross-entropy-allowance.js';
import { UNIT_ROUNDOFF } from '../src/dtype.js';
import { roundToDType } from '../src/numeric/round-dtype.js';
import { readInput, verify } from '../src/index.js';
import { PROPERTY_OPTIONS } from './helpers/properties.js';

/**
 * cross_entropy and log_softmax where PyTorch's results are not finite, or its arguments are
 * unusual but valid: each gives PyTorch's own values a PASS (a review found each one judged
 * wrongly or refused).
 */
describe('the softmax family at its edges', () => {
  test('a masked target class: PyTorch\'s infinite loss is the exact one', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, -Infinity, 3]], target: [1], expected: { loss: Infinity } }, { reference: 'double-double' });
    expect(report.passed).toBe(true);
    expect(report.exact?.forward[0]).toBe(Infinity);
    expect(report.reference?.forward[0]).toBe(Infinity);
  });

  test('a masked class with weight 0 and smoothing: NaN in both methods, as in PyTorch', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, -Infinity, 3], [4, 5, 6]], target: [0, 2], weight: [1, 0, 1], labelSmoothing: 0.1 });
    expect(report.passed).toBe(true);
    expect(report.results.jacobian?.forward[0]).toBeNaN();
    expect(report.results.closedForm.forward[0]).toBeNaN();
  });

  test('negative class weights (PyTorch takes them) pass', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, 2, 3], [4, 5, 6]], target: [0, 1], weight: [1, -2, 3] });
    expect(report.passed).toBe(true);
    expect(report.comparisons.every((c) => c.closeness.worst.value >= 0 && c.closeness.worst.value < 1)).toBe(true);
  });

  test('every target ignored under mean: the loss NaN and the gradient 0, as PyTorch gives them', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, 2, 3], [4, 5, 6]], target: [-100, -100], expected: { loss: NaN, grad: [[0, 0, 0], [0, 0, 0]] } });
    expect(report.passed).toBe(true);
  });

  test('an all-masked row: PyTorch\'s NaN log_softmax and gradient, with no flag on its sums', async () => {
    const y = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804];
    const report = await verify({
      op: 'log_softmax',
      x: [[1, 2, 3], [-Infinity, -Infinity, -Infinity]],
      g: [[1, 0, 0], [1, 1, 1]],
      expected: { log_softmax: [y, [NaN, NaN, NaN]] },
    });
    expect(report.passed).toBe(true);
    expect(report.invariants.expected?.flaggedSlices).toBe(0);
  });

  test('a negative ignore_index with probability targets ignores nothing, as in PyTorch; a class index is refused', async () => {
    const request = { op: 'cross_entropy' as const, x: [[1, 2, 3]], target: [[0.2, 0.3, 0.5]] };
    expect((await verify({ ...request, ignoreIndex: -100 })).passed).toBe(true);
    await expect(verify({ ...request, ignoreIndex: 1 })).rejects.toThrow('ignore_index is for class-index targets');
  });

  test('readInput takes the settings a file cannot carry (an .npz with no reduction)', async () => {
    await expect(readInput('test/data/dumps/cross-entropy.npz')).resolves.toMatchObject({ op: 'cross_entropy', reduction: 'mean', labelSmoothing: 0 });
    const request = await readInput('test/data/dumps/cross-entropy.npz', { labelSmoothing: 0.1 });
    expect((await verify(request)).passed).toBe(true);
  });

  test("torch.finfo.min masks (Hugging Face's) and weights that sum to 0 or less: PyTorch's values pass, with no exit 3", async () => {
    const min = -1.7976931348623157e308;
    // PyTorch 1.13, float64 (the cases).
    const cases = [
      { request: { op: 'log_softmax' as const, x: [0.3, 0.3, min, -1], g: [1, 0, 0, 0] }, expected: { log_softmax: [-0.8208945373056320, -0.8208945373056320, min, -2.120894537305632], grad: [0.5599621518760274, -0.4400378481239726, 0, -0.11992430375205478] } },
      { request: { op: 'cross_entropy' as const, x: [[0, 0, min]], target: [0] }, expected: { loss: 0.6931471805599453, grad: [[-0.5, 0.5, 0]] } },
      { request: { op: 'cross_entropy' as const, x: [[0, 0, 1]], target: [0], weight: [0, 0, 0] }, expected: { loss: NaN, grad: [[NaN, NaN, NaN]] } },
      { request: { op: 'cross_entropy' as const, x: [[0, 0, 1], [1, 2, 3]], target: [0, 1], weight: [-1, 1, 1] }, expected: { loss: -Infinity, grad: [[NaN, -Infinity, -Infinity], [Infinity, NaN, Infinity]] } },
    ];
    for (const { request, expected } of cases) {
      const report = await verify({ ...request, expected });
      expect(report.passed, JSON.stringify(request)).toBe(true);
      expect(report.reference?.slicesByBigNumber, JSON.stringify(request)).toBe(0);
    }
  });

  test('a logit far below the rest (finfo.min, or -1e9 in float32) has a finite allowance: a wrong value there fails', async () => {
    const min = -1.7976931348623157e308;
    const wrongMasked = await verify({ op: 'log_softmax', x: [1, min, 2], g: [1, 2, 3], expected: { log_softmax: [-1.3132616875182228, 0, -0.31326168751822286] } });
    expect(wrongMasked.comparisons.map((c) => c.closeness.mismatched)).toEqual([0, 1, 0]);
    const float32 = await verify({ op: 'log_softmax', dtype: 'float32', x: [1, -1e9, 2], g: [1, 1, 1], expected: { log_softmax: [-1.3132617, 0, -0.31326169] } });
    expect(float32.passed).toBe(false);
    const loss = await verify({ op: 'cross_entropy', x: [[1, min, 2], [min, min, min]], target: [0, 1], expected: { loss: 12345 } });
    expect(loss.passed).toBe(false);
  });

  test('a row masked wholly at finfo.min: PyTorch\'s −log n passes, and so does the 0 of a kernel that subtracts a rounded m + L; 7 fails', async () => {
    const min = -1.7976931348623157e308;
    const x = [[min, min, min]];
    const g = [[1, 2, 3]];
    const pytorch = await verify({ op: 'log_softmax', x, g, expected: { log_softmax: [[-Math.log(3), -Math.log(3), -Math.log(3)]], grad: [[-1, 0, 1]] } });
    expect(pytorch.passed).toBe(true);
    // m + L rounds to m: y = x − m = 0, exp(y) = 1, dx = g − Σg.
    const lseDesign = await verify({ op: 'log_softmax', x, g, expected: { log_softmax: [[0, 0, 0]], grad: [[-5, -4, -3]] } });
    expect(lseDesign.passed).toBe(true);
    const wrong = await verify({ op: 'log_softmax', x, g, expected: { log_softmax: [[7, 7, 7]], grad: [[70, 70, 70]] } });
    expect(wrong.comparisons.filter((c) => c.actual === 'expected').map((c) => c.closeness.mismatched)).toEqual([3, 3]);
  });

  test("a padding row, fully masked and ignored, has PyTorch's NaN gradient and adds nothing to the loss", async () => {
    const report = await verify({ op: 'cross_entropy', x: [[-Infinity, -Infinity, -Infinity], [1, 2, 3]], target: [-100, 1] });
    for (const method of [report.results.jacobian!, report.results.closedForm]) {
      expect(Array.from(method.grad.slice(0, 3)).every(Number.isNaN)).toBe(true);
      expect(method.forward[0]).toBeCloseTo(1.4076059644443806, 15);
    }
    expect(report.sliceNotes).toEqual([{ slice: '[0, :]', reason: 'all-masked', ignored: true }]);
  });
});

describe("the loss's allowance", () => {
  test('bounds the rounding of a sum formed as PyTorch forms it, in bfloat16 and float16 (random sizes, random signs)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('bfloat16' as const, 'float16' as const),
        fc.array(fc.oneof(fc.double({ min: -300, max: 300, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 80 }),
        (dtype, raw) => {
          const round = (v: number) => roundToDType(v, dtype);
          const terms = raw.map((v) => (v === v ? round(v) : NaN));
          // LossNLL.cpp's cascade, every addition rounded to the dtype, NaN for an ignored sample.
          const power = Math.max(4, Math.floor(Math.ceil(Math.log2(terms.length)) / 8));
          const mask = (1 << power) - 1;
          const levels = new Array<number>(8).fill(0);
          let exact = 0;
          terms.forEach((t, b) => {
            if (t !== t) return;
            exact += t;
            levels[0] = round(levels[0] + t);
            for (let j = 0; j + 1 < 8; j++) {
              if ((b & (mask << (j * power))) !== 0) break;
              levels[j + 1] = round(levels[j + 1] + levels[j]);
              levels[j] = 0;
            }
          });
          const computed = levels.reduce((sum, level) => round(sum + level), 0);
          return Math.abs(computed - exact) <= cascadeSumBound(terms.map(Math.abs), UNIT_ROUNDOFF[dtype]);
        },
      ),
      PROPERTY_OPTIONS,
    );
  });

  test('is as tight as the sum PyTorch does: 256 then fifteen 1s, every 1 lost in bfloat16, is 15 exactly', () => {
    expect(cascadeSumBound([1, 256, ...new Array<number>(14).fill(1)], UNIT_ROUNDOFF.bfloat16)).toBe(15);
  });

  test("fails a bfloat16 mean loss 5 % off the exact one either way, and passes PyTorch's own (16 samples of 512 classes)", async () => {
    // Finite throughout: plain JSON.
    const fixture = JSON.parse(readFileSync('fixtures/family/cross-entropy-bf16-16x512-mean.json', 'utf8')) as {
      x: number[][]; target: number[]; g: number; expected: { loss: number };
    };
    const request = { op: 'cross_entropy' as const, dtype: 'bfloat16' as const, x: fixture.x, target: fixture.target, g: fixture.g };
    const run = async (loss: number) => verify({ ...request, expected: { loss } }, { reference: 'off' });
    const pytorch = await run(fixture.expected.loss);
    expect(pytorch.passed).toBe(true);
    // The nearest bfloat16 values at least 5 % away from the exact loss (a kernel's loss is a bfloat16).
    const exact = pytorch.exact!.forward[0];
    const spacing = (v: number) => 2 ** (Math.floor(Math.log2(v)) - 7);
    const above = Math.ceil((exact * 1.05) / spacing(exact * 1.05)) * spacing(exact * 1.05);
    const below = Math.floor((exact * 0.95) / spacing(exact * 0.95)) * spacing(exact * 0.95);
    expect([above / exact, below / exact].map((r) => Math.abs(r - 1))).toEqual([expect.closeTo(0.055, 2), expect.closeTo(0.053, 2)]);
    expect((await run(above)).passed).toBe(false);
    expect((await run(below)).passed).toBe(false);
  });
});

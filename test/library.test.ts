import { describe, expect, test } from 'vitest';
import { check, InputError, OverBudgetError, readInput, toJson, verify } from '../src/index.js';
import { loadFixture } from './helpers/fixtures.js';

const X = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const G = [11, 12, 13, 14, 15, 16, 17, 18, 19];

describe('the library API', () => {
  test("verify passes the seed with PyTorch's values, and fails a gradient 5 % high", async () => {
    const seed = loadFixture('seed.json');
    const right = await verify({ x: X, g: G, expected: { softmax: seed.expected!.forward!, grad: seed.expected!.grad! } });
    expect(right.passed).toBe(true);
    const wrong = await verify({ x: X, g: G, expected: { grad: Array.from(seed.expected!.grad!, (v) => v * 1.05) } });
    expect(wrong.passed).toBe(false);
    expect(wrong.comparisons.find((c) => c.actual === 'expected' && c.quantity === 'grad')?.closeness.mismatched).toBe(9);
  });

  test('takes nested arrays, typed arrays, and flat data with a shape alike', async () => {
    const nested = await verify({ x: [[1, 2], [3, 5]], g: [[1, 0], [0, 1]], dim: 0 });
    const shaped = await verify({ x: { shape: [2, 2], data: Float64Array.of(1, 2, 3, 5) }, g: { shape: [2, 2], data: [1, 0, 0, 1] }, dim: 0 });
    expect(Array.from(shaped.results.closedForm.grad)).toEqual(Array.from(nested.results.closedForm.grad));
    expect(shaped.input.axis).toBe(0);
    const typed = await verify({ x: Float32Array.of(1, 2, 3), g: [1, 0, 0], dtype: 'float32' });
    expect([typed.input.x.shape, typed.arithmetic.dtype, typed.passed]).toEqual([[3], 'float32', true]);
  });

  test('toJson gives the document --format json writes', async () => {
    const report = await verify({ x: X, g: G }, { reference: 'off' });
    const doc = JSON.parse(toJson(report));
    expect(doc.format).toBe('softmax-verify.report/v2');
    expect(doc.input.x).toEqual(X);
    expect(doc.referenceSkipped).toBeNull();
  });

  test('readInput reads a dump as --input does, and verify takes it as it is', async () => {
    const right = await readInput('test/data/dumps/torch-bf16.safetensors');
    expect([right.dtype, right.source]).toEqual(['bfloat16', 'PyTorch 1.13.0a0 (Debian python3-torch): torch.softmax(x, dim=-1) then .backward(g), bfloat16, CPU']);
    expect((await verify(right)).passed).toBe(true);
    expect((await verify(await readInput('test/data/dumps/torch-f32-savez-forgot.npz'))).passed).toBe(false);
    await expect(readInput('test/data/dumps/missing.npz')).rejects.toThrow('cannot read --input test/data/dumps/missing.npz: no such file');
  });

  test('work over budget: refused as data when asked for, left out and said in the report and its JSON otherwise', async () => {
    const x = Float64Array.from({ length: 20_001 }, (_, i) => Math.sin(i));
    const refused = await verify({ x, g: x }, { reference: 'bignumber' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OverBudgetError);
    expect((refused as OverBudgetError).budget).toEqual({ kind: 'bignumber-reference', entries: 20_001, limit: 20_000, seconds: 20_001 * 0.2e-3 });
    expect((refused as Error).message).toContain('add allowSlow: true to run it anyway');
    const report = await verify({ x: { shape: [1, 80_000], data: new Float64Array(80_000) }, g: [new Array<number>(80_000).fill(1)] }, { reference: 'off' });
    expect(report.methods).toEqual(['closedForm', 'accurate']);
    expect(report.jacobianSkipped).toEqual({ kind: 'jacobian', entries: 6.4e9, limit: 5e9, seconds: 6.4e9 * 0.15e-9 });
    expect(JSON.parse(toJson(report)).jacobianSkipped).toEqual({ kind: 'jacobian', entries: 6.4e9, limit: 5e9, seconds: 6.4e9 * 0.15e-9 });
  });

  test('check runs fixture files as the command does', async () => {
    const run = await check(['fixtures/pytorch']);
    expect(run.counts).toEqual({ passed: run.outcomes.length, failed: 0, errored: 0 });
    expect(run.outcomes.map((o) => o.name)).toContain('seed');
    await expect(check(['no/such/folder'])).rejects.toThrow('cannot read no/such/folder: no such file or folder');
  });

  test.each<[string, Parameters<typeof verify>[0], string]>([
    ['a shape that does not hold the data', { x: { shape: [2, 2], data: [1, 2, 3] }, g: [1, 2, 3] }, 'x has 3 values, but its shape [2, 2] holds 4'],
    ['a shape of zero', { x: { shape: [0], data: [] }, g: [1] }, 'x.shape must be a non-empty list of whole numbers above 0, got [0]'],
    ['a value that is not a number', { x: [1, Number.NaN, 'a' as unknown as number], g: [1, 2, 3] }, 'x[2] is not a number: "a"'],
    ['expected of another shape', { x: [1, 2], g: [1, 0], expected: { grad: [1] } }, 'expected.grad has shape [1], but x has shape [2]'],
    ['g of another shape', { x: [1, 2], g: [1, 0, 0] }, 'g has shape [3], but x has shape [2]: they must match'],
    ['an unknown dtype', { x: [1, 2], g: [1, 0], dtype: 'bf16' as 'bfloat16' }, 'dtype must be one of float64, float32, float16, bfloat16, got "bf16"'],
  ])('refuses %s with an InputError naming the field', async (_, request, message) => {
    const refusal = verify(request);
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(message);
  });
});

describe('the library API, cross_entropy', () => {
  test('verifies a loss and its gradient given as numbers and nested arrays, and fails a mean not divided', async () => {
    // F.cross_entropy(x, target) for x = [[0, 0], [0, 0]], target = [0, 1]: loss log 2, dx = (s − onehot)/2.
    const request = { op: 'cross_entropy' as const, x: [[0, 0], [0, 0]], target: [0, 1], expected: { loss: 0.6931471805599453, grad: [[-0.25, 0.25], [0.25, -0.25]] } };
    const report = await verify(request);
    expect([report.passed, report.input.crossEntropy?.reduction, report.results.closedForm.forward.length]).toEqual([true, 'mean', 1]);
    const undivided = await verify({ ...request, expected: { grad: [[-0.5, 0.5], [0.5, -0.5]] } });
    expect(undivided.passed).toBe(false);
    const doc = JSON.parse(toJson(report));
    expect([doc.input.op, doc.input.g, doc.input.target, doc.input.expected.loss, doc.results.closedForm.loss]).toEqual(['cross_entropy', 1, [0, 1], 0.6931471805599453, 0.6931471805599453]);
  });

  test('rejects cross_entropy fields on another op, and a target out of range', async () => {
    await expect(verify({ x: [1, 2], g: [1, 0], target: 1 })).rejects.toThrow('target is for op cross_entropy');
    await expect(verify({ op: 'cross_entropy', x: [[1, 2]], target: [2] })).rejects.toThrow('target[0] is 2, not a class: x has 2 classes (0 to 1), and ignore_index is -100');
  });

  test('readInput reads a cross_entropy fixture into a request verify takes as it is', async () => {
    const request = await readInput('fixtures/family/cross-entropy-f64-single-sample-mean.json');
    expect([request.op, request.target, typeof request.g, request.reduction]).toEqual(['cross_entropy', 8, 'number', 'mean']);
    expect((await verify(request)).passed).toBe(true);
  });
});

import { describe, expect, test } from 'vitest';
import { checkFixture } from '../../src/check/check-fixture.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureToJson } from '../../src/output/fixture-json.js';
import { fixtureText } from '../helpers/fixtures.js';
import { noOpmathKernelCase } from '../helpers/kernel-designs.js';

const check = (text: string, options = {}) => checkFixture('suite/case.json', text, 'case', options);

describe('checkFixture', () => {
  test('passes a PyTorch fixture, naming it, its shape and dtype', async () => {
    const outcome = await check(fixtureText('batch-4x7-dim-last.json'));
    expect(outcome).toMatchObject({ status: 'pass', name: 'batch-4x7-dim-last', shape: [4, 7], dtype: 'float64', path: 'suite/case.json' });
  });

  test('fails a fixture whose expected gradient was tampered with', async () => {
    const outcome = await check(editedFixture('seed.json', (doc) => (doc.expected.grad[4] += 1e-4)));
    expect(outcome?.status).toBe('fail');
    if (outcome?.status !== 'fail') return;
    const failing = outcome.report.comparisons.filter((c) => c.closeness.mismatched > 0);
    expect(failing.map((c) => [c.quantity, c.actual, c.expected])).toEqual([['grad', 'expected', 'exact']]);
  });

  test('checks expected.softmax alone when the fixture has no grad', async () => {
    const outcome = await check(editedFixture('seed.json', (doc) => delete doc.expected.grad));
    expect(outcome?.status).toBe('pass');
    if (outcome?.status !== 'pass') return;
    expect(outcome.report.comparisons.map((c) => `${c.quantity}: ${c.actual} vs ${c.expected}`)).toEqual([
      'forward: jacobian vs closedForm',
      'forward: expected vs exact',
      'grad: jacobian vs closedForm',
    ]);
  });

  test('uses the fixture tolerance, and --rtol/--atol over it', async () => {
    const loose = editedFixture('seed.json', (doc) => {
      doc.expected.grad[4] += 1e-4;
      doc.tolerance = { rtol: 0, atol: 1e-3 };
    });
    expect((await check(loose))?.status).toBe('pass');
    expect((await check(loose, { tolerance: { rtol: 0, atol: 1e-6 } }))?.status).toBe('fail');
  });

  test('holds every fixture to the arithmetic given: a kernel computing in bfloat16 passes with compute bfloat16', async () => {
    // Rows of 256: with compute bfloat16 the explicit Jacobian runs in JavaScript, some 400 ns an
    // entry (2 rows of 2048 took seconds); these 8 fail the default arithmetic more clearly, at 22 elements.
    const kernel = noOpmathKernelCase(8, 256);
    const text = fixtureToJson({ name: 'no-opmath', source: 'a kernel computing in bfloat16', dtype: kernel.dtype, dim: -1, x: kernel.x, g: kernel.g, expected: kernel.expected });
    const plain = await check(text);
    expect(plain?.status).toBe('fail');
    expect(plain?.status === 'fail' && plain.report.passesComputingInDtype).toBe(true);
    expect((await check(text, { arithmetic: { compute: 'bfloat16' } }))?.status).toBe('pass');
  });

  test("an arithmetic narrower than a fixture's dtype is an error for that fixture", async () => {
    expect(await check(fixtureText('seed.json'), { arithmetic: { compute: 'bfloat16' } })).toMatchObject({
      status: 'error',
      message: '--compute bfloat16 is narrower than the dtype float64: a kernel computes and sums at least as wide as the values it reads',
    });
  });

  test.each([
    ['bad JSON', '{"format": "softmax-verify.fixture/v1", "x": [1,', 'invalid JSON at line 1, column 49: expected a value, found the end of the input'],
    ['a missing field', editedFixture('seed.json', (doc) => delete doc.source), 'source is missing: a softmax-verify.fixture/v1 fixture must have it'],
    ['no format', editedFixture('seed.json', (doc) => delete doc.format), 'format is missing: a fixture must have "format": "softmax-verify.fixture/v1"'],
    ['a wrong format version', editedFixture('seed.json', (doc) => (doc.format = 'softmax-verify.fixture/v2')), 'format is "softmax-verify.fixture/v2", but this version reads "softmax-verify.fixture/v1"'],
    ['a shape mismatch', editedFixture('seed.json', (doc) => doc.expected.grad.pop()), 'expected.grad has shape [8], but x has shape [9]'],
    ['g of another shape', editedFixture('seed.json', (doc) => doc.g.pop()), 'g has shape [8], but x has shape [9]: they must match'],
    ['dim out of range', editedFixture('seed.json', (doc) => (doc.dim = 1)), 'dim 1 is out of range for x of shape [9] (expected -1 to 0)'],
  ])('reports %s as an error outcome naming the field', async (_, text, message) => {
    expect(await check(text)).toMatchObject({ status: 'error', name: expect.any(String), message });
  });

  test('keeps the fixture name on an error found after it was read', async () => {
    expect((await check(editedFixture('seed.json', (doc) => (doc.dim = 3))))?.name).toBe('seed');
  });

  test('skips what select leaves out, before any arithmetic, broken or not', async () => {
    expect(await check(fixtureText('seed.json'), { select: (name: string) => name === 'other' })).toBeUndefined();
    expect(await check('{', { select: (name: string) => name === 'other' })).toBeUndefined();
    expect((await check('{', { select: (name: string) => name === 'case' }))?.status).toBe('error');
  });
});

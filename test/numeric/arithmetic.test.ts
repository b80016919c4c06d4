import { describe, expect, test } from 'vitest';
import { DTYPES } from '../../src/dtype.js';
import { runClosedFormMethod, runJacobianMethod } from '../../src/ops/softmax/pipelines.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { arithmeticFor, DEFAULT_ACCUMULATE, narrowerThanDType } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { f64 } from '../helpers/fixtures.js';
import { describeRefusal } from '../../src/core/run-refusal.js';

describe('arithmeticFor', () => {
  test("accumulates where PyTorch's CPU kernels do: float for float and the half types, double for double", () => {
    expect(DEFAULT_ACCUMULATE).toEqual({ float64: 'float64', float32: 'float32', float16: 'float32', bfloat16: 'float32' });
  });

  test.each([
    ['float32', { compute: 'bfloat16' }, { setting: 'compute', type: 'bfloat16' }],
    ['float64', { accumulate: 'float32' }, { setting: 'accumulate', type: 'float32' }],
    ['bfloat16', { compute: 'bfloat16', accumulate: 'float64' }, undefined],
    ['float16', { compute: 'bfloat16' }, { setting: 'compute', type: 'bfloat16' }],
  ] as const)('refuses an arithmetic narrower than the dtype %s: %j', (dtype, types, narrower) => {
    expect(narrowerThanDType(dtype, types)).toEqual(narrower);
  });

  test.each([
    ['flags', '--compute bfloat16 is narrower than the dtype float32: a kernel computes and sums at least as wide as the values it reads'],
    ['library', 'options.arithmetic.compute bfloat16 is narrower than the dtype float32: a kernel computes and sums at least as wide as the values it reads'],
    ['library-check', 'request.arithmetic.compute bfloat16 is narrower than the dtype float32: a kernel computes and sums at least as wide as the values it reads'],
  ] as const)('words the refusal for each edge: %s', (edge, message) => {
    expect(describeRefusal({ code: 'narrower-arithmetic', setting: 'compute', type: 'bfloat16', dtype: 'float32' }, edge)).toBe(message);
  });

  test.each([
    ['float64', 'float64'],
    ['float32', 'float32'],
    ['float16', 'float32'],
    ['bfloat16', 'float32'],
  ] as const)('%s computes in %s and stores in itself', (dtype, compute) => {
    const a = arithmeticFor(dtype);
    expect(a.compute).toBe(compute);
    expect(a.store(0.1)).toBe(roundToDType(0.1, dtype));
    expect(a.round(0.1)).toBe(roundToDType(0.1, compute));
    expect(a.roundSum(0.1)).toBe(roundToDType(0.1, DEFAULT_ACCUMULATE[dtype]));
  });

  test('--accumulate overrides the accumulation type only', () => {
    const a = arithmeticFor('float16', { accumulate: 'float64' });
    expect([a.compute, a.accumulate]).toEqual(['float32', 'float64']);
  });

  test('--compute overrides the compute type only: float16 rounds every operation to float16', () => {
    const a = arithmeticFor('float16', { compute: 'float16' });
    expect([a.compute, a.accumulate, a.dtype]).toEqual(['float16', 'float32', 'float16']);
    expect(a.round(0.1)).toBe(roundToDType(0.1, 'float16'));
    expect(a.roundSum(0.1)).toBe(Math.fround(0.1));
  });
});

describe('methods in a narrower dtype', () => {
  const x = f64(Array.from({ length: 20 }, (_, i) => roundToDType(Math.sin(i) * 4, 'bfloat16')));
  const g = f64(Array.from({ length: 20 }, (_, i) => roundToDType(Math.cos(i * 2.1), 'bfloat16')));
  const layout = sliceLayout([20], 0);

  test.each(DTYPES)('store every %s result as a value of that dtype', (dtype) => {
    const a = arithmeticFor(dtype);
    for (const result of [runJacobianMethod(x, g, layout, undefined, a), runClosedFormMethod(x, g, layout, a)]) {
      for (const v of [...result.forward, ...result.grad]) expect(roundToDType(v, dtype)).toBe(v);
    }
  });

  test('float32 arithmetic is not float64 arithmetic rounded at the end', () => {
    const in32 = runClosedFormMethod(x, g, layout, arithmeticFor('float32'));
    const in64 = runClosedFormMethod(x, g, layout);
    const roundedAtEnd = in64.grad.map(Math.fround);
    expect(Array.from(in32.grad)).not.toEqual(Array.from(roundedAtEnd));
    // ...but close to it: float32 rounding of a handful of operations, well inside float32 tolerance.
    in32.grad.forEach((v, i) => expect(Math.abs(v - roundedAtEnd[i])).toBeLessThanOrEqual(1e-5 + 1.3e-6 * Math.abs(roundedAtEnd[i])));
  });
});

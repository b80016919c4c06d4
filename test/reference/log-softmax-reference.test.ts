import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { DX_DECIDED, Y_DECIDED } from '../../src/ops/log_softmax/accurate-log-softmax.js';
import {
  computeLogSoftmaxReference,
  doubleDoubleLogSoftmaxReferenceSlice,
  loadBigNumberLogSoftmaxReference,
  type LogSoftmaxReferenceSlice,
} from '../../src/ops/log_softmax/log-softmax-reference.js';
import { normaliseDim } from '../../src/tensor.js';
import { f64, PYTORCH_FIXTURES } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout, randomSlice } from '../helpers/properties.js';

/** mpmath's correctly rounded log_softmax values (scripts/mpmath/generate-log-softmax-fixtures.py). */
const MPMATH = join(PYTORCH_FIXTURES, '..', 'mpmath');
const names = readdirSync(MPMATH).filter((name) => name.startsWith('log-softmax-')).sort();
const sameBits = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, k) => Object.is(v, b[k]) || (v !== v && b[k] !== b[k]));

let bigNumber: LogSoftmaxReferenceSlice;
beforeAll(async () => {
  bigNumber = await loadBigNumberLogSoftmaxReference();
});

describe('the log_softmax reference', () => {
  test('has mpmath cases for both engines to meet: near-one-hot, underflow to −0, cancellation, near-midpoints', () => {
    expect(names).toEqual(expect.arrayContaining(['log-softmax-near-one-hot.json', 'log-softmax-one-hot-extreme.json', 'log-softmax-cancellation.json', 'log-softmax-wide-spread.json']));
  });

  test.each(names.flatMap((name) => [[name, 'double-double'], [name, 'bignumber']] as const))(
    "reproduces mpmath's correctly rounded values for %s with %s, bit for bit",
    async (name, engine) => {
      const doc = parseInputDocument(readFileSync(join(MPMATH, name), 'utf8'));
      expect(doc.op).toBe('log_softmax');
      const axis = normaliseDim(doc.dim ?? -1, doc.x!.shape.length)!;
      const reference = await computeLogSoftmaxReference(doc.x!, doc.g!, axis, engine);
      expect(sameBits(reference.forward, doc.expected!.forward!), 'log_softmax').toBe(true);
      expect(sameBits(reference.grad, doc.expected!.grad!), 'grad').toBe(true);
    },
    30_000,
  );

  test('double-double is certain only where it equals BigNumber bit for bit', () => {
    fc.assert(
      fc.property(randomSlice(12), ([xs, gs]) => {
        const x = f64(xs);
        const g = f64(gs);
        const [y1, d1, y2, d2] = [0, 0, 0, 0].map(() => new Float64Array(x.length));
        const decided = doubleDoubleLogSoftmaxReferenceSlice(x, g, y1, d1);
        bigNumber(x, g, y2, d2);
        return ((decided & Y_DECIDED) === 0 || sameBits(y1, y2)) && ((decided & DX_DECIDED) === 0 || sameBits(d1, d2));
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));

  test('decides y beside a dominant logit, where x_i − m is an exact midpoint and log S lies below its last bit', () => {
    // Full-precision logits a gap of 40 to 1200 below the largest: x_i − m often needs a bit
    // beyond float64 (a midpoint), and log S ≈ e^-gap is far below it, or below the float64 range.
    let decidedBothWays = 0;
    fc.assert(
      fc.property(
        fc.double({ min: 40, max: 1200, noNaN: true }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 9, maxLength: 9 }),
        (top, rest, gs) => {
          const x = f64([top, ...rest]);
          const g = f64(gs.slice(0, x.length));
          const [y1, d1, y2, d2] = [0, 0, 0, 0].map(() => new Float64Array(x.length));
          const decided = doubleDoubleLogSoftmaxReferenceSlice(x, g, y1, d1);
          bigNumber(x, g, y2, d2);
          if ((decided & Y_DECIDED) !== 0) decidedBothWays++;
          return ((decided & Y_DECIDED) === 0 || sameBits(y1, y2)) && ((decided & DX_DECIDED) === 0 || sameBits(d1, d2));
        },
      ),
      // A third of the usual runs: BigNumber, the judge, needs 256 or 1,000 digits for many of them.
      { ...PROPERTY_OPTIONS, numRuns: Math.ceil(PROPERTY_OPTIONS.numRuns / 3) },
    );
    // Double-double decides these itself (BigNumber would need hundreds of digits beyond a gap of 140).
    expect(decidedBothWays).toBe(Math.ceil(PROPERTY_OPTIONS.numRuns / 3));
  }, propertyTimeout(40));

  test('gives the rational gradients exactly: equal logits, and Σg = 0', async () => {
    // Three equal logits, one masked: dx_i = g_i − Σg/3, Σg = 0.1 + 0.2 + 0.4 + 5 (the masked g counts).
    const reference = await computeLogSoftmaxReference({ shape: [4], data: f64([2, 2, -Infinity, 2]) }, { shape: [4], data: f64([0.1, 0.2, 5, 0.4]) }, 0, 'double-double');
    expect(reference.forward[2]).toBe(-Infinity);
    // −ln 3 to the nearest float64 (mpmath; Math.log(3) is one ulp below it).
    expect(reference.forward[0]).toBe(-1.0986122886681098);
    expect(reference.grad[2]).toBe(5);
    // 0.1 − (0.1 + 0.2 + 5 + 0.4)/3, each value the float64 given, rounded once (BigInt arithmetic).
    expect(reference.grad[0]).toBeCloseTo(0.1 - 5.7 / 3, 15);
    const zero = await computeLogSoftmaxReference({ shape: [3], data: f64([1, 2, 3]) }, { shape: [3], data: f64([1, -3, 2]) }, 0, 'double-double');
    expect(Array.from(zero.grad)).toEqual([1, -3, 2]);
  });

  test('leaves the gradient undefined (NaN) for a non-finite g, and NaN throughout for a slice with a NaN logit', async () => {
    const infiniteG = await computeLogSoftmaxReference({ shape: [2], data: f64([1, 2]) }, { shape: [2], data: f64([Infinity, 0]) }, 0, 'double-double');
    expect(Array.from(infiniteG.grad).every(Number.isNaN)).toBe(true);
    // −ln(1 + e^-1) to the nearest float64 (mpmath).
    expect(infiniteG.forward[1]).toBe(-0.3132616875182228);
    const nan = await computeLogSoftmaxReference({ shape: [2], data: f64([1, NaN]) }, { shape: [2], data: f64([1, 0]) }, 0, 'bignumber');
    expect([...nan.forward, ...nan.grad].every(Number.isNaN)).toBe(true);
  });
});

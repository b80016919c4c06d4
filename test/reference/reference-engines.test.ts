import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseInputDocument } from '../../src/input/input-document.js';
import { exactDecimal, loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import { doubleDoubleReferenceSlice } from '../../src/ops/softmax/double-double-reference.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { f64, fixtureText, pytorchFixtureNames, PYTORCH_FIXTURES } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { PROPERTY_OPTIONS, propertyTimeout, randomSlice } from '../helpers/properties.js';
import { bitDifferences, runReference, valueDifferences } from '../helpers/reference-run.js';

const MPMATH = join(PYTORCH_FIXTURES, '..', 'mpmath');
// softmax's: the log_softmax and cross_entropy ones are their references' (log-softmax-reference.test.ts, cross-entropy-reference.test.ts).
const mpmathFixtures = readdirSync(MPMATH).filter((f) => f.endsWith('.json') && !f.startsWith('log-softmax-') && !f.startsWith('cross-entropy-')).sort();
/** Either engine as a plain slice filler (double-double's verdict on its own certainty is tested apart). */
const asFilling = (engine: (x: Float64Array, g: Float64Array, s: Float64Array, d: Float64Array) => unknown) =>
  (x: Float64Array, g: Float64Array, s: Float64Array, d: Float64Array) => void engine(x, g, s, d);
const mpmath = (name: string) => parseInputDocument(readFileSync(join(MPMATH, name), 'utf8'));


let bignumber: ReferenceSlice;
beforeAll(async () => {
  bignumber = await loadBigNumberReference();
});

describe.each([
  ['double-double', () => doubleDoubleReferenceSlice],
  ['BigNumber', () => bignumber],
] as const)('the %s reference', (_, engine) => {
  test.each(mpmathFixtures)("reproduces mpmath's correctly rounded values for %s, bit for bit", (name) => {
    const doc = mpmath(name);
    const { softmax, grad } = runReference(asFilling(engine()), doc.x!, doc.g!, doc.dim);
    expect(bitDifferences(softmax, doc.expected!.forward!)).toEqual([]);
    expect(bitDifferences(grad, doc.expected!.grad!)).toEqual([]);
  });

  test('follows PyTorch on slices without a softmax, and masks -Infinity', () => {
    const x = { shape: [4, 3], data: f64([NaN, 1, 2, Infinity, 0, 1, -Infinity, -Infinity, -Infinity, 0, -Infinity, 0]) };
    const g = { shape: [4, 3], data: f64([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]) };
    const { softmax, grad } = runReference(asFilling(engine()), x, g);
    expect(Array.from(softmax.subarray(0, 9)).every(Number.isNaN)).toBe(true);
    expect(Array.from(softmax.subarray(9))).toEqual([0.5, 0, 0.5]);
    expect(Array.from(grad.subarray(9))).toEqual([-0.5, 0, 0.5]);
  });

  test('leaves the gradient undefined (NaN) when g is not finite', () => {
    const { softmax, grad } = runReference(asFilling(engine()), { shape: [2], data: f64([0, 0]) }, { shape: [2], data: f64([Infinity, 0]) });
    expect(Array.from(softmax)).toEqual([0.5, 0.5]);
    expect(Array.from(grad).every(Number.isNaN)).toBe(true);
  });
});

describe('double-double and BigNumber', () => {
  test.each(pytorchFixtureNames())('agree to the last bit on %s', (name) => {
    const doc = parseInputDocument(fixtureText(name));
    const a = runReference(doubleDoubleReferenceSlice, doc.x!, doc.g!, doc.dim);
    const b = runReference(bignumber, doc.x!, doc.g!, doc.dim);
    expect(bitDifferences(a.softmax, b.softmax)).toEqual([]);
    expect(bitDifferences(a.grad, b.grad)).toEqual([]);
  });

  // Double-double hands the slices it cannot decide to BigNumber, as computeReference does for
  // every run. The sign of a result that underflows to zero may differ (-0 against 0): the
  // engines agree on every float64 value, and a zero's sign is no distance in ulps.
  test('agree on every float64 value of random slices: spreads from tiny to beyond the float64 range', async () => {
    await fc.assert(
      fc.asyncProperty(randomSlice(12), async ([x, g]) => {
        const shape = [x.length];
        const [tx, tg] = [{ shape, data: f64(x) }, { shape, data: f64(g) }];
        const a = await computeReference(tx, tg, 0, 'double-double', async () => bignumber);
        const b = await computeReference(tx, tg, 0, 'bignumber', async () => bignumber);
        return valueDifferences(a.forward, b.forward).length === 0 && valueDifferences(a.grad, b.grad).length === 0;
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(5));
});

describe('exactDecimal', () => {
  test.each([
    [0.1, '1000000000000000055511151231257827021181583404541015625e-55'],
    [1, '1'],
    [-2.5, '-25e-1'],
    [0.75, '75e-2'],
    [2 ** 60, '1152921504606846976'],
    [-0, '-0'],
  ])('writes %d exactly as %s', (value, text) => {
    expect(exactDecimal(value)).toBe(text);
  });

  test('reads back as the same float64', () => {
    for (const v of [Math.PI, -1e-300, 1.7976931348623157e308, 2.2250738585072014e-308, 123.456]) {
      expect(Number(exactDecimal(v))).toBe(v);
    }
  });

  test('writes the smallest subnormal with all 751 significant digits of 2^-1074', () => {
    const text = exactDecimal(5e-324);
    expect(text.endsWith('e-1074')).toBe(true);
    expect(BigInt(text.slice(0, -6))).toBe(5n ** 1074n);
  });
});

describe('gradients lost in the double-double noise', () => {
  test('double-double hands them on, uncertain, and BigNumber finds them: 2e-67, not 0', () => {
    // A ±1000 pair over equal logits and a 7e-63 elsewhere (seed 13's long property run): the
    // true gradients of the equal logits are about 2e-67, far inside double-double's noise.
    const x = f64([0, 0, 10.472208023071289, 0, 0, 0, 0, 0]);
    const g = f64([0, 0, -7.246762663461502e-63, 999.9999999999984, 0, 0, -999.9999999999984, 0]);
    const [s1, d1, s2, d2] = [new Float64Array(8), new Float64Array(8), new Float64Array(8), new Float64Array(8)];
    expect(doubleDoubleReferenceSlice(x, g, s1, d1)).toBe(false);
    bignumber(x, g, s2, d2);
    for (const i of [0, 1, 4, 5, 7]) expect(d2[i]).toBe(2.050924882263644e-67);
    expect(d2[3]).toBeCloseTo(0.028306865352838058, 15);
    expect(d2[6]).toBeCloseTo(-0.028306865352838058, 15);
  });
});

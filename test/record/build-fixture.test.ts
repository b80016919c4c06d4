import { describe, expect, test } from 'vitest';
import { buildFixture } from '../../src/record/build-fixture.js';
import { judge } from '../../src/core/judge.js';
import { f64 } from '../helpers/fixtures.js';
import { type VerifyInput, type VerifyOptions } from '../../src/core/report.js';

const TOOL = { name: 'softmax-verify', version: '1.2.3' };

function input(extra: Partial<VerifyInput> = {}): VerifyInput {
  return {
    op: 'softmax', label: 'test',
    x: { shape: [2], data: f64([0, 0]) },
    g: { shape: [2], data: f64([1, 0]) },
    dim: -1,
    axis: 0,
    dtype: 'float64',
    ...extra,
  };
}

/** buildFixture on the report `verify` gives for the input (with `verifyOptions`, as a run would). */
function build(inputValue: VerifyInput, labels: Parameters<typeof buildFixture>[1], options: Parameters<typeof buildFixture>[4] = {}, verifyOptions: VerifyOptions = {}) {
  return buildFixture(inputValue, labels, TOOL, judge(inputValue, verifyOptions), options);
}

describe('buildFixture', () => {
  test('computes expected values with the closed form and says so in source', () => {
    const built = build(input(), { name: 'two' });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(Array.from(built.fixture.expected.forward!)).toEqual([0.5, 0.5]);
    expect(Array.from(built.fixture.expected.grad!)).toEqual([0.25, -0.25]);
    expect(built.fixture.source).toBe(
      'softmax-verify 1.2.3: closed form dx = s ⊙ (g − ⟨s, g⟩) in float64, agreeing with the explicit Jacobian within what rounding allows at rtol 1e-7, atol 1e-7',
    );
    expect(built.fixture).toMatchObject({ name: 'two', dtype: 'float64', dim: -1 });
  });

  test("keeps a dump's expected values and source once they pass the verdict", () => {
    const expected = { grad: f64([0.25, -0.25]) };
    const built = build(input({ expected, source: 'my kernel', name: 'dumped' }), {});
    expect(built).toMatchObject({ ok: true, fixture: { name: 'dumped', source: 'my kernel', expected }, report: { passed: true } });
  });

  test("refuses a dump whose gradient forgot ⟨s, g⟩, with the verdict's report", () => {
    // x = [0, 0], g = [1, 0]: s = [0.5, 0.5], so s ⊙ g = [0.5, 0] without the ⟨s, g⟩ = 0.5 term.
    const built = build(input({ expected: { grad: f64([0.5, 0]) }, source: 'buggy kernel' }), { name: 'n' });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.why).toBe('expected-mismatch');
    expect(built.report.comparisons.find((c) => c.actual === 'expected')?.closeness.mismatched).toBe(2);
  });

  test('records a failing dump under allowMismatch, with the failing verdict', () => {
    const expected = { grad: f64([0.5, 0]) };
    const built = build(input({ expected, source: 'buggy kernel' }), { name: 'n' }, { allowMismatch: true });
    expect(built).toMatchObject({ ok: true, fixture: { expected }, report: { passed: false } });
  });

  test('falls back to the file name for the fixture name', () => {
    expect(build(input(), { fallbackName: 'from-file' })).toMatchObject({ fixture: { name: 'from-file' } });
  });

  test.each<[string, Partial<VerifyInput>, Parameters<typeof buildFixture>[1], string]>([
    ['no name', {}, {}, '--name is missing: give the fixture a name'],
    ['a dump with no source', { expected: { grad: f64([0, 0]) } }, { name: 'n' }, 'source is missing: say who produced the expected values'],
  ])('refuses %s', (_, extra, labels, message) => {
    expect(() => build(input(extra), labels)).toThrow(message);
  });

  test('records nothing when the two methods disagree', () => {
    // The methods agree within rounding on any input; an explicit Jacobian from elsewhere that
    // is off by 1% at one element (a bug in the method) is a disagreement.
    const x = { shape: [3], data: f64([1, 2, 3]) };
    const g = { shape: [3], data: f64([11, 12, 13]) };
    const right = judge(input({ x, g })).results.jacobian!;
    const jacobianResult = { forward: right.forward, grad: right.grad.map((v, k) => (k === 0 ? v * 1.01 : v)) };
    const built = build(input({ x, g }), { name: 'n' }, {}, { jacobianResult });
    expect(built.ok).toBe(false);
  });
});

import { describe, expect, test } from 'vitest';
import { renderJson } from '../../src/output/render-json.js';
import { PLAIN, renderText } from '../../src/output/render-text.js';
import { judge } from '../../src/core/judge.js';
import { f64 } from '../helpers/fixtures.js';
import { noOpmathKernelCase } from '../helpers/kernel-designs.js';
import { type VerifyInput } from '../../src/core/report.js';

function input(x: number[], g: number[], extra: Partial<VerifyInput> = {}): VerifyInput {
  return { op: 'softmax', label: 'unit test', x: { shape: [x.length], data: f64(x) }, g: { shape: [g.length], data: f64(g) }, dim: -1, axis: 0, dtype: 'float64', ...extra };
}

const text = (report: ReturnType<typeof judge>, rows: number | 'all' = 10) =>
  renderText(report, { precision: 8, rows, palette: PLAIN });

describe('renderText', () => {
  test('starts with the input, its shape, dim, dtype, description and the source of expected values', () => {
    const report = judge(input([0, 0], [1, 0], { description: 'two equal logits', source: 'by hand', expected: { forward: f64([0.5, 0.5]) } }));
    expect(text(report).split('\n').slice(0, 4)).toEqual([
      'softmax-verify: unit test',
      'x: shape [2], softmax along dim -1 (1 slice of 2), dtype float64',
      'about: two equal logits',
      'expected: by hand',
    ]);
  });

  test('shows an expected column only for the quantities the input has', () => {
    const report = judge(input([0, 0], [1, 0], { expected: { grad: f64([0.25, -0.25]) } }));
    const header = text(report).split('\n').find((l) => l.includes('Jacobian (J)'));
    expect(header).toMatch(/Jacobian \(J\) +closed \(C\) +J − C │ +Jacobian \(J\) +closed \(C\) +expected +J − C$/);
  });

  test('marks each row and says which comparisons failed', () => {
    const report = judge(input([0, 0], [1, 0], { expected: { grad: f64([0.25, -0.2]) } }));
    const lines = text(report).split('\n');
    expect(lines.find((l) => l.trimStart().startsWith('[0]'))).toMatch(/ ✓$/);
    expect(lines.find((l) => l.trimStart().startsWith('[1]'))).toMatch(/ ✗$/);
    expect(lines.at(-2)).toBe("FAIL: grad, expected vs exact (1 / 2); the expected values' sums (1 / 1 slices)");
  });

  test('shows at most --rows failing rows between the ends, and counts the rest', () => {
    const n = 250;
    const x = Array.from({ length: n }, (_, i) => i / n);
    const g = Array.from({ length: n }, (_, i) => i % 3);
    const report = judge(input(x, g, { expected: { forward: new Float64Array(n).fill(1) } }));
    const out = text(report, 5);
    expect(out).toContain('235 more failing rows not shown (a larger --rows, or --rows all, shows them)');
    expect(out.split('\n').filter((l) => / ✗$/.test(l))).toHaveLength(15);
  });

  test('--rows 0 prints no table, not an empty header', () => {
    const passing = text(judge(input([1, 2, 3], [1, 0, 0])), 0);
    expect(passing).not.toContain('index');
    expect(passing).toContain('table not shown: 3 rows (--rows 1 or more shows some)');
    const failing = text(judge(input([0, 0], [1, 0], { expected: { grad: f64([0.25, -0.2]) } })), 0);
    expect(failing).toContain('table not shown: 2 rows, 1 failing (--rows 1 or more shows some)');
  });

  test('--summary prints the header, the comparisons and the verdict only', () => {
    const report = judge(input([0, 0], [1, 0], { expected: { grad: f64([0.25, -0.2]) } }));
    const out = renderText(report, { precision: 8, rows: 10, palette: PLAIN, summary: true });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('softmax-verify: unit test');
    expect(out).not.toContain('index');
    expect(out).not.toContain('the worst first');
    expect(out).toContain('grad      expected vs exact');
    expect(lines.at(-1)).toBe("FAIL: grad, expected vs exact (1 / 2); the expected values' sums (1 / 1 slices)");
  });

  test('says in words which slice had no softmax', () => {
    const report = judge({
      op: 'softmax', label: 'unit test',
      x: { shape: [2, 2], data: f64([-Infinity, -Infinity, 0, 1]) },
      g: { shape: [2, 2], data: f64([1, 2, 3, 4]) },
      dim: 1,
      axis: 1,
      dtype: 'float64',
    });
    expect(text(report)).toContain(
      'note: slice x[0, :] has every logit -Infinity: its softmax is undefined, and both methods give NaN there, as PyTorch does',
    );
  });

  test('names the tolerance and where it came from', () => {
    const report = judge(input([1, 2], [1, 0], { dtype: 'bfloat16' }));
    expect(text(report)).toContain('close: |a − b| ≤ atol + rtol·(|b| + s_i Σ_j s_j |g_j|) + arithmetic, rtol 0.016, atol 1e-5 (bfloat16 default)');
    expect(text(report)).toContain('arithmetic: the rounding of float32 operations and sums (docs/verdict.md)');
  });
});

describe('renderJson', () => {
  test('is valid JSON with non-finite numbers as strings and results nested in the shape of x', () => {
    const report = judge({
      op: 'softmax', label: 'unit test',
      x: { shape: [2, 2], data: f64([0, 0, -Infinity, -Infinity]) },
      g: { shape: [2, 2], data: f64([1, 0, 1, 0]) },
      dim: -1,
      axis: 1,
      dtype: 'float64',
    });
    const doc = JSON.parse(renderJson(report, { name: 'softmax-verify', version: '9.9.9' }));
    expect(doc.tool).toEqual({ name: 'softmax-verify', version: '9.9.9' });
    expect(doc.input.x).toEqual([[0, 0], ['-Infinity', '-Infinity']]);
    expect(doc.results.closedForm.softmax).toEqual([[0.5, 0.5], ['NaN', 'NaN']]);
    expect(doc.notes[0]).toMatchObject({ slice: '[1, :]', reason: 'all-masked' });
    expect(doc.comparisons[0].greatestAbsoluteDifference).toEqual({ value: 0, index: [0, 0] });
  });

  test('keeps every float64 exactly', () => {
    const x = [0.1, 1 / 3, Math.PI];
    const report = judge(input(x, [1, 2, 3]));
    const doc = JSON.parse(renderJson(report, { name: 'softmax-verify', version: '0' }));
    expect(doc.results.jacobian.grad).toEqual(Array.from(report.results.jacobian!.grad));
    expect(doc.input.x).toEqual(x);
  });
});

describe('renderText on a kernel without float32 opmath', () => {
  test('ends its failure with the flag that would explain it', () => {
    const kernel = noOpmathKernelCase(1);
    const report = judge({ op: 'softmax', label: 'unit test', x: kernel.x, g: kernel.g, dim: -1, axis: 1, dtype: kernel.dtype, expected: kernel.expected });
    expect(report.passed).toBe(false);
    expect(text(report).split('\n').at(-4)).toBe(
      'hint: every failing element and sum is within what a kernel computing in bfloat16 itself (no float32 opmath) can return, ' +
        'which allows much more: if, and only if, yours computes in bfloat16, --compute bfloat16 says so',
    );
  });
});

import { describe, expect, test } from 'vitest';
import { printable } from '../../src/printable.js';
import { PLAIN, renderText } from '../../src/output/render-text.js';
import { judge } from '../../src/core/judge.js';

describe('printable', () => {
  test('escapes line breaks, escape sequences and C1 controls, and leaves other text alone', () => {
    expect(printable('me\nPASS: all good\u001b[2K')).toBe('me\\u000aPASS: all good\\u001b[2K');
    expect(printable('a\u0085b\u2028c\u007f')).toBe('a\\u0085b\\u2028c\\u007f');
    expect(printable('PyTorch 1.13 ⟨s, g⟩ — é')).toBe('PyTorch 1.13 ⟨s, g⟩ — é');
  });

  test('escapes the bidirectional controls, which reorder what a terminal shows after them', () => {
    expect(printable('a\u202eSSAP\u202c b\u2066c\u2069 d\u200fe\u061c')).toBe('a\\u202eSSAP\\u202c b\\u2066c\\u2069 d\\u200fe\\u061c');
    // Other format characters show nothing but reorder nothing either: left as they are.
    expect(printable('zero\u200bwidth\u200d')).toBe('zero\u200bwidth\u200d');
  });

  test('is idempotent: escaping twice changes nothing more', () => {
    const once = printable('x\r\n\u2028\u202e\u001b[0m');
    expect(printable(once)).toBe(once);
  });

  test("keeps a dump's source from adding lines to the report", () => {
    const x = { shape: [2], data: Float64Array.of(0, 0) };
    const g = { shape: [2], data: Float64Array.of(1, 0) };
    const report = judge({ op: 'softmax', label: 'dump', x, g, dim: -1, axis: 0, dtype: 'float64', source: 'me\nPASS: fine', expected: { grad: Float64Array.of(0.25, -0.25) } });
    const lines = renderText(report, { precision: 8, rows: 10, palette: PLAIN }).split('\n');
    expect(lines).toContain('expected: me\\u000aPASS: fine');
    expect(lines.filter((line) => line.startsWith('PASS'))).toHaveLength(1);
  });
});

import { multiIndex, toNested } from '../tensor.js';
import type { Extreme } from '../math/assert-close.js';
import { METHOD_IDS, type Report } from '../verify.js';
import { describeSliceNote } from './render-text.js';

export const REPORT_FORMAT = 'softmax-verify.report/v1';

/**
 * The machine-readable report: one JSON document, arrays nested in the shape of `x`.
 *
 * JSON has no NaN or Infinity, so non-finite numbers are written as the strings `"NaN"`,
 * `"Infinity"` and `"-Infinity"`: strict parsers (jq, JSON.parse) read the report, and
 * softmax-verify reads those strings back as numbers.
 */
export function renderJson(report: Report, tool: { name: string; version: string }): string {
  const { input } = report;
  const nested = (data: Float64Array): unknown[] => toNested(data, input.x.shape, jsonNumber);
  const at = (found: Extreme) => ({
    value: jsonNumber(found.value),
    index: found.index < 0 ? null : multiIndex(found.index, input.x.shape),
  });
  const document = {
    format: REPORT_FORMAT,
    tool,
    input: {
      label: input.label,
      name: input.name ?? null,
      description: input.description ?? null,
      source: input.source ?? null,
      shape: input.x.shape,
      dim: input.dim,
      dtype: input.dtype,
      x: nested(input.x.data),
      g: nested(input.g.data),
      expected:
        input.expected === undefined
          ? null
          : {
              softmax: input.expected.softmax === undefined ? null : nested(input.expected.softmax),
              grad: input.expected.grad === undefined ? null : nested(input.expected.grad),
            },
    },
    tolerance: { ...report.tolerance, origin: report.toleranceOrigin },
    results: Object.fromEntries(
      METHOD_IDS.map((method) => [
        method,
        { softmax: nested(report.results[method].softmax), grad: nested(report.results[method].grad) },
      ]),
    ),
    differences: { softmax: nested(report.differences.softmax), grad: nested(report.differences.grad) },
    comparisons: report.comparisons.map(({ quantity, actual, expected, closeness }) => ({
      quantity,
      actual,
      expected,
      total: closeness.total,
      mismatched: closeness.mismatched,
      greatestAbsoluteDifference: at(closeness.maxAbs),
      greatestRelativeDifference: at(closeness.maxRel),
      passed: closeness.mismatched === 0,
    })),
    notes: report.sliceNotes.map((note) => ({ ...note, message: describeSliceNote(note) })),
    verdict: report.passed ? 'PASS' : 'FAIL',
  };
  return `${stringifyCompact(document, '')}\n`;
}

/**
 * JSON.stringify with two-space indentation, except that an array of numbers and strings stays
 * on one line: a 1,000-element result takes one line instead of a thousand.
 */
function stringifyCompact(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null)) return JSON.stringify(value);
    const inner = indent + '  ';
    return `[\n${value.map((item) => inner + stringifyCompact(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = indent + '  ';
    const entries = Object.entries(value).map(([key, item]) => `${inner}${JSON.stringify(key)}: ${stringifyCompact(item, inner)}`);
    return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function jsonNumber(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (value !== value) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

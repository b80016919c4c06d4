import { multiIndex } from '../tensor.js';
import type { Extreme } from '../comparisons/assert-close.js';
import type { InvariantCheck, SliceDeviation } from '../comparisons/invariants.js';
import { sliceLabel, sliceLayout, type SliceLayout } from '../numeric/slices.js';
import { jsonChunks, JsonTensor, tensorNumbers } from './json-text.js';
import { NO_PROGRESS, type Progress } from '../progress.js';
import { writeChunks, type JsonSink } from './json-stream.js';
import { describeSliceNote } from './render-text.js';
import { FORWARD_NAME, quantityName, type Op } from '../op.js';
import { opDefinition } from '../ops/index.js';
import type { FieldValue } from '../ops/op-definition.js';
import type { Tool } from '../core/tool.js';
import { quantityShape, resultOf, sideValues, type Comparison, type Report, type SliceNote } from '../core/report.js';
import { partsOf } from '../comparisons/assert-close.js';

export const REPORT_FORMAT = 'softmax-verify.report/v2';

export type { Tool } from '../core/tool.js';

/**
 * The machine-readable report: one JSON document, arrays nested in the shape of `x`.
 *
 * JSON has no NaN or Infinity, so non-finite numbers are written as the strings `"NaN"`,
 * `"Infinity"` and `"-Infinity"`: strict parsers (jq, JSON.parse) read the report, and
 * softmax-verify reads those strings back as numbers.
 *
 * As one string: for reports that fit in one. `streamJson` writes the same text to a stream, in
 * pieces, for reports of any size.
 */
export function renderJson(report: Report, tool: Tool): string {
  let text = '';
  for (const chunk of documentChunks(reportDocument(report, tool))) text += chunk;
  return text;
}

/**
 * The report of `renderJson`, written to `sink` in pieces of about 64 kB (the per-element
 * arrays formatted a block at a time, never whole), waiting for 'drain' whenever `sink.write`
 * returns false.
 */
export async function streamJson(report: Report, tool: Tool, sink: JsonSink, progress: Progress = NO_PROGRESS): Promise<void> {
  const document = reportDocument(report, tool);
  // A report of millions of elements takes seconds to write: told by its numbers written.
  const step = progress.step('writing the JSON report', tensorNumbers(document));
  let done = 0;
  try {
    await writeChunks(sink, documentChunks(document, (numbers) => step.advance((done += numbers))));
  } finally {
    step.end();
  }
}

function* documentChunks(document: unknown, written?: (numbers: number) => void): Generator<string, void, undefined> {
  yield* jsonChunks(document, undefined, written);
  yield '\n';
}

/** The report as a value for `jsonChunks`: the per-element arrays as `JsonTensor`s of the report's own data. */
export function reportDocument(report: Report, tool: Tool) {
  const { input } = report;
  const nested = (data: Float64Array) => new JsonTensor(data, input.x.shape);
  const shaped = (data: Float64Array, shape: readonly number[]) => (shape.length === 0 ? jsonNumber(data[0]) : new JsonTensor(data, shape));
  // The forward output in its own shape: cross_entropy's loss is one number, or one a sample.
  const forwardShape = quantityShape(input, 'forward');
  const forwardOf = (data: Float64Array) => shaped(data, forwardShape);
  // Forward only (no g), no method's gradient is a result: null.
  const gradOf = (data: Float64Array) => (input.forwardOnly ? null : nested(data));
  const layout = sliceLayout(input.x.shape, input.axis);
  const forwardName = FORWARD_NAME[input.op];
  const fields = input.spec === undefined ? undefined : opDefinition(input.op).fieldsOut?.reported(input.spec);
  // A field's tensor in its own shape (a one-sample target as one number).
  const fieldJson = (value: FieldValue | null) => (typeof value === 'object' && value !== null ? shaped(value.data, value.shape) : value);
  return {
    format: REPORT_FORMAT,
    tool,
    input: {
      op: input.op,
      label: input.label,
      name: input.name ?? null,
      description: input.description ?? null,
      source: input.source ?? null,
      shape: input.x.shape,
      dim: input.dim,
      dtype: input.dtype,
      dtypeFrom: input.dtypeFrom ?? null,
      x: nested(input.x.data),
      // Forward only, there is no g (the zeros the methods ran with are not the user's).
      g: input.forwardOnly ? null : shaped(input.g.data, input.g.shape),
      forwardOnly: input.forwardOnly === true,
      ...(fields === undefined ? {} : Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, fieldJson(value)]))),
      expected:
        input.expected === undefined
          ? null
          : {
              [forwardName]: input.expected.forward === undefined ? null : forwardOf(input.expected.forward),
              grad: input.expected.grad === undefined ? null : nested(input.expected.grad),
            },
    },
    arithmetic: { dtype: report.arithmetic.dtype, compute: report.arithmetic.compute, accumulate: report.arithmetic.accumulate },
    tolerance: { ...report.tolerance, origin: report.toleranceOrigin },
    methods: report.methods,
    jacobianSkipped: report.jacobianSkipped ?? null,
    referenceSkipped: report.referenceSkipped ?? null,
    results: Object.fromEntries(
      report.methods.map((method) => {
        const { forward, grad } = resultOf(report.results, method);
        return [method, { [forwardName]: forwardOf(forward), grad: gradOf(grad) }];
      }),
    ),
    exact:
      report.exact === undefined
        ? null
        : { by: 'accurate closed form, float64', [forwardName]: forwardOf(report.exact.forward), grad: gradOf(report.exact.grad) },
    differences: { of: report.witness, [forwardName]: forwardOf(report.differences.forward), grad: gradOf(report.differences.grad) },
    comparisons: report.comparisons.map((comparison) => comparisonJson(report, comparison)),
    notes: report.sliceNotes.map((note) => sliceNoteJson(note, report.input.op)),
    invariants: invariantsJson(report, layout),
    finiteDifferences:
      report.finiteDifferences === undefined
        ? null
        : {
            grad: nested(report.finiteDifferences.grad),
            tolerance: nested(report.finiteDifferences.tolerance),
            total: report.finiteDifferences.total,
            mismatched: report.finiteDifferences.mismatched,
            // The worst is a ratio to each element's tolerance, and says so in its key.
            worst: {
              ratio: jsonNumber(report.finiteDifferences.worst.value),
              index: extremeJson(report.finiteDifferences.worst, input.x.shape).index,
            },
            passed: report.finiteDifferences.mismatched === 0,
          },
    reference:
      report.reference === undefined
        ? null
        : {
            engine: report.reference.engine,
            slicesByBigNumber: report.reference.slicesByBigNumber,
            [forwardName]: forwardOf(report.reference.forward),
            grad: gradOf(report.reference.grad),
            accuracy: report.reference.accuracy.map(({ quantity, of, total, notCorrectlyRounded, maxUlps }) => ({
              quantity: quantityName(input.op, quantity),
              of,
              dtype: input.dtype,
              total,
              notCorrectlyRounded,
              maxUlps: extremeJson(maxUlps, quantityShape(input, quantity)),
            })),
          },
    passesComputingInDtype: report.passesComputingInDtype ?? null,
    diagnosis: diagnosisJson(report),
    verdict: report.passed ? 'PASS' : 'FAIL',
  };
}

/** The likely bugs, best first, each quantity by its report name (`softmax`, `loss`, `grad`): verify's, check's and hunt's JSON. */
export function diagnosisJson(report: Report) {
  return report.diagnosis.map((diagnosis) => ({ ...diagnosis, quantity: quantityName(report.input.op, diagnosis.quantity) }));
}

/**
 * One comparison as both JSON reports (verify's and check's) write it: the counts, the greatest
 * differences, the worst element against its allowance, and the failing elements (worst first, up
 * to FAILURES_KEPT) each with its values, its allowance and the allowance's terms.
 */
export function comparisonJson(report: Report, comparison: Comparison) {
  const { quantity, actual, expected, closeness } = comparison;
  const shape = quantityShape(report.input, quantity);
  const at = (found: Extreme) => extremeJson(found, shape);
  const a = sideValues(report, actual, quantity);
  const b = sideValues(report, expected, quantity);
  return {
    quantity: quantityName(report.input.op, quantity),
    actual,
    expected,
    total: closeness.total,
    mismatched: closeness.mismatched,
    greatestAbsoluteDifference: at(closeness.maxAbs),
    greatestRelativeDifference: at(closeness.maxRel),
    worst: { ratio: jsonNumber(closeness.worst.value), index: closeness.worst.index < 0 ? null : multiIndex(closeness.worst.index, shape) },
    failures: closeness.failures.map((index) => {
      const parts = partsOf(closeness, index);
      return {
        index: multiIndex(index, shape),
        actual: jsonNumber(a[index]),
        expected: jsonNumber(b[index]),
        difference: jsonNumber(Math.abs(a[index] - b[index])),
        allowed: jsonNumber(parts.total),
        terms: { atol: parts.atol, relative: jsonNumber(parts.relative), cancellation: jsonNumber(parts.cancellation), arithmetic: jsonNumber(parts.arithmetic) },
      };
    }),
    failuresOmitted: closeness.mismatched - closeness.failures.length,
    passed: closeness.mismatched === 0,
  };
}

/** Each method's invariants and the expected values', keyed as `results` are, plus `expected`. */
export function invariantsJson(report: Report, layout: SliceLayout) {
  const { input } = report;
  const label = (slice: number) => sliceLabel(layout, input.x.shape, input.axis, slice);
  const deviation = (found: SliceDeviation | undefined) =>
    found === undefined || found.slice < 0 ? null : { ulps: jsonNumber(found.ulps), bound: jsonNumber(found.bound), slice: label(found.slice) };
  const json = ({ softmaxSum, gradSum, gradSumOfMagnitudes, flaggedSlices }: InvariantCheck) => ({
    softmaxSum: deviation(softmaxSum),
    gradSum: deviation(gradSum),
    gradSumOfMagnitudes:
      gradSumOfMagnitudes === undefined || gradSumOfMagnitudes.slice < 0
        ? null
        : { ulps: jsonNumber(gradSumOfMagnitudes.ulps), slice: label(gradSumOfMagnitudes.slice) },
    flaggedSlices,
  });
  return Object.fromEntries(Object.entries(report.invariants).map(([side, check]) => [side, json(check)]));
}

/** A greatest difference and where: `{ "value": ..., "index": [i, j] }` (index null when empty). */
function extremeJson(found: Extreme, shape: readonly number[]) {
  return { value: jsonNumber(found.value), index: found.index < 0 ? null : multiIndex(found.index, shape) };
}

export function sliceNoteJson(note: SliceNote, op: Op) {
  return { ...note, message: describeSliceNote(note, op) };
}

export function jsonNumber(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (value !== value) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

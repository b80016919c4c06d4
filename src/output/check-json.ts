import type { CheckRun } from '../check/run-check.js';
import { writeJson } from './json-text.js';
import { sliceLayout } from '../numeric/slices.js';
import { comparisonJson, diagnosisJson, invariantsJson, sliceNoteJson, type Tool } from './render-json.js';

export const CHECK_REPORT_FORMAT = 'softmax-verify.check/v1';

/** The whole suite as one JSON document: a summary, then every fixture with its comparisons. */
export function renderCheckJson(run: CheckRun, tool: Tool): string {
  const document = {
    format: CHECK_REPORT_FORMAT,
    tool,
    summary: {
      total: run.outcomes.length,
      ...run.counts,
      notRun: run.notRun,
      seconds: microseconds(run.seconds),
      // Only under --shard, so that unsharded reports stay as they were.
      ...(run.shard === undefined ? {} : { shard: run.shard }),
    },
    fixtures: run.outcomes.map((outcome) => {
      const base = { path: outcome.path, name: outcome.name, status: outcome.status, seconds: microseconds(outcome.seconds) };
      if (outcome.status === 'error') return { ...base, message: outcome.message };
      const { report } = outcome;
      return {
        ...base,
        shape: outcome.shape,
        dim: report.input.dim,
        dtype: outcome.dtype,
        source: report.input.source ?? null,
        tolerance: { ...report.tolerance, origin: report.toleranceOrigin },
        comparisons: report.comparisons.map((comparison) => comparisonJson(report, comparison)),
        invariants: invariantsJson(report, sliceLayout(report.input.x.shape, report.input.axis)),
        notes: report.sliceNotes.map((note) => sliceNoteJson(note, report.input.op)),
        diagnosis: diagnosisJson(report),
      };
    }),
  };
  return `${writeJson(document)}\n`;
}

/** Timings to the microsecond: the digits beyond are noise, and make the report harder to read. */
function microseconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

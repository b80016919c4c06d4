import type { CheckRun } from '../check/run-check.js';
import type { Report } from '../core/report.js';
import { opDefinition } from '../ops/index.js';
import { printable } from '../printable.js';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';
import { comparisonTitle, describeComparison } from './describe-comparison.js';
import { describeDiagnosis } from './describe-diagnosis.js';
import { comparisonErrors, reportAllowances } from './html/comparison-errors.js';
import { errorMap, errorScatter, SMALL_MAP, ulpHistogram } from './html/error-pictures.js';
import { describeExpectedInvariants } from './render-invariants.js';
import { PLAIN, renderVerdict } from './render-text.js';

/**
 * `--html FILE`: one self-contained page (inline style and SVG, no script, nothing fetched) with
 * the header, the verdict and the likely bug, and per comparison where the errors sit (a map of
 * |a − b| / allowed over slices × elements), how they grow with the values, and their ulps.
 */
export function renderReportHtml(report: Report): string {
  const { input } = report;
  // The expected values' comparisons first, failing ones before them: what a kernel author opened the page for.
  const rank = (c: Report['comparisons'][number]) => (c.closeness.mismatched > 0 ? 0 : c.actual === 'expected' ? 1 : 2);
  const ordered = [...report.comparisons].sort((a, b) => rank(a) - rank(b));
  const allowances = reportAllowances(report);
  const sections = ordered.map((comparison, k) => {
    const errors = comparisonErrors(report, comparison, allowances);
    const title = comparisonTitle(comparison, input.op);
    return [
      `<section class="comparison${comparison.closeness.mismatched > 0 ? ' failing' : ''}">`,
      `<h2>${text(title)}</h2>`,
      `<p>${text(describeComparison(report, comparison))}</p>`,
      errorMap(errors, `map-${k}`),
      `<div class="plots">${errorScatter(errors)}${ulpHistogram(errors)}</div>`,
      '</section>',
    ].join('\n');
  });
  const header = [
    `x: shape ${formatShape(input.x.shape)}, ${input.op} along dim ${input.dim}, dtype ${input.dtype}`,
    `expected: ${input.source ?? (input.expected === undefined ? 'none given' : 'source not given')}`,
    `close: |a − b| ≤ ${opDefinition(input.op).words.closeRule}, rtol ${report.tolerance.rtol}, atol ${report.tolerance.atol}`,
  ];
  return page(`softmax-verify: ${input.label}`, [
    `<h1>softmax-verify: ${text(input.label)}</h1>`,
    `<p class="header">${header.map(text).join('<br>')}</p>`,
    `<p class="verdict ${report.passed ? 'pass' : 'fail'}">${text(renderVerdict(report, PLAIN))}</p>`,
    ...describeDiagnosis(report).map((line) => `<p class="likely">${text(line)}</p>`),
    // What the sections below do not draw: the expected values' sums, finite differences.
    ...[...describeExpectedInvariants(report), ...finiteDifferenceLines(report)].map((line) => `<p class="note">${text(line)}</p>`),
    LEGEND,
    ...sections,
  ]);
}

/** `check --html FILE`: a row per fixture, and for each failing one what failed and a small map of its first failing comparison. */
export function renderCheckHtml(run: CheckRun): string {
  const rows = run.outcomes.map((outcome, k) => {
    const status = outcome.status.toUpperCase();
    const shape = outcome.status === 'error' ? '' : formatShape(outcome.shape);
    const dtype = outcome.status === 'error' ? '' : outcome.dtype;
    let detail = outcomeDetails(outcome).map((line) => `<div>${text(line)}</div>`).join('');
    if (outcome.status === 'fail') {
      const comparison = outcome.report.comparisons.find((c) => c.closeness.mismatched > 0);
      if (comparison !== undefined) detail += `<div class="small-map">${text(comparisonTitle(comparison, outcome.report.input.op))}</div>${errorMap(comparisonErrors(outcome.report, comparison), `map-${k}`, SMALL_MAP)}`;
    }
    return `<tr class="${outcome.status}"><td>${status}</td><td>${text(outcome.name)}</td><td>${shape}</td><td>${dtype}</td><td>${text(outcome.path)}</td><td>${detail}</td></tr>`;
  });
  return page('softmax-verify check', [
    '<h1>softmax-verify check</h1>',
    `<p class="verdict ${run.counts.failed + run.counts.errored === 0 ? 'pass' : 'fail'}">${text(summaryLine(run))}</p>`,
    LEGEND,
    `<table><thead><tr><th>status</th><th>fixture</th><th>shape</th><th>dtype</th><th>file</th><th>what failed</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`,
  ]);
}

function finiteDifferenceLines(report: Report): string[] {
  const fd = report.finiteDifferences;
  return fd === undefined || fd.mismatched === 0 ? [] : [`grad, finite differences vs closed form: mismatched ${fd.mismatched} / ${fd.total}`];
}

const LEGEND =
  '<p class="legend">map: |a − b| / allowed, each cell the worst of its block; ' +
  '<span class="swatch" style="background:#ffffff"></span> exact ' +
  '<span class="swatch" style="background:rgb(232,245,233)"></span> 1/1000 of the allowance ' +
  '<span class="swatch" style="background:rgb(253,216,53)"></span> at the allowance ' +
  '<span class="swatch" style="background:rgb(183,28,28)"></span> 1000× beyond ' +
  '<span class="swatch" style="background:#7b2d8b"></span> a non-finite mismatch</p>';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.header { font-family: ui-monospace, monospace; font-size: 12px; }
.verdict { font-weight: bold; font-size: 16px; } .verdict.pass { color: #2e7d32; } .verdict.fail { color: #b71c1c; }
.likely { background: #fff3e0; border-left: 4px solid #fb8c00; padding: 6px 10px; }
.note { font-size: 13px; color: #6d4c41; }
.legend { font-size: 12px; } .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; border: 1px solid #999; }
svg.map { display: block; border: 1px solid #bbb; } svg.map rect.fail { stroke: #000; stroke-width: 0.3; }
.plots { display: flex; gap: 24px; margin-top: 12px; }
circle.pass { fill: #43a047; } circle.fail { fill: #c62828; } line.allowed { stroke: #9e9e9e; } line.axis { stroke: #555; }
rect.bar { fill: #5c6bc0; } rect.bar.far { fill: #c62828; }
text.label { font-size: 11px; fill: #333; } text.label.middle { text-anchor: middle; }
.small-map { font-size: 11px; margin-top: 4px; } text.tick { font-size: 10px; fill: #333; text-anchor: middle; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; font-size: 12px; }
tr.fail td:first-child { color: #b71c1c; font-weight: bold; } tr.error td:first-child { color: #6a1b9a; font-weight: bold; } tr.pass td:first-child { color: #2e7d32; }
`;

function page(title: string, body: readonly string[]): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${text(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n${body.join('\n')}\n</body>\n</html>\n`;
}

/** Text from a report (names, sources, paths from files) made printable and safe inside HTML. */
export function text(value: string): string {
  return printable(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

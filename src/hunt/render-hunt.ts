import type { Finding, HuntRun } from './run-hunt.js';
import { opDefinition } from '../ops/index.js';
import { printable } from '../printable.js';
import { formatShape } from '../tensor.js';
import { describeComparison } from '../output/describe-comparison.js';
import { describeDiagnosis } from '../output/describe-diagnosis.js';
import { diagnosisJson } from '../output/render-json.js';
import type { Palette } from '../output/render-text.js';

/** A hunt's text report: what ran, then each way the kernel failed, its case shrunk, and how to re-check it. */
export function renderHuntText(run: HuntRun, saved: ReadonlyMap<Finding, string>, palette: Palette): string {
  const { plan } = run;
  const rate = run.seconds > 0 ? ` (${(run.cases / run.seconds).toFixed(1)} a second)` : '';
  const lines = [
    `softmax-verify hunt: ${printable(run.kernel)}, ${plan.op} in ${plan.dtype}, ${dimWords(run)}, seed ${plan.seed}`,
    `${run.cases} cases in ${run.seconds.toFixed(1)} s${rate}: ${run.failed} failed, ${run.declined} declined; ${run.findings.length} way${run.findings.length === 1 ? '' : 's'} of failing`,
  ];
  const reasons = Object.entries(run.declineReasons);
  if (reasons.length > 0) lines.push(`declined: ${reasons.slice(0, 3).map(([reason, n]) => `${printable(reason)} (${n})`).join('; ')}${reasons.length > 3 ? '; …' : ''}`);
  lines.push(...classLines(run));
  for (const finding of run.findings) {
    lines.push('', palette.bad(`${finding.kind === 'fail' ? 'FAIL' : finding.kind.toUpperCase()}: ${finding.signature}, first in "${printable(finding.klass)}"`));
    const classes = Object.keys(finding.classes).length;
    const total = Object.values(finding.classes).reduce((a, b) => a + b, 0);
    lines.push(`  ${total} case${total === 1 ? '' : 's'} failed this way${classes === 1 ? '' : `, in ${classes} input classes`}`);
    lines.push(`  shrunk from ${formatShape(finding.original.x.shape)} to ${formatShape(finding.shrunk.x.shape)} (dim ${finding.shrunk.dim}) in ${finding.shrinkCalls} kernel call${finding.shrinkCalls === 1 ? '' : 's'}`);
    if (finding.detail !== undefined) lines.push(`  ${printable(finding.detail)}`);
    const report = finding.report;
    if (report !== undefined) {
      for (const comparison of report.comparisons) {
        if (comparison.actual === 'expected' && comparison.closeness.mismatched > 0) lines.push(`  ${describeComparison(report, comparison)}`);
      }
      lines.push(...describeDiagnosis(report).map((line) => `  ${line}`));
    }
    const path = saved.get(finding);
    if (path !== undefined) lines.push(`  saved: ${printable(path)}; re-check: softmax-verify check ${printable(path)}`);
    else lines.push(`  re-check: rerun the hunt with --op ${plan.op} --dtype ${plan.dtype}${plan.dim === undefined ? '' : ` --dim ${plan.dim}`} --cases ${run.cases} --seed ${plan.seed}${finding.report === undefined ? '' : ', or add --save-failures DIR to keep it as a fixture'}`);
  }
  lines.push('', run.findings.length === 0 ? palette.good(`PASS: no case failed`) : palette.bad(`FAIL: ${run.failed} of ${run.cases} cases failed`));
  return `${lines.join('\n')}\n`;
}

/**
 * The input classes the kernel failed in, each with its ways of failing, in the order the hunt ran
 * them; when it failed in most, the classes it passed in instead (what a bug spares says as much).
 */
function classLines(run: HuntRun): string[] {
  const entries = Object.entries(run.byClass);
  const failing = entries.filter(([, tally]) => tally.failed > 0);
  if (failing.length === 0) return [];
  const quiet = entries.filter(([, tally]) => tally.failed === 0);
  const count = (list: typeof entries) => list.reduce((sum, [, tally]) => sum + tally.cases, 0);
  const cases = (n: number) => `${n} case${n === 1 ? '' : 's'}`;
  const lines = [''];
  if (failing.length <= quiet.length) {
    lines.push('by input class, cases failed of run:');
    for (const [klass, tally] of failing.slice(0, CLASS_LINES)) lines.push(`  ${printable(klass)}: ${tally.failed} of ${tally.cases} (${waysIn(run, klass).join(', ')})`);
    if (failing.length > CLASS_LINES) lines.push(`  … ${failing.length - CLASS_LINES} more classes with failures (--format json lists them)`);
    lines.push(`  no failure in the other ${quiet.length} class${quiet.length === 1 ? '' : 'es'} (${cases(count(quiet))})`);
    return lines;
  }
  lines.push(`by input class: failures in ${failing.length} of ${entries.length} classes (${run.failed} of ${cases(run.cases)})${quiet.length === 0 ? '' : '; none in:'}`);
  for (const [klass, tally] of quiet.slice(0, CLASS_LINES)) lines.push(`  ${printable(klass)} (${cases(tally.cases)}${tally.declined > 0 ? `, ${tally.declined} declined` : ''})`);
  if (quiet.length > CLASS_LINES) lines.push(`  … ${quiet.length - CLASS_LINES} more (--format json lists them)`);
  return lines;
}

/** The text report's limit on class lines: a kernel wrong everywhere fails in every class. */
const CLASS_LINES = 12;

/** How the kernel failed in one input class: each finding's name (what failed, or how it broke). */
function waysIn(run: HuntRun, klass: string): string[] {
  return run.findings.filter((finding) => finding.classes[klass] !== undefined).map(wayName);
}

function wayName(finding: Finding): string {
  return finding.kind === 'fail' ? finding.signature : finding.kind;
}

/** Which dims the hunt tried: the one given, its op's fixed one (cross_entropy's classes), or every one. */
function dimWords(run: HuntRun): string {
  if (run.plan.dim !== undefined) return `dim ${run.plan.dim}`;
  return opDefinition(run.plan.op).hunt?.fixedDim === true ? 'its classes at dim 1' : 'every dim';
}

/** A hunt's JSON report: the run, and each finding with its shrunk case and what failed. */
export function renderHuntJson(run: HuntRun, saved: ReadonlyMap<Finding, string>): string {
  const tensor = (t: { shape: readonly number[]; data: ArrayLike<number> }) => ({ shape: t.shape, data: Array.from(t.data, (v) => (Number.isFinite(v) ? v : String(v))) });
  const document = {
    format: 'softmax-verify.hunt/v1',
    kernel: run.kernel,
    plan: run.plan,
    cases: run.cases,
    failed: run.failed,
    declined: run.declined,
    declineReasons: run.declineReasons,
    seconds: run.seconds,
    byClass: Object.fromEntries(Object.entries(run.byClass).map(([klass, tally]) => [klass, { ...tally, ways: waysIn(run, klass) }])),
    findings: run.findings.map((finding) => ({
      kind: finding.kind,
      signature: finding.signature,
      klass: finding.klass,
      classes: finding.classes,
      originalShape: finding.original.x.shape,
      shrunkShape: finding.shrunk.x.shape,
      shrinkCalls: finding.shrinkCalls,
      detail: finding.detail ?? null,
      saved: saved.get(finding) ?? null,
      case: {
        op: finding.shrunk.op,
        dtype: finding.shrunk.dtype,
        dim: finding.shrunk.dim,
        x: tensor(finding.shrunk.x),
        g: tensor(finding.shrunk.g),
        fields: Object.fromEntries(Object.entries(finding.shrunk.fields).map(([key, value]) => [key, typeof value === 'object' ? tensor(value) : value])),
      },
      failing:
        finding.report?.comparisons
          .filter((c) => c.actual === 'expected' && c.closeness.mismatched > 0)
          .map((c) => ({ quantity: c.quantity, mismatched: c.closeness.mismatched, total: c.closeness.total, worstRatio: Number.isFinite(c.closeness.worst.value) ? c.closeness.worst.value : String(c.closeness.worst.value) })) ?? [],
      flaggedSlices: finding.report?.invariants.expected?.flaggedSlices ?? 0,
      diagnosis: finding.report === undefined ? [] : diagnosisJson(finding.report),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

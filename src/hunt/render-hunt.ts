import type { Finding, HuntRun } from './run-hunt.js';
import { opDefinition } from '../ops/index.js';
import { printable } from '../printable.js';
import { formatShape } from '../tensor.js';
import { describeComparison } from '../output/describe-comparison.js';
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
  for (const finding of run.findings) {
    lines.push('', palette.bad(`${finding.kind === 'fail' ? 'FAIL' : finding.kind.toUpperCase()}: ${finding.signature}, first in "${printable(finding.klass)}"`));
    const others = Object.entries(finding.classes).filter(([klass]) => klass !== finding.klass);
    const total = Object.values(finding.classes).reduce((a, b) => a + b, 0);
    lines.push(`  ${total} case${total === 1 ? '' : 's'} failed this way${others.length === 0 ? '' : `, in ${others.length + 1} input classes: ${others.slice(0, 6).map(([klass, n]) => `${printable(klass)} (${n})`).join(', ')}${others.length > 6 ? ', …' : ''}`}`);
    lines.push(`  shrunk from ${formatShape(finding.original.x.shape)} to ${formatShape(finding.shrunk.x.shape)} (dim ${finding.shrunk.dim}) in ${finding.shrinkCalls} kernel call${finding.shrinkCalls === 1 ? '' : 's'}`);
    if (finding.detail !== undefined) lines.push(`  ${printable(finding.detail)}`);
    const report = finding.report;
    if (report !== undefined) {
      for (const comparison of report.comparisons) {
        if (comparison.actual === 'expected' && comparison.closeness.mismatched > 0) lines.push(`  ${describeComparison(report, comparison)}`);
      }
    }
    const path = saved.get(finding);
    if (path !== undefined) lines.push(`  saved: ${printable(path)}; re-check: softmax-verify check ${printable(path)}`);
    else lines.push(`  re-check: rerun the hunt with --op ${plan.op} --dtype ${plan.dtype}${plan.dim === undefined ? '' : ` --dim ${plan.dim}`} --cases ${run.cases} --seed ${plan.seed}${finding.report === undefined ? '' : ', or add --save-failures DIR to keep it as a fixture'}`);
  }
  lines.push('', run.findings.length === 0 ? palette.good(`PASS: no case failed`) : palette.bad(`FAIL: ${run.failed} of ${run.cases} cases failed`));
  return `${lines.join('\n')}\n`;
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
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

import type { FixtureOutcome } from '../check/check-fixture.js';
import type { CheckRun } from '../check/run-check.js';
import type { ShardSlice } from '../check/shard.js';
import { describeComparison, describeComputeHint } from './describe-comparison.js';
import { describeDiagnosis } from './describe-diagnosis.js';
import { describeExpectedInvariants } from './render-invariants.js';

/**
 * What went wrong with one fixture, a line per failing comparison with its worst element explained,
 * and the expected values' sums when they are beyond rounding (or the error); empty on a pass.
 * An error's message may quote the fixture's text as it is: each report escapes these lines by its
 * own rules (printable() for text, XML, Markdown, workflow commands).
 */
export function outcomeDetails(outcome: FixtureOutcome): string[] {
  if (outcome.status === 'error') return [outcome.message];
  if (outcome.status === 'pass') return [];
  const { report } = outcome;
  return [
    ...report.comparisons.filter((comparison) => comparison.closeness.mismatched > 0).map((comparison) => describeComparison(report, comparison)),
    ...describeExpectedInvariants(report),
    ...describeComputeHint(report),
    ...describeDiagnosis(report),
  ];
}

/**
 * A failure in one line, for a JUnit message and a GitHub annotation: the first reason, with the
 * likely bug when one is named (what a reviewer wants first), and how many more lines the report has.
 */
export function outcomeHeadline(outcome: FixtureOutcome): { readonly line: string; readonly more: number } {
  const details = outcomeDetails(outcome);
  const likely = details.find((line) => line.startsWith('likely: '));
  const [first = 'the expected values do not match', ...rest] = details.filter((line) => line !== likely);
  return { line: likely === undefined ? first : `${first}; ${likely}`, more: rest.length };
}

/**
 * `17 fixtures: 16 passed, 1 failed, 0 errored in 0.21 s`, plus what --bail left unrun and which
 * shard ran. An empty shard says why it checked nothing, so a green job is not mistaken for a tested one.
 */
export function summaryLine(run: CheckRun): string {
  const { shard } = run;
  if (shard !== undefined && shard.start === shard.end) {
    return `shard ${shard.index}/${shard.count} has no fixtures (of ${shard.total}: more shards than fixtures), nothing to check`;
  }
  const { passed, failed, errored } = run.counts;
  const total = run.outcomes.length;
  const notRun = run.notRun > 0 ? `; ${run.notRun} not run after --bail` : '';
  const part = shard === undefined ? '' : `; ${describeShard(shard)}`;
  return (
    `${total} fixture${total === 1 ? '' : 's'}: ${passed} passed, ${failed} failed, ${errored} errored ` +
    `in ${run.seconds.toFixed(2)} s${notRun}${part}`
  );
}

/** `shard 2/3: fixtures 5–8 of 12`, counted from 1 as a reader counts. */
export function describeShard(shard: ShardSlice): string {
  const { index, count, start, end, total } = shard;
  const which = end - start === 1 ? `fixture ${end}` : `fixtures ${start + 1}–${end}`;
  return `shard ${index}/${count}: ${which} of ${total}`;
}

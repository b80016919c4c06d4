import type { FixtureOutcome } from '../check/check-fixture.js';
import type { CheckRun } from '../check/run-check.js';
import { describeComparison, describeComputeHint } from './describe-comparison.js';
import { describeExpectedInvariants } from './render-invariants.js';

/**
 * What went wrong with one fixture, a line per failing comparison with its worst element explained,
 * and the expected values' sums when they are beyond rounding (or the error); empty on a pass.
 */
export function outcomeDetails(outcome: FixtureOutcome): string[] {
  if (outcome.status === 'error') return [outcome.message];
  if (outcome.status === 'pass') return [];
  const { report } = outcome;
  return [
    ...report.comparisons.filter((comparison) => comparison.closeness.mismatched > 0).map((comparison) => describeComparison(report, comparison)),
    ...describeExpectedInvariants(report),
    ...describeComputeHint(report),
  ];
}

/** `17 fixtures: 16 passed, 1 failed, 0 errored in 0.21 s`, plus what --bail left unrun. */
export function summaryLine(run: CheckRun): string {
  const { passed, failed, errored } = run.counts;
  const total = run.outcomes.length;
  const notRun = run.notRun > 0 ? `; ${run.notRun} not run after --bail` : '';
  return (
    `${total} fixture${total === 1 ? '' : 's'}: ${passed} passed, ${failed} failed, ${errored} errored ` +
    `in ${run.seconds.toFixed(2)} s${notRun}`
  );
}

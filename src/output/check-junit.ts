import type { CheckRun } from '../check/run-check.js';
import { dirname } from 'node:path';
import { formatShape } from '../tensor.js';
import { outcomeDetails, outcomeHeadline } from './check-details.js';
import { printable } from '../printable.js';

/**
 * JUnit XML, the test report GitHub Actions, GitLab and Jenkins all read: one testsuite, one
 * testcase per fixture, `<failure>` for a numerical mismatch and `<error>` for a fixture that could
 * not be checked, each carrying the assert_close-style lines. Text from the fixtures (names, paths,
 * messages) is made printable, then XML-escaped: test reporters print these names into CI logs and
 * annotations, where a line break would start a line of the fixture's choosing.
 */
export function renderCheckJunit(run: CheckRun): string {
  const { passed, failed, errored } = run.counts;
  const tests = passed + failed + errored;
  const time = run.seconds.toFixed(3);
  const counts = `tests="${tests}" failures="${failed}" errors="${errored}"`;
  const cases = run.outcomes.map((outcome) => {
    const shape = outcome.status === 'error' ? '' : ` ${formatShape(outcome.shape)} ${outcome.dtype}`;
    const attributes =
      `classname="${escapeText(dirname(outcome.path))}" name="${escapeText(outcome.name + shape)}" ` +
      `file="${escapeText(outcome.path)}" time="${outcome.seconds.toFixed(3)}"`;
    if (outcome.status === 'pass') return `    <testcase ${attributes}/>`;
    const details = outcomeDetails(outcome).map(printable);
    const tag = outcome.status === 'fail' ? 'failure' : 'error';
    const type = outcome.status === 'fail' ? 'mismatch' : 'unreadable-fixture';
    return (
      `    <testcase ${attributes}>\n` +
      `      <${tag} message="${escapeAttribute(printable(outcomeHeadline(outcome).line))}" type="${type}">${escapeXml(details.join('\n'))}</${tag}>\n` +
      `    </testcase>`
    );
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="softmax-verify" ${counts} time="${time}">`,
    `  <testsuite name="${suiteName(run)}" ${counts} skipped="0" time="${time}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Each job of a sharded matrix names its own suite, so that merged reports keep them apart. */
function suiteName(run: CheckRun): string {
  return run.shard === undefined ? 'softmax-verify check' : `softmax-verify check, shard ${run.shard.index}/${run.shard.count}`;
}

/**
 * Text made safe for XML 1.0 content: the five special characters escaped, and characters XML 1.0
 * cannot carry at all (most control characters, lone surrogates) replaced.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Text from a file or a user, for content or an attribute: printable, then XML-escaped. */
function escapeText(text: string): string {
  return escapeXml(printable(text));
}

/** As `escapeXml`, and line breaks kept as references: a parser turns raw ones in attributes into spaces. */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;');
}

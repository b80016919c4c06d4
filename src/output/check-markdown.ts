import type { CheckRun } from '../check/run-check.js';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';

const MARK = { pass: '✅ PASS', fail: '❌ FAIL', error: '⚠️ ERROR' } as const;

/**
 * A summary table in GitHub-flavoured Markdown, fit for `$GITHUB_STEP_SUMMARY`: a heading with the
 * counts, then one row per fixture with what went wrong, failures first so they are seen.
 */
export function renderCheckMarkdown(run: CheckRun): string {
  const order = { error: 0, fail: 1, pass: 2 } as const;
  const rows = [...run.outcomes]
    .sort((a, b) => order[a.status] - order[b.status])
    .map((outcome) => {
      const shape = outcome.status === 'error' ? '' : formatShape(outcome.shape);
      const dtype = outcome.status === 'error' ? '' : outcome.dtype;
      const details = outcomeDetails(outcome).join('<br>');
      return `| ${MARK[outcome.status]} | ${cell(outcome.name)} | ${shape} | ${dtype} | ${cell(outcome.path)} | ${cell(details)} |`;
    });
  return [
    `### softmax-verify check — ${summaryLine(run)}`,
    '',
    '| result | fixture | shape | dtype | file | details |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Table cells cannot hold a pipe or a line break; `<br>` joins detail lines on purpose. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

import type { CheckRun } from '../check/run-check.js';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';

const MARK = { pass: '✅ PASS', fail: '❌ FAIL', error: '⚠️ ERROR' } as const;

export interface MarkdownOptions {
  /**
   * The most bytes (UTF-8) the report may take: rows past it are counted, not listed. GitHub
   * refuses a step summary over 1 MiB, and a suite of ten thousand fixtures would pass that.
   */
  readonly maxBytes?: number;
}

/**
 * A summary table in GitHub-flavoured Markdown, fit for `$GITHUB_STEP_SUMMARY`: a heading with the
 * counts, then one row per fixture with what went wrong, failures first so they are seen (and
 * kept when `maxBytes` cuts the list short). No table when there are no fixtures.
 */
export function renderCheckMarkdown(run: CheckRun, options: MarkdownOptions = {}): string {
  const heading = `### softmax-verify check — ${summaryLine(run)}`;
  if (run.outcomes.length === 0) return `${heading}\n`;
  const order = { error: 0, fail: 1, pass: 2 } as const;
  const rows = [...run.outcomes]
    .sort((a, b) => order[a.status] - order[b.status])
    .map((outcome) => {
      const shape = outcome.status === 'error' ? '' : formatShape(outcome.shape);
      const dtype = outcome.status === 'error' ? '' : outcome.dtype;
      const details = outcomeDetails(outcome).join('<br>');
      return `| ${MARK[outcome.status]} | ${cell(outcome.name)} | ${shape} | ${dtype} | ${cell(outcome.path)} | ${cell(details)} |`;
    });
  const lines = [heading, '', '| result | fixture | shape | dtype | file | details |', '| --- | --- | --- | --- | --- | --- |'];
  // Room kept for the closing note on what was left out.
  let budget = (options.maxBytes ?? Infinity) - byteLength(lines.join('\n')) - 200;
  let listed = 0;
  for (const row of rows) {
    budget -= byteLength(row) + 1;
    if (budget < 0) break;
    lines.push(row);
    listed++;
  }
  if (listed < rows.length) {
    lines.push('', `${rows.length - listed} more fixtures not listed here, to keep within the size limit; \`--markdown FILE\` writes them all.`);
  }
  return [...lines, ''].join('\n');
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Table cells cannot hold a pipe or a line break; `<br>` joins detail lines on purpose. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

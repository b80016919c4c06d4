import { appendFileSync } from 'node:fs';
import { printable } from '../printable.js';

/** GitHub refuses a step's summary over 1 MiB; earlier commands of the step may have written some. */
export const STEP_SUMMARY_MAX_BYTES = 900 * 1024;

/**
 * Appends the Markdown report to `$GITHUB_STEP_SUMMARY`, never replacing what earlier commands
 * of the step wrote there. The blank line first keeps the heading off the end of their last line.
 * Returns a one-line warning when the file cannot be appended to: the summary is a view of the
 * verdict, and losing it must not change the verdict or the exit code.
 */
export function appendStepSummary(path: string, markdown: string): string | undefined {
  try {
    appendFileSync(path, `\n${markdown}`, { flag: 'a' });
    return undefined;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return `warning: cannot append the report to $GITHUB_STEP_SUMMARY (${printable(path)}): ${printable(reason)}; the exit code is the verdict's all the same`;
  }
}

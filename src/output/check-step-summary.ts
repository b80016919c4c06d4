import { closeSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { systemCalls } from '../io/system-calls.js';
import { writeFailure } from '../io/write-failure.js';
import { printable } from '../printable.js';

/** GitHub refuses a step's summary over 1 MiB; earlier commands of the step may have written some. */
export const STEP_SUMMARY_MAX_BYTES = 900 * 1024;

/**
 * Appends the Markdown report to `$GITHUB_STEP_SUMMARY`, never replacing what earlier commands
 * of the step wrote there. The blank line first keeps the heading off the end of their last line.
 * Whole or not at all: a write that fails midway (a full disk) is cut back to what the file held,
 * so the summary never shows half a table. Returns a one-line warning when the file cannot be
 * appended to: the summary is a view of the verdict, and losing it must not change the verdict or
 * the exit code.
 */
export function appendStepSummary(path: string, markdown: string): string | undefined {
  let fd: number | undefined;
  let before: number | undefined;
  try {
    fd = openSync(path, 'a');
    before = fstatSync(fd).size;
    const bytes = Buffer.from(`\n${markdown}`);
    for (let written = 0; written < bytes.length; ) written += systemCalls.writeSync(fd, bytes, written, bytes.length - written);
    return undefined;
  } catch (error) {
    if (fd !== undefined && before !== undefined) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // Nothing more to do: the warning below still says the summary failed.
      }
    }
    return `warning: cannot append the report to $GITHUB_STEP_SUMMARY (${printable(path)}): ${printable(writeFailure(error))}; the exit code is the verdict's all the same`;
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Written and synced or cut back already: a failing close loses nothing more.
  }
}

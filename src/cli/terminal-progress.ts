import type { Progress, StepProgress } from '../progress.js';

/** Only a step that has run this long shows: the short ones, nearly all, never print a thing. */
const SHOW_AFTER_MS = 1000;
/** The line is rewritten at most this often. */
const EVERY_MS = 250;

/**
 * A long step's progress on a terminal: one line on stderr, rewritten in place (`\r`, then erase
 * to the end of the line) and erased when the step ends, so that nothing of it stays in what the
 * user reads or pipes. Only when stderr is a terminal (not in CI logs, not when redirected), and
 * only for a step that has run a second.
 */
export function terminalProgress(stderr: { write(text: string): unknown; readonly isTTY?: boolean }, now: () => number = Date.now): Progress | undefined {
  if (stderr.isTTY !== true) return undefined;
  return {
    step(name: string, total: number): StepProgress {
      const started = now();
      let shown = false;
      let last = 0;
      return {
        advance(done: number): void {
          const time = now();
          const elapsed = time - started;
          if (elapsed < SHOW_AFTER_MS || time - last < EVERY_MS || total <= 0) return;
          last = time;
          shown = true;
          const share = Math.min(1, done / total);
          const left = share > 0 ? (elapsed * (1 - share)) / share : NaN;
          const remaining = left === left ? `, about ${seconds(left)} left` : '';
          stderr.write(`\r\x1b[K${name}: ${Math.floor(share * 100)}% (${seconds(elapsed)}${remaining})`);
        },
        end(): void {
          if (shown) stderr.write('\r\x1b[K');
        },
      };
    },
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

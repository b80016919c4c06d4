/**
 * How a long step says how far it has come, to a caller that shows it (the command line on a
 * terminal): plain callbacks, so that the core neither knows nor cares who listens. A step reports
 * units of its own choosing (chunks of rows, slices) out of a total it names at the start.
 */
export interface Progress {
  /** A step begins: its name, as a person reads it, and its total units of work. */
  step(name: string, total: number): StepProgress;
}

export interface StepProgress {
  /** `done` units of the total are finished (a running count, not an increment). */
  advance(done: number): void;
  /** The step is over, finished or not. */
  end(): void;
}

const SILENT_STEP: StepProgress = { advance: () => {}, end: () => {} };

/** No one listening. */
export const NO_PROGRESS: Progress = { step: () => SILENT_STEP };

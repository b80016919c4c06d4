
/**
 * Where a command writes, and what it reads of its surroundings: the environment, stdin (for
 * `--input -`) and the working directory every relative path is resolved against (--input, .npy
 * files, check's paths and globs, report files, record's output, $GITHUB_STEP_SUMMARY). The
 * launcher passes the process's own; tests pass their own, and run the command in process.
 */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  /** A terminal (isTTY) shows the long steps' progress. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  /** An absolute path. */
  readonly cwd: string;
}

export { TOOL } from '../core/tool.js';

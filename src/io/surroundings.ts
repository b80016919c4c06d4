/**
 * What reading a user's files needs of the process around it: stdin (for `--input -`) and the
 * working directory relative paths are resolved against. The CLI's Io has both; the library passes
 * the process's own.
 */
export interface Surroundings {
  readonly stdin: NodeJS.ReadableStream;
  /** An absolute path. */
  readonly cwd: string;
}

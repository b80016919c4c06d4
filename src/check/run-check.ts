import { basename, resolve } from 'node:path';
import { MAX_TEXT_BYTES, textSizeProblem } from '../input/text-size-limit.js';
import { readFileBounded } from '../io/read-bounded.js';
import { readFailure } from '../io/read-failure.js';
import { checkFixture, type FixtureCheckOptions, type FixtureOutcome } from './check-fixture.js';
import type { FixtureFile } from './collect-fixtures.js';
import type { ShardSlice } from './shard.js';

export interface CheckOptions extends FixtureCheckOptions {
  /** Stop after the first fixture that fails or errs. */
  readonly bail?: boolean;
  /** Called as each fixture finishes, so a long suite reports as it goes. */
  readonly onOutcome?: (outcome: FixtureOutcome) => void;
  /** The folder relative file paths are read from (default: the process's working directory); outcomes name them as given. */
  readonly cwd?: string;
}

export interface CheckRun {
  readonly outcomes: readonly FixtureOutcome[];
  readonly counts: { readonly passed: number; readonly failed: number; readonly errored: number };
  /** Fixtures not run because --bail stopped the suite. */
  readonly notRun: number;
  readonly seconds: number;
  /** With `--shard`: which part of the sorted fixture list this run checked. */
  readonly shard?: ShardSlice;
}

/**
 * Checks the fixture files in the order given, each through the run pipeline: a large explicit
 * Jacobian shares its rows among worker threads unless `parallel` is false (the same bits). A file
 * is a path, or what collectFixturePaths found; one it refused is an error outcome.
 */
export async function runCheck(files: readonly (string | FixtureFile)[], options: CheckOptions): Promise<CheckRun> {
  const started = performance.now();
  const outcomes: FixtureOutcome[] = [];
  let stoppedAt = files.length;
  for (let i = 0; i < files.length; i++) {
    const outcome = await checkFile(files[i], options);
    if (outcome === undefined) continue;
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
    if (options.bail && outcome.status !== 'pass') {
      stoppedAt = i + 1;
      break;
    }
  }
  const count = (status: FixtureOutcome['status']): number => outcomes.filter((o) => o.status === status).length;
  return {
    outcomes,
    counts: { passed: count('pass'), failed: count('fail'), errored: count('error') },
    notRun: files.length - stoppedAt,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Files that `--input` reads as dumps: check reads fixtures, which carry a name, a source and a dtype. */
const DUMP = /\.(npz|safetensors|npy)$/i;

async function checkFile(file: string | FixtureFile, options: CheckOptions): Promise<FixtureOutcome | undefined> {
  const { path, refused } = typeof file === 'string' ? { path: file, refused: undefined } : file;
  const fallbackName = basename(path, '.json');
  const errorOutcome = (message: string): FixtureOutcome | undefined =>
    options.select !== undefined && !options.select(fallbackName) ? undefined : { status: 'error', path, name: fallbackName, message, seconds: 0 };
  if (refused !== undefined) return errorOutcome(refused);
  if (DUMP.test(path)) {
    return errorOutcome(`a dump, not a fixture: record it first (softmax-verify record --input ${path} -o NAME.json), then check the fixture`);
  }
  let text: string;
  try {
    // Regular files and pipes only (a device named on the command line is refused unopened), and no more than a string holds.
    const bytes = readFileBounded(resolve(options.cwd ?? '', path), MAX_TEXT_BYTES, (size) => `it ${textSizeProblem(size)}`);
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  } catch (error) {
    return errorOutcome(`cannot read the file: ${readFailure(error)}`);
  }
  return checkFixture(path, text, fallbackName, options);
}

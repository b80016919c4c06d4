import { DEFAULT_OP } from '../../ops/op-definition.js';
import { basename, extname, resolve } from 'node:path';
import { runVerification } from '../../core/run.js';
import { InputError, quoted, withInputLabel } from '../../input-error.js';
import { resolveRequest, type RawRequest } from '../../input/resolve-input.js';
import { checkOutputPath, writeFileAtomic } from '../../io/atomic-write.js';
import { fixtureToJson } from '../../output/fixture-json.js';
import { printable } from '../../printable.js';
import { DEFAULT_PRECISION, PLAIN, renderText } from '../../output/render-text.js';
import { buildFixture } from '../../record/build-fixture.js';
import { formatShape } from '../../tensor.js';
import type { Outcome } from '../exit-code.js';
import { inputFiles } from '../../io/input-files.js';
import { realPathOf } from '../../io/file-status.js';
import { TOOL, type Io } from '../io.js';
import { terminalProgress } from '../terminal-progress.js';

/** The input's flags are resolveRequest's own (RawRequest); the rest are this command's. */
export interface RecordFlags extends RawRequest {
  name?: string;
  description?: string;
  output: string;
  force: boolean;
  allowSlow: boolean;
  allowMismatch: boolean;
}

/**
 * `record`: writes a fixture v1 file from an input, atomically, never over a file unasked, and
 * only once what it records passes the verdict.
 */
export async function recordCommand(flags: RecordFlags, io: Io): Promise<Outcome> {
  if (flags.x === undefined && flags.g === undefined && flags.input === undefined) {
    throw new InputError('record needs an input: --x and --g, or --input FILE');
  }
  checkOutputPath(flags.output, flags.force, io.cwd);
  const read = new Set<string>();
  const resolved = await resolveRequest(flags, inputFiles(io, read));
  if (!resolved.ok) throw resolved.error;
  // Decided on real paths, before anything runs: through a link, -o can name the input it reads.
  if (read.has(realPathOf(resolve(io.cwd, flags.output)))) {
    throw new InputError(`-o names ${flags.output}, a file this record reads its input from: write the fixture elsewhere`);
  }
  // --rtol/--atol become the fixture's own tolerance: what it is judged by here and in every check.
  const { tolerance } = resolved.value;
  const recorded = tolerance === undefined ? resolved.value.input : { ...resolved.value.input, tolerance };

  // The output's name, not the input's: dumps tend to be called dump.npz, fixtures are named with care.
  const fallbackName = basename(flags.output, extname(flags.output));
  const labels = { name: flags.name, fallbackName, description: flags.description };
  // The same run as the verifier's, without the ulp figures a fixture does not keep.
  const report = await runVerification(recorded, { reference: 'off', allowSlow: flags.allowSlow, progress: terminalProgress(io.stderr) });
  const fixtureFor = () => buildFixture(recorded, labels, TOOL, report, { allowMismatch: flags.allowMismatch });
  // What an --input file lacks is reported with the file's name, as the verifier's own errors are.
  const built = flags.input === undefined ? fixtureFor() : withInputLabel(recorded.label, fixtureFor);
  if (!built.ok) {
    io.stdout.write(renderText(built.report, { precision: DEFAULT_PRECISION, rows: 0, palette: PLAIN, summary: true }));
    io.stderr.write(
      built.why === 'expected-mismatch'
        ? `not recorded: the expected values fail the verdict (above); --allow-mismatch records them anyway, for a known-bad case\n`
        : 'not recorded: the two methods disagree on this input (above), so neither result can stand as expected values\n',
    );
    return { kind: 'verdict', passed: false };
  }
  writeFileAtomic(flags.output, fixtureToJson(built.fixture), flags.force, io.cwd);
  const { fixture } = built;
  const mismatch = built.report.passed ? '' : ' (they fail the verdict: recorded as --allow-mismatch asked)';
  // The path, the name and the source come from the user and the dump: each printed on this one line.
  io.stdout.write(
    `wrote ${printable(flags.output)}: fixture ${quoted(fixture.name)}${fixture.op === undefined || fixture.op === DEFAULT_OP ? '' : ` of ${fixture.op}`}, shape ${formatShape(fixture.x.shape)}, ` +
      `dim ${fixture.dim}, ${fixture.dtype}; expected values from ${printable(fixture.source)}${mismatch}\n`,
  );
  return { kind: 'verdict', passed: true };
}

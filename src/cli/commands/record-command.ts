import { basename, extname } from 'node:path';
import { InputError, withInputLabel } from '../../input/input-error.js';
import { resolveRequest } from '../../input/resolve-input.js';
import { checkOutputPath, writeFileAtomic } from '../../io/atomic-write.js';
import { jacobianRefusal } from '../../work-budget.js';
import { comparisonTitle } from '../../output/describe-comparison.js';
import { fixtureToJson } from '../../output/fixture-json.js';
import { buildFixture } from '../../record/build-fixture.js';
import { formatShape } from '../../tensor.js';
import type { Outcome } from '../exit-code.js';
import { INPUT_FILES } from '../input-files.js';
import { TOOL, type Io } from '../io.js';

export interface RecordFlags {
  x?: string;
  g?: string;
  input?: string;
  dim?: string;
  dtype?: string;
  name?: string;
  description?: string;
  source?: string;
  output: string;
  force: boolean;
  allowSlow: boolean;
}

/** `record`: writes a fixture v1 file from an input, atomically, never over a file unasked. */
export async function recordCommand(flags: RecordFlags, io: Io): Promise<Outcome> {
  const { x, g, input, dim, dtype } = flags;
  if (x === undefined && g === undefined && input === undefined) {
    throw new InputError('record needs an input: --x and --g, or --input FILE');
  }
  checkOutputPath(flags.output, flags.force);
  const resolved = await resolveRequest({ x, g, input, dim, dtype }, INPUT_FILES);
  if (!resolved.ok) throw resolved.error;

  const fallbackName = input === undefined || input === '-' ? undefined : basename(input, extname(input));
  const labels = { name: flags.name, fallbackName, description: flags.description, source: flags.source };
  const jacobianSkipped = flags.allowSlow ? undefined : jacobianRefusal(resolved.value.input);
  const fixtureFor = () => buildFixture(resolved.value.input, labels, TOOL, { jacobianSkipped });
  // What an --input file lacks is reported with the file's name, as the verifier's own errors are.
  const built = input === undefined ? fixtureFor() : withInputLabel(resolved.value.input.label, fixtureFor);
  if (!built.ok) {
    const failed = built.report.comparisons.filter((c) => c.closeness.mismatched > 0).map(comparisonTitle);
    io.stderr.write(
      `not recorded: the two methods disagree on this input (${failed.join('; ')}), so neither result can ` +
        'stand as expected values; run softmax-verify on it to see where\n',
    );
    return { kind: 'verdict', passed: false };
  }
  writeFileAtomic(flags.output, fixtureToJson(built.fixture), flags.force);
  const { fixture } = built;
  io.stdout.write(
    `wrote ${flags.output}: fixture ${JSON.stringify(fixture.name)}, shape ${formatShape(fixture.x.shape)}, ` +
      `dim ${fixture.dim}, ${fixture.dtype}; expected values from ${fixture.source}\n`,
  );
  return { kind: 'verdict', passed: true };
}


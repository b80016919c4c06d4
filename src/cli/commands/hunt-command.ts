import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../../input-error.js';
import { writeFailure } from '../../io/write-failure.js';
import { printable } from '../../printable.js';
import { OP_FIELDS } from '../../ops/index.js';
import { readDTypeFlag } from '../../input/input-document.js';
import { readIntegerText, parseNumberToken } from '../../input/number-token.js';
import { readArithmeticFlags, readOpFlag } from '../../input/resolve-input.js';
import { processKernel } from '../../hunt/kernel-process.js';
import { renderHuntJson, renderHuntText } from '../../hunt/render-hunt.js';
import { runHunt } from '../../hunt/run-hunt.js';
import { saveFindings } from '../../hunt/save-findings.js';
import { paletteForStdout } from '../colour.js';
import type { Outcome } from '../exit-code.js';
import { TOOL, type Io } from '../io.js';

export interface HuntFlags {
  kernel: string;
  op?: string;
  dtype?: string;
  dim?: string;
  time?: string;
  cases?: string;
  seed?: string;
  saveFailures?: string;
  format: 'text' | 'json';
  caseTimeout?: string;
  compute?: string;
  accumulate?: string;
  maskedRows?: string;
  color: boolean;
}

/**
 * `hunt`: searches for the inputs that break a kernel (the protocol v1 command given), shrinks
 * each failure, and reports them; --save-failures keeps them as fixtures. Exit 0 when no case
 * failed, 1 when one did, 2 for bad usage or a kernel that never answered a case.
 */
export async function huntCommand(flags: HuntFlags, io: Io): Promise<Outcome> {
  if (flags.kernel.trim() === '') throw new InputError('--kernel is empty: give the command that runs your kernel, e.g. --kernel "python3 my_kernel.py"');
  const op = flags.op === undefined ? 'softmax' : readOpFlag(flags.op);
  const dtype = flags.dtype === undefined ? 'float32' : readDTypeFlag(flags.dtype, '--dtype');
  const dim = flags.dim === undefined ? undefined : readIntegerText(flags.dim, '--dim');
  const seconds = flags.time === undefined ? undefined : positive(flags.time, '--time');
  const cases = flags.cases === undefined ? undefined : readIntegerText(flags.cases, '--cases');
  if (cases !== undefined && cases < 1) throw new InputError(`--cases must be at least 1, got ${cases}`);
  const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : readIntegerText(flags.seed, '--seed');
  const caseSeconds = flags.caseTimeout === undefined ? 60 : positive(flags.caseTimeout, '--case-timeout');
  const arithmetic = readArithmeticFlags(flags);
  const folder = flags.saveFailures === undefined ? undefined : resolve(io.cwd, flags.saveFailures);
  // --masked-rows is the op's own field (the registry's), read as the verifier reads it.
  const maskedRows = OP_FIELDS.find((field) => field.key === 'masked_rows');
  if (flags.maskedRows !== undefined && maskedRows !== undefined) {
    if (maskedRows.op !== op) throw new InputError(`--masked-rows is for --op ${maskedRows.op}`);
    if (maskedRows.kind.type === 'choice' && !maskedRows.kind.choices.includes(flags.maskedRows)) {
      throw new InputError(`--masked-rows must be one of ${maskedRows.kind.choices.join(', ')}, got ${JSON.stringify(flags.maskedRows)}`);
    }
  }
  // The folder is made before the hunt: a long hunt must not end in a refusal to save what it found.
  if (folder !== undefined) {
    try {
      mkdirSync(folder, { recursive: true });
    } catch (error) {
      throw new InputError(`--save-failures ${printable(flags.saveFailures ?? '')}: cannot make the folder: ${writeFailure(error)}`);
    }
  }
  const kernel = processKernel(flags.kernel, { caseSeconds, env: io.env, cwd: io.cwd });
  const progress = io.stderr.isTTY === true && io.env.CI === undefined;
  let run;
  try {
    run = await runHunt({
      plan: { op, dtype, seed, ...(dim === undefined ? {} : { dim }), ...(flags.maskedRows === undefined ? {} : { fields: { maskedRows: flags.maskedRows } }) },
      kernel,
      ...(seconds === undefined ? {} : { seconds }),
      ...(cases === undefined ? {} : { cases }),
      arithmetic,
      ...(progress ? { onCase: (state) => io.stderr.write(`\r\u001b[K${state.cases} cases, ${state.failures} failed, ${state.declined} declined, ${state.seconds.toFixed(0)} s`) } : {}),
    });
  } finally {
    if (progress) io.stderr.write('\r\u001b[K');
    await kernel.close();
  }
  // A kernel that never answered a case is a kernel that does not run: a usage problem, not a finding.
  if (run.findings.length > 0 && run.findings.every((finding) => finding.kind !== 'fail' && finding.kind !== 'bad-output') && run.failed === run.cases) {
    const first = run.findings[0];
    throw new InputError(`the kernel never answered a case: it ${first.kind === 'hang' ? 'hung' : first.kind === 'crash' ? 'crashed' : 'broke the protocol'} (${first.detail ?? first.kind}); see docs/hunt.md for the protocol`);
  }
  if (run.cases > 0 && run.declined === run.cases) {
    const [reason] = Object.keys(run.declineReasons);
    throw new InputError(`the kernel declined every case (${reason}): nothing was checked`);
  }
  let saved = new Map();
  if (folder !== undefined) saved = saveFindings(run, folder, TOOL, io.cwd);
  const palette = await paletteForStdout(flags.color, io.env, io.stdout.isTTY === true);
  io.stdout.write(flags.format === 'json' ? renderHuntJson(run, saved) : renderHuntText(run, saved, palette));
  return { kind: 'verdict', passed: run.failed === 0 };
}

function positive(text: string, flag: string): number {
  const value = parseNumberToken(text.trim());
  if (value === undefined || !(value > 0) || !Number.isFinite(value)) throw new InputError(`${flag} must be a number of seconds above 0, got ${JSON.stringify(text)}`);
  return value;
}

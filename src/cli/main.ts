import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DTYPES } from '../dtype.js';
import { InputError } from '../input/input-error.js';
import { jacobianRefusal } from '../jacobian-budget.js';
import { resolveRequest } from '../input/resolve-input.js';
import { DEFAULT_EDGE_ROWS, DEFAULT_PRECISION, renderText } from '../output/render-text.js';
import { verify } from '../verify.js';
import { paletteForStdout } from './colour.js';
import { exitCodeFor, type Outcome } from './exit-code.js';

export const FORMATS = ['text', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

interface Options {
  x?: string;
  g?: string;
  input?: string;
  dim?: string;
  dtype?: string;
  rtol?: string;
  atol?: string;
  format: Format;
  rows: string;
  precision: string;
  color: boolean;
  force: boolean;
}

const TOOL = readTool();

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    return exitCodeFor(await run(argv, io));
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr.write(`error: ${error.message}\n`);
      return exitCodeFor({ kind: 'bad-input' });
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`softmax-verify: internal error: ${message}. This is a bug in softmax-verify; please report it with the command that caused it.\n`);
    if (io.env.SOFTMAX_VERIFY_DEBUG) io.stderr.write(`${(error as Error).stack}\n`);
    return exitCodeFor({ kind: 'internal' });
  }
}

async function run(argv: readonly string[], io: Io): Promise<Outcome> {
  const program = buildProgram(io);
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'info-shown' };
    io.stderr.write(`${oneLine(error.message)}\n`);
    return { kind: 'bad-input' };
  }
  const options = program.opts<Options>();
  const rows = readRows(options.rows);
  const precision = readPrecision(options.precision);

  // The file reader and the JSON renderer are imported only when used: every module on the path
  // of the plain run adds to a start-up that Node's own should dominate.
  const readDocument = async (path: string) => (await import('./read-input-file.js')).readInputFile(path);
  const { x, g, input, dim, dtype, rtol, atol } = options;
  const resolved = await resolveRequest({ x, g, input, dim, dtype, rtol, atol }, readDocument);
  if (!resolved.ok) throw resolved.error;
  const refusal = options.force ? undefined : jacobianRefusal(resolved.value.input);
  if (refusal !== undefined) throw new InputError(refusal);

  const report = verify(resolved.value.input, { tolerance: resolved.value.tolerance });
  if (options.format === 'json') {
    const { renderJson } = await import('../output/render-json.js');
    io.stdout.write(renderJson(report, TOOL));
  } else {
    const palette = await paletteForStdout(options.color, io.env, io.stdout.isTTY === true);
    io.stdout.write(renderText(report, { precision, rows, palette }));
  }
  return { kind: 'verdict', passed: report.passed };
}

function buildProgram(io: Io): Command {
  return new Command()
    .name(TOOL.name)
    .description(
      'Compute softmax and its input gradient two independent ways (explicit Jacobian, closed form), ' +
        'print them side by side and say whether they agree. With no arguments: the built-in example ' +
        'x = 1..9, g = 11..19.',
    )
    .version(TOOL.version, '-V, --version')
    .option('--x <values>', 'logits: a JSON array (nested for N-D) or a list such as 1,2,3')
    .option('--g <values>', 'upstream gradient, in the shape of x')
    .option('-i, --input <file>', 'JSON file {"x", "g", "dim"?, "dtype"?} or a fixture; "-" reads stdin')
    .option('--dim <n>', 'dimension softmax runs along; negative counts from the end (default: -1)')
    .option('--dtype <name>', `picks the default tolerance: ${DTYPES.join(', ')} (default: float64)`)
    .option('--rtol <number>', 'relative tolerance; give together with --atol')
    .option('--atol <number>', 'absolute tolerance; give together with --rtol')
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('text'))
    .option('--rows <n|all>', 'table rows shown at each end of a long input, or all', String(DEFAULT_EDGE_ROWS))
    .option('--precision <digits>', 'significant digits of the values shown, 1 to 17', String(DEFAULT_PRECISION))
    .option('--no-color', 'no colour, even in a terminal (NO_COLOR=1 does the same)')
    .option('--force', 'run an explicit Jacobian larger than 2.5e9 entries (minutes or more)', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 the methods agree (and match the expected values, when given); 1 they do not;\n' +
        '2 bad usage or bad input; 3 internal error.\n',
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are printed by run() as one line; commander would print them over several.
      outputError: () => undefined,
    });
}

function readRows(text: string): number | 'all' {
  if (text === 'all') return 'all';
  if (/^\d+$/.test(text)) return Number(text);
  throw new InputError(`--rows must be a whole number or "all", got ${JSON.stringify(text)}`);
}

function readPrecision(text: string): number {
  const digits = /^\d+$/.test(text) ? Number(text) : NaN;
  if (digits >= 1 && digits <= 17) return digits;
  throw new InputError(`--precision must be a whole number from 1 to 17, got ${JSON.stringify(text)}`);
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

function readTool(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  return { name: pkg.name, version: pkg.version };
}

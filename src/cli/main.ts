import { Command, CommanderError, Option } from 'commander';
import { WordedError } from '../core/run-refusal.js';
import { InputError } from '../input-error.js';
import { DEFAULT_EDGE_ROWS, DEFAULT_PRECISION } from '../output/render-text.js';
import { printable } from '../printable.js';
import type { BenchFlags } from './commands/bench-command.js';
import type { CheckFlags } from './commands/check-command.js';
import type { HuntFlags } from './commands/hunt-command.js';
import type { RecordFlags } from './commands/record-command.js';
import { verifyCommand, type VerifyFlags } from './commands/verify-command.js';
import { addInputOptions } from './input-options.js';
import { exitCodeFor, type Outcome } from './exit-code.js';
import { CHECK_FORMATS, REFERENCE_CHOICES, VERIFY_FORMATS } from './formats.js';
import { TOOL, withCheckedOutput, type Io } from './io.js';
import { guardWorkflowCommands } from './workflow-command-guard.js';
import { OP_FIELDS } from '../ops/index.js';

export type { Io } from './io.js';
export { describeOutputFailure } from './io.js';

/**
 * Runs the command line `argv` (without node and the script) and returns the exit code. Under
 * GitHub Actions its stdout and stderr are guarded: no line of theirs can be a workflow command but
 * the tool's own annotations.
 */
export async function main(argv: readonly string[], outerIo: Io): Promise<number> {
  // The guard goes outside the output check, so that the annotations it lets past (keyed on the
  // guarded streams) reach the commands as they are; the error lines below have a guard of their own.
  const guard = (inner: Io): Io => (inner.env.GITHUB_ACTIONS === 'true' ? guardWorkflowCommands(inner) : inner);
  const io = guard(outerIo);
  try {
    return exitCodeFor(await withCheckedOutput(outerIo, (checked) => run(argv, guard(checked))));
  } catch (error) {
    // Each message is one line whatever it quotes: a file name or a value may hold a line break.
    if (error instanceof InputError) {
      const message = error instanceof WordedError ? error.wordedFor('flags') : error.message;
      io.stderr.write(`error: ${printable(message)}\n`);
      return exitCodeFor({ kind: 'bad-input' });
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(
      `softmax-verify: internal error: ${printable(message)}. This is a bug in softmax-verify; please report it with the command that caused it.\n`,
    );
    if (io.env.SOFTMAX_VERIFY_DEBUG) io.stderr.write(`${(error as Error).stack}\n`);
    return exitCodeFor({ kind: 'internal' });
  }
}

async function run(argv: readonly string[], io: Io): Promise<Outcome> {
  let outcome: Outcome | undefined;
  const program = buildProgram(io, (done) => {
    outcome = done;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'info-shown' };
    throw new InputError(oneLine(error.message).replace(/^error: /, ''));
  }
  if (outcome === undefined) throw new Error('no command ran');
  return outcome;
}

function buildProgram(io: Io, finish: (outcome: Outcome) => void): Command {
  const program = addInputOptions(configure(new Command(), io)
    .name(TOOL.name)
    .description(
      'Compute softmax and its input gradient two independent ways (explicit Jacobian, closed form), ' +
        'print them side by side and say whether they agree. With no arguments: the built-in example ' +
        'x = 1..9, g = 11..19.',
    )
    .version(TOOL.version, '-V, --version')
    // Options before a command name belong to the verifier, not to check or record.
    .enablePositionalOptions()
    .allowExcessArguments(true))
    .option('--compute <name>', "the type every operation rounds to, in the methods and in what the verdict allows for (default: the dtype; float32 for the half types, as PyTorch's CPU kernels)")
    .option('--accumulate <name>', 'the type sums accumulate in, likewise (default: float32 for the half types, float64 otherwise)')
    .option('--rtol <number>', 'relative tolerance; give together with --atol')
    .option('--atol <number>', 'absolute tolerance; give together with --rtol')
    .addOption(new Option('--format <format>', 'report format').choices(VERIFY_FORMATS).default('text'))
    .option('--rows <n|all>', 'table rows shown at each end of a long input, and at most n failing rows between them; or all', String(DEFAULT_EDGE_ROWS))
    .option('--summary', 'print the header, the comparisons and the verdict only', false)
    .option('--precision <digits>', 'significant digits of the values shown, 1 to 17', String(DEFAULT_PRECISION))
    .option('--accurate', 'add a third method: the closed form without the cancellation in g − ⟨s, g⟩', false)
    .option('--fd', "check the gradient against central differences of ⟨g, softmax(x)⟩ too (O(n²))", false)
    .option('--html <file>', 'also write the report as a page there: a map of where the errors sit, |a − b| against |b|, ulps')
    .option('--force', 'overwrite the --html file if it exists', false)
    .addOption(
      new Option('--reference <engine>', 'exact results to measure ulps against; auto is double-double, BigNumber where it cannot decide')
        .choices(REFERENCE_CHOICES)
        .default('auto'),
    )
    .option('--allow-slow', 'run work beyond the limits: an explicit Jacobian over 5e9 entries, --fd over 2e8 steps, BigNumber over 20,000 elements', false)
    .option('--no-color', 'no colour, even in a terminal (NO_COLOR=1 does the same)')
    .addHelpText(
      'after',
      '\nExit codes: 0 the methods agree (and the expected values, when given, are within rounding of the\n' +
        'exact result); 1 they do not; 2 bad usage or bad input; 3 internal error.\n',
    )
    .action(async (flags: VerifyFlags, command: Command) => {
      const [stray] = command.args;
      if (stray !== undefined) {
        throw new InputError(
          `unknown command ${JSON.stringify(stray)}: the commands are check, record, hunt and bench; give values with --x and --g`,
        );
      }
      finish(await verifyCommand(flags, io));
    });

  configure(program.command('check'), io)
    .description("check fixture files: both methods agree, and each fixture's expected values are within rounding of the exact result")
    .argument('<paths...>', 'fixture files, folders (searched for *.json) or glob patterns')
    .option('--rtol <number>', 'relative tolerance for every fixture, with --atol (overrides theirs)')
    .option('--atol <number>', 'absolute tolerance for every fixture, with --rtol')
    .addOption(new Option('--format <format>', 'report format').choices(CHECK_FORMATS).default('text'))
    .option('-o, --output <file>', 'write the report there (the text summary still goes to the terminal)')
    .option('--junit <file>', 'also write a JUnit XML report there')
    .option('--markdown <file>', 'also write a Markdown report there')
    .option('--json <file>', 'also write a JSON report there')
    .option('--html <file>', 'also write a page there: each fixture, and a map of where each failing one is off')
    .option('--force', 'overwrite report files that exist', false)
    .option('--shard <k/n>', 'check only part k of n of the sorted fixture list: contiguous parts within one fixture of each other, for a CI matrix')
    .option('--bail', 'stop at the first fixture that fails or errs', false)
    .option('--filter <text>', 'only fixtures whose name contains this text (not with --shard)')
    .option('--allow-slow', 'run explicit Jacobians of more than 5e9 entries', false)
    .option('--compute <name>', "the type every fixture's kernel computes in (default: each dtype's; float32 for the half types)")
    .option('--accumulate <name>', "the type every fixture's kernel sums in (default: float32 for the half types, float64 otherwise)")
    .option('--no-color', 'no colour, even in a terminal')
    .addHelpText(
      'after',
      '\nUnder GitHub Actions, each failing or unreadable fixture is also an ::error annotation, and the\n' +
        'Markdown report is appended to $GITHUB_STEP_SUMMARY.\n' +
        '\nExit codes: 0 every fixture passes; 1 some fixture mismatches; 2 some fixture cannot be read\n' +
        '(this wins over 1), a report cannot be written, or bad usage.\n',
    )
    .action(async (paths: string[], flags: CheckFlags) => {
      refuseVerifierOptions(program, 'check');
      // check's and record's modules load only when they run: the plain run's start-up stays Node's own.
      const { checkCommand } = await import('./commands/check-command.js');
      finish(await checkCommand(paths, flags, io));
    });

  addInputOptions(configure(program.command('record'), io)
    .description('write a fixture v1 file from an input (values from a dump, or computed and cross-checked here)'))
    .option('--rtol <number>', "the fixture's own tolerance, with --atol: recorded, and what it is judged by (default: the input's, else the dtype's)")
    .option('--atol <number>', "the fixture's own absolute tolerance, with --rtol")
    .option('--name <name>', 'the fixture\'s name (default: the input\'s, else the output file\'s name)')
    .option('--description <text>', 'what the case is about')
    .requiredOption('-o, --output <file>', 'the fixture file to write (required)')
    .option('--force', 'overwrite the output file if it exists', false)
    .option('--allow-mismatch', 'record expected values even when they fail the verdict (a known-bad case)', false)
    .option('--allow-slow', 'run an explicit Jacobian of more than 5e9 entries', false)
    .action(async (flags: RecordFlags) => {
      refuseVerifierOptions(program, 'record');
      const { recordCommand } = await import('./commands/record-command.js');
      finish(await recordCommand(flags, io));
    });

  configure(program.command('hunt'), io)
    .description("search for the inputs that break a kernel, shrink each failure, and keep them as fixtures")
    .requiredOption('--kernel <command>', 'the command that runs your kernel, speaking the protocol v1 (docs/hunt.md), e.g. "python3 my_kernel.py"')
    .option('--op <name>', 'the operation the kernel computes (default: softmax)')
    .option('--dtype <name>', 'the dtype its inputs and outputs are in (default: float32)')
    .option('--dim <n>', 'hunt along this dim only (default: every dim)')
    .option('--time <seconds>', 'stop after this long (default: 60, unless --cases is given)')
    .option('--cases <n>', 'stop after this many cases')
    .option('--seed <n>', 'the cases to draw: the same seed gives the same cases (default: a new one, printed)')
    .option('--save-failures <dir>', 'write each shrunk failure there as a fixture, which check fails on until the kernel is fixed')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json']).default('text'))
    .option('--case-timeout <seconds>', 'a case the kernel has not answered in this long is a hang (default: 60)')
    .option('--compute <name>', 'the type the kernel computes in (default: the dtype\'s; float32 for the half types)')
    .option('--accumulate <name>', 'the type the kernel sums in (default: float32 for the half types, float64 otherwise)')
    .option('--masked-rows <name>', maskedRowsHelp())
    .option('--no-color', 'no colour, even in a terminal')
    .addHelpText('after', '\nExit codes: 0 no case failed; 1 some case failed; 2 bad usage, or a kernel that never answered a case.\n')
    .action(async (flags: HuntFlags) => {
      refuseVerifierOptions(program, 'hunt');
      const { huntCommand } = await import('./commands/hunt-command.js');
      finish(await huntCommand(flags, io));
    });

  configure(program.command('bench'), io)
    .description('time each method at a range of sizes, with its growth exponent and a chart')
    .option('--sizes <list>', 'slice lengths, for every method (default: a range per method, under a minute in all)')
    .option('--methods <list>', 'which of jacobian, closedForm, accurate, reference', 'jacobian,closedForm,accurate,reference')
    .addOption(new Option('--format <format>', 'report format').choices(VERIFY_FORMATS).default('text'))
    .option('--allow-slow', 'allow Jacobian sizes over 2e10 entries', false)
    .action(async (flags: BenchFlags) => {
      refuseVerifierOptions(program, 'bench');
      const { benchCommand } = await import('./commands/bench-command.js');
      finish(await benchCommand(flags, io));
    });

  return program;
}

/** The settings every command shares: errors thrown, not printed, so each is one line. */
function configure(command: Command, io: Io): Command {
  return command
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    });
}

/** `softmax-verify --rtol 1 check …` would silently drop --rtol: say where it belongs instead. */
function refuseVerifierOptions(program: Command, commandName: string): void {
  const given = program.options.find((option) => program.getOptionValueSource(option.attributeName()) === 'cli');
  if (given !== undefined) {
    throw new InputError(`${given.long} was given before "${commandName}": put ${commandName}'s options after its name`);
  }
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

/** hunt's --masked-rows: the op's own field (the registry's), a convention every case then carries. */
function maskedRowsHelp(): string {
  const field = OP_FIELDS.find((candidate) => candidate.key === 'masked_rows');
  return field === undefined ? 'what the kernel gives a fully masked slice' : `${field.op}: ${field.help}`;
}

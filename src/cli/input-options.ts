import type { Command } from 'commander';
import { DTYPES } from '../dtype.js';
import { OPS } from '../op.js';
import { flagName, OP_FIELDS } from '../ops/index.js';
import type { FieldKind } from '../ops/op-definition.js';

// A boolean field is a flag without a value (--causal).
const PLACEHOLDER: Readonly<Record<FieldKind['type'], string>> = {
  values: ' <values>',
  mask: ' <booleans>',
  boolean: '',
  number: ' <number>',
  choice: ' <name>',
  fraction: ' <number>',
  integer: ' <n>',
};

/**
 * The options that give an input and its expected values, declared once for the verifier and for
 * record; each op's own fields come from the registry (`--target`, `--reduction`, …).
 */
export function addInputOptions(command: Command): Command {
  command
    .option('--op <name>', `the operation: ${OPS.join(', ')} (default: the input's, else softmax)`)
    .option('--x <values>', 'logits: a JSON array (nested for N-D), a list such as 1,2,3, or a .npy file')
    .option('--g <values>', 'upstream gradient, in the shape of x')
    .option('--expected-softmax <values>', 'the expected softmax values (yours to judge, or to record), in the forms --x takes')
    .option('--expected-log-softmax <values>', 'the expected log_softmax values (--op log_softmax)')
    .option('--expected-loss <values>', 'the expected cross_entropy loss: one number, or one per sample with --reduction none');
  for (const field of OP_FIELDS) command.option(`${flagName(field)}${PLACEHOLDER[field.kind.type]}`, `${field.op}: ${field.help}`);
  return command
    .option('--expected-grad <values>', 'the expected gradient values, in the forms --x takes')
    .option('--source <text>', "who produced the expected values (replaces the input's own)")
    .option(
      '-i, --input <file>',
      'a dump: .npz (np.savez) or .safetensors holding x, g and optionally softmax (log_softmax; or target, loss, weight for cross_entropy; mask), grad; or JSON {"x", "g", "dim"?, "dtype"?, "op"?, "expected"?: {"softmax"?, "grad"?}, "source"?} or a fixture; "-" reads JSON from stdin',
    )
    .option('--dim <n>', 'dimension softmax runs along (cross_entropy: its classes); negative counts from the end (default: the input\'s, else -1; cross_entropy 1)')
    .option('--dtype <name>', `arithmetic and default tolerance: ${DTYPES.join(', ')}, or fp32, bf16, half, … (default: the input's, else the dtype x and g are stored in, else float64)`);
}

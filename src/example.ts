import { InputError } from './input-error.js';
import { opDefinition } from './ops/index.js';
import type { Op } from './ops/op-definition.js';
import { type VerifyInput } from './core/report.js';

/**
 * The run with no input: the op's own example (softmax's is the worked example this tool grew
 * from, x = 1..9, g = 11..19 against PyTorch autograd). An op without one is an InputError.
 */
export function builtInExample(op: Op = 'softmax'): VerifyInput {
  const example = opDefinition(op).example?.();
  if (example === undefined) throw new InputError(`op ${op} has no built-in example`);
  return example;
}

import { OP_DEFINITIONS, opDefinition } from './ops/index.js';
import { OP_NAMES, type Op, type Quantity } from './ops/op-definition.js';

export type { Op } from './ops/op-definition.js';

/** The operations the tool verifies: softmax and its siblings, each with the same two methods (the registry's). */
export const OPS = OP_NAMES;

export function isOp(value: unknown): value is Op {
  return typeof value === 'string' && (OPS as readonly string[]).includes(value);
}

/** The name of each op's forward output, in reports and in documents' `expected`. */
export const FORWARD_NAME: Readonly<Record<Op, 'softmax' | 'log_softmax' | 'loss'>> = Object.fromEntries(
  OP_NAMES.map((op) => [op, OP_DEFINITIONS[op].forwardName]),
) as Record<Op, 'softmax' | 'log_softmax' | 'loss'>;

/** A quantity as reports name it: the op's forward output by its own name, or `grad`. */
export function quantityName(op: Op | undefined, quantity: Quantity): string {
  return quantity === 'grad' ? 'grad' : opDefinition(op).forwardName;
}

/** Whether a forward output of this name has a value per element of x (a loss has its own shape). */
export function perElementForward(name: string): boolean {
  return !OP_NAMES.some((op) => OP_DEFINITIONS[op].forwardName === name && !OP_DEFINITIONS[op].forwardPerElement);
}

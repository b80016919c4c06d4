import { InputError } from './input-error.js';
import type { Quantity } from './verify.js';

/** The operations the tool verifies: softmax and its siblings, each with the same two methods. */
export const OPS = ['softmax', 'log_softmax', 'cross_entropy'] as const;
export type Op = (typeof OPS)[number];

/** The ops this version verifies; cross_entropy's fields are read by a later one. */
export const SUPPORTED_OPS = ['softmax', 'log_softmax', 'cross_entropy'] as const;

export function isOp(value: unknown): value is Op {
  return typeof value === 'string' && (OPS as readonly string[]).includes(value);
}

/** The name of each op's forward output, in reports and in documents' `expected`. */
export const FORWARD_NAME: Readonly<Record<Op, 'softmax' | 'log_softmax' | 'loss'>> = {
  softmax: 'softmax',
  log_softmax: 'log_softmax',
  cross_entropy: 'loss',
};

/** A quantity as reports name it: the op's forward output by its own name, or `grad`. */
export function quantityName(op: Op | undefined, quantity: Quantity): string {
  return quantity === 'grad' ? 'grad' : FORWARD_NAME[op ?? 'softmax'];
}

/** The op, when this version verifies it; an InputError naming `field` when not yet. */
export function supportedOp(op: Op, field: string): Op {
  if ((SUPPORTED_OPS as readonly string[]).includes(op)) return op;
  throw new InputError(`${field} ${op} is not verified by this version yet (it verifies ${SUPPORTED_OPS.join(' and ')})`);
}

import type { Quantity } from './verify.js';

/** The operations the tool verifies: softmax and its siblings, each with the same two methods. */
export const OPS = ['softmax', 'log_softmax', 'cross_entropy'] as const;
export type Op = (typeof OPS)[number];

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

import { CROSS_ENTROPY } from './cross_entropy/index.js';
import { LOG_SOFTMAX } from './log_softmax/index.js';
import type { Op, OpDefinition } from './op-definition.js';
import { SOFTMAX } from './softmax/index.js';

export type { Op, OpDefinition } from './op-definition.js';

/**
 * The registry: one definition per op, keyed by its name. Typed so that an op without a piece,
 * or a name without its definition, fails to compile (test/ops/registry.test.ts checks the rest).
 */
export const OP_DEFINITIONS: { readonly [K in Op]: OpDefinition & { readonly op: K } } = {
  softmax: SOFTMAX as OpDefinition & { readonly op: 'softmax' },
  log_softmax: LOG_SOFTMAX as OpDefinition & { readonly op: 'log_softmax' },
  cross_entropy: CROSS_ENTROPY as OpDefinition & { readonly op: 'cross_entropy' },
};

/** The definition of `op` (softmax when a caller has none: an input without an op is softmax's). */
export function opDefinition(op: Op | undefined): OpDefinition {
  return OP_DEFINITIONS[op ?? 'softmax'];
}

import { CROSS_ENTROPY } from './cross_entropy/index.js';
import { LOG_SOFTMAX } from './log_softmax/index.js';
import { MASKED_SOFTMAX } from './masked_softmax/index.js';
import { DEFAULT_OP, OP_NAMES, type Op, type OpDefinition, type OpField } from './op-definition.js';
import { SOFTMAX } from './softmax/index.js';

export type { Op, OpDefinition } from './op-definition.js';

/**
 * The registry: one definition per op, keyed by its name. Typed so that an op without a piece,
 * or a name without its definition, fails to compile (test/ops/registry.test.ts checks the rest).
 */
export const OP_DEFINITIONS: { readonly [K in Op]: OpDefinition<K> } = {
  softmax: SOFTMAX,
  log_softmax: LOG_SOFTMAX,
  cross_entropy: CROSS_ENTROPY,
  masked_softmax: MASKED_SOFTMAX,
};

/** The definition of `op` (softmax when a caller has none: an input without an op is softmax's). */
export function opDefinition(op: Op | undefined): OpDefinition {
  return OP_DEFINITIONS[op ?? DEFAULT_OP];
}

/** Every op's own fields, each with the op that takes it, in the registry's order. */
export const OP_FIELDS: readonly (OpField & { readonly op: Op })[] = OP_NAMES.flatMap((op) => OP_DEFINITIONS[op].fields.map((field) => ({ ...field, op })));

/** A field's name in the library and in a document read as settings: `label_smoothing` → `labelSmoothing`. */
export function libraryName(field: Pick<OpField, 'key'>): string {
  return field.key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A field's flag: `label_smoothing` → `--label-smoothing`. */
export function flagName(field: OpField): string {
  return `--${field.key.replaceAll('_', '-')}`;
}

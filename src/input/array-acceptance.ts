/**
 * What a named array of a dump (or a .npy file given for a field) may be beyond a non-empty float
 * array: cross_entropy's target is class indices (int64, as PyTorch keeps them), a single one for
 * a single sample; its g and loss are single numbers for mean and sum. Every other array stays a
 * float array of rank ≥ 1, so that an int64 x is still refused by name.
 */
import { perElementForward } from '../op.js';
import { OP_FIELDS } from '../ops/index.js';

export interface ArrayAcceptance {
  /** Integer dtypes (read exactly while within ±2^53). */
  readonly integers?: boolean;
  /** A 0-d array: one number. */
  readonly scalar?: boolean;
  /** Booleans (.npy `|b1`, safetensors BOOL), as 1 and 0: a mask. */
  readonly booleans?: boolean;
}

export function acceptanceOf(name: string): ArrayAcceptance {
  const bare = name.replace(/^--/, '').replace(/^expected[.-]/, '');
  const field = OP_FIELDS.find((candidate) => candidate.key === bare);
  if (field?.kind.type === 'mask') return { integers: true, booleans: true };
  if (field?.kind.type === 'values' && field.kind.integers) return { integers: true, scalar: field.kind.orNumber === true };
  if (bare === 'g' || !perElementForward(bare)) return { scalar: true };
  return {};
}

import { InputError } from '../input-error.js';

/** `--shard K/N`: the K-th (from 1) of N parts. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Where one shard falls in the sorted fixture list: the slice [start, end) of `total` files. */
export interface ShardSlice extends Shard {
  readonly start: number;
  readonly end: number;
  readonly total: number;
}

/** Reads `--shard K/N`: whole numbers with 1 ≤ K ≤ N, nothing else. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match === null ? NaN : Number(match[1]);
  const count = match === null ? NaN : Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 1 || index > count) {
    throw new InputError(`--shard must be K/N, whole numbers with 1 ≤ K ≤ N (such as 2/3), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Shard K of N of a list of `total`: the contiguous block [⌊(K−1)·total/N⌋, ⌊K·total/N⌋). The N
 * blocks partition the list, and their sizes are ⌊total/N⌋ or ⌈total/N⌉, so no job of a CI matrix
 * waits on a longer one by more than a fixture. A block is empty only when N > total.
 *
 * Unlike vitest's ceil-sized chunks (10 files in 4 shards: 3, 3, 3, 1; 5 in 4: 2, 2, 1, 0), no
 * shard is left empty while there are enough fixtures to go round. The products are exact in
 * BigInt: N may be any safe integer.
 */
export function shardSlice(total: number, shard: Shard): ShardSlice {
  const at = (k: number): number => Number((BigInt(k) * BigInt(total)) / BigInt(shard.count));
  return { ...shard, start: at(shard.index - 1), end: at(shard.index), total };
}

import { describe, expect, test } from 'vitest';
import { parseShard, shardSlice } from '../../src/check/shard.js';
import { describeShard } from '../../src/output/check-details.js';

describe('shardSlice', () => {
  test('N shards of a list of L partition it exactly, in order, with sizes within one of each other (L = 0..40, N = 1..12)', () => {
    for (let total = 0; total <= 40; total++) {
      for (let count = 1; count <= 12; count++) {
        const slices = Array.from({ length: count }, (_, k) => shardSlice(total, { index: k + 1, count }));
        // Contiguous and covering: each starts where the last ended, from 0 to L.
        expect(slices[0].start, `${total}/${count}`).toBe(0);
        expect(slices[count - 1].end, `${total}/${count}`).toBe(total);
        for (let k = 1; k < count; k++) expect(slices[k].start, `${total}/${count} #${k + 1}`).toBe(slices[k - 1].end);
        // So every index lies in exactly one shard.
        const owners = Array.from({ length: total }, (_, i) => slices.filter((s) => s.start <= i && i < s.end).length);
        expect(owners, `${total}/${count}`).toEqual(Array(total).fill(1));
        const sizes = slices.map((s) => s.end - s.start);
        expect(Math.min(...sizes), `${total}/${count}`).toBe(Math.floor(total / count));
        expect(Math.max(...sizes), `${total}/${count}`).toBe(Math.ceil(total / count));
        // Empty only when there are more shards than fixtures.
        expect(sizes.includes(0), `${total}/${count}`).toBe(total < count);
        expect(slices.every((s, k) => s.index === k + 1 && s.count === count && s.total === total)).toBe(true);
      }
    }
  });

  test.each([
    [12, 3, [[0, 4], [4, 8], [8, 12]]],
    [10, 4, [[0, 2], [2, 5], [5, 7], [7, 10]]],
    [5, 4, [[0, 1], [1, 2], [2, 3], [3, 5]]],
    [2, 3, [[0, 0], [0, 1], [1, 2]]],
    [0, 2, [[0, 0], [0, 0]]],
  ])('%i fixtures in %i shards: %j', (total, count, expected) => {
    const slices = expected.map((_, k) => shardSlice(total, { index: k + 1, count }));
    expect(slices.map((s) => [s.start, s.end])).toEqual(expected);
  });

  test('is exact for any safe N (BigInt products)', () => {
    const count = Number.MAX_SAFE_INTEGER;
    expect(shardSlice(5, { index: count, count })).toEqual({ index: count, count, start: 4, end: 5, total: 5 });
    expect(shardSlice(5, { index: count - 1, count })).toMatchObject({ start: 4, end: 4 });
  });
});

describe('parseShard', () => {
  test.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/3', { index: 2, count: 3 }],
    ['12/12', { index: 12, count: 12 }],
  ])('reads %s', (text, shard) => {
    expect(parseShard(text)).toEqual(shard);
  });

  test.each(['0/3', '4/3', '1/0', '0/0', 'a/b', '2', '', '1/2/3', '1.5/2', ' 1/2', '1/2 ', '+1/2', '1/9007199254740993'])(
    'refuses %j in one line naming --shard and the value',
    (text) => {
      expect(() => parseShard(text)).toThrow(`--shard must be K/N, whole numbers with 1 ≤ K ≤ N (such as 2/3), got ${JSON.stringify(text)}`);
    },
  );
});

describe('describeShard', () => {
  test('counts from 1, and names a lone fixture in the singular', () => {
    expect(describeShard(shardSlice(12, { index: 2, count: 3 }))).toBe('shard 2/3: fixtures 5–8 of 12');
    expect(describeShard(shardSlice(3, { index: 3, count: 3 }))).toBe('shard 3/3: fixture 3 of 3');
  });
});

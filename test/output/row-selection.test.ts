import { describe, expect, test } from 'vitest';
import { selectRows } from '../../src/output/row-selection.js';

const allClose = (n: number): Uint8Array => new Uint8Array(n).fill(1);

describe('selectRows', () => {
  test('shows every row of a short input', () => {
    expect(selectRows(allClose(6), 3, 100)).toEqual({ rows: [0, 1, 2, 3, 4, 5], failingHidden: 0 });
  });

  test('shows the head and the tail of a long input', () => {
    expect(selectRows(allClose(100), 2, 100)).toEqual({ rows: [0, 1, 98, 99], failingHidden: 0 });
  });

  test('adds every failing row between head and tail', () => {
    const close = allClose(100);
    close[50] = 0;
    close[70] = 0;
    expect(selectRows(close, 2, 100).rows).toEqual([0, 1, 50, 70, 98, 99]);
  });

  test('counts the failing rows beyond the limit instead of printing them', () => {
    const close = new Uint8Array(1000);
    const { rows, failingHidden } = selectRows(close, 1, 10);
    expect(rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 999]);
    expect(failingHidden).toBe(1000 - 12);
  });

  test('"all" shows every row', () => {
    expect(selectRows(allClose(50), 'all', 0).rows).toHaveLength(50);
  });

  test('0 rows at the ends shows only the failing rows', () => {
    const close = allClose(10);
    close[4] = 0;
    expect(selectRows(close, 0, 100).rows).toEqual([4]);
  });
});

import { describe, expect, test } from 'vitest';
import { selectRows } from '../../src/output/row-selection.js';

const allClose = (n: number): Uint8Array => new Uint8Array(n).fill(1);

describe('selectRows', () => {
  test('shows every row of a short input', () => {
    expect(selectRows(allClose(6), 3)).toEqual({ rows: [0, 1, 2, 3, 4, 5], failingHidden: 0 });
  });

  test('shows the head and the tail of a long input', () => {
    expect(selectRows(allClose(100), 2)).toEqual({ rows: [0, 1, 98, 99], failingHidden: 0 });
  });

  test('adds the failing rows between head and tail, up to as many as the rows at each end', () => {
    const close = allClose(100);
    close[50] = 0;
    close[70] = 0;
    expect(selectRows(close, 2).rows).toEqual([0, 1, 50, 70, 98, 99]);
    close[80] = 0;
    expect(selectRows(close, 2)).toEqual({ rows: [0, 1, 50, 70, 98, 99], failingHidden: 1 });
  });

  test('counts the failing rows beyond the limit instead of printing them', () => {
    const close = new Uint8Array(1000);
    const { rows, failingHidden } = selectRows(close, 2);
    expect(rows).toEqual([0, 1, 2, 3, 998, 999]);
    expect(failingHidden).toBe(1000 - 6);
  });

  test('"all" shows every row', () => {
    expect(selectRows(allClose(50), 'all').rows).toHaveLength(50);
  });

  test('0 rows shows none, and counts the failing ones', () => {
    const close = allClose(10);
    close[4] = 0;
    expect(selectRows(close, 0)).toEqual({ rows: [], failingHidden: 1 });
    expect(selectRows(allClose(10), 0)).toEqual({ rows: [], failingHidden: 0 });
  });
});

/**
 * Which rows of a long table to print: the first `edge`, the last `edge`, and every row that
 * fails, up to `failingLimit` of them beyond the edges, so that a kernel that is wrong everywhere
 * does not bury the summary under a million lines.
 */
export interface RowSelection {
  /** Row indices to print, ascending. */
  readonly rows: number[];
  /** Failing rows left out because of `failingLimit`. */
  readonly failingHidden: number;
}

export function selectRows(rowClose: Uint8Array, edge: number | 'all', failingLimit: number): RowSelection {
  const n = rowClose.length;
  if (edge === 'all' || n <= 2 * edge) return { rows: Array.from({ length: n }, (_, k) => k), failingHidden: 0 };
  const rows: number[] = [];
  let failingShown = 0;
  let failingHidden = 0;
  for (let k = 0; k < n; k++) {
    if (k < edge || k >= n - edge) rows.push(k);
    else if (rowClose[k] === 0) {
      if (failingShown < failingLimit) {
        rows.push(k);
        failingShown++;
      } else failingHidden++;
    }
  }
  return { rows, failingHidden };
}

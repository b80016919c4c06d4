/**
 * Which rows of a long table to print: the first `edge`, the last `edge`, and the rows between
 * them that fail, up to `edge` of those, so that a kernel that is wrong everywhere does not bury
 * the summary under a million lines, and `--rows 2` means a table that fits a terminal.
 */
export interface RowSelection {
  /** Row indices to print, ascending. */
  readonly rows: number[];
  /** Failing rows left out because of `failingLimit`. */
  readonly failingHidden: number;
}

export function selectRows(rowClose: Uint8Array, edge: number | 'all'): RowSelection {
  const n = rowClose.length;
  if (edge === 'all' || n <= 2 * edge) return { rows: Array.from({ length: n }, (_, k) => k), failingHidden: 0 };
  const rows: number[] = [];
  let failingShown = 0;
  let failingHidden = 0;
  for (let k = 0; k < n; k++) {
    if (k < edge || k >= n - edge) rows.push(k);
    else if (rowClose[k] === 0) {
      if (failingShown < edge) {
        rows.push(k);
        failingShown++;
      } else failingHidden++;
    }
  }
  return { rows, failingHidden };
}

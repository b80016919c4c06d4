import type { ComparisonErrors } from './comparison-errors.js';

/**
 * The pictures of one comparison's errors, as inline SVG (no script: the page opens anywhere, a
 * CI artifact included): where the errors sit, how they grow with the values, and how many ulps
 * they are. Colours: within the allowance green to yellow, beyond it orange to red, a non-finite
 * mismatch purple.
 */

/** A map's size and its most cells: larger arrays are max-pooled to fit, so that no failing element is averaged away. */
export interface MapSize {
  readonly width: number;
  readonly height: number;
  readonly rows: number;
  readonly columns: number;
}

export const BIG_MAP: MapSize = { width: 768, height: 288, rows: 48, columns: 128 };
/** check's, one a failing fixture. */
export const SMALL_MAP: MapSize = { width: 384, height: 96, rows: 16, columns: 64 };

/** |a − b| / allowed over slices × elements, max-pooled, on a log scale; failing cells outlined. */
export function errorMap(errors: ComparisonErrors, id: string, size: MapSize = BIG_MAP): string {
  const rows = Math.min(errors.rows, size.rows);
  const columns = Math.min(errors.columns, size.columns);
  const cellWidth = size.width / columns;
  const cellHeight = Math.min(size.height / rows, 24);
  const height = cellHeight * rows;
  const cells: string[] = [];
  for (let r = 0; r < rows; r++) {
    const [r0, r1] = [Math.floor((r * errors.rows) / rows), Math.floor(((r + 1) * errors.rows) / rows)];
    for (let c = 0; c < columns; c++) {
      const [c0, c1] = [Math.floor((c * errors.columns) / columns), Math.floor(((c + 1) * errors.columns) / columns)];
      let worst = 0;
      for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) worst = Math.max(worst, errors.ratio[errors.at(i, j)]);
      const failing = worst > 1;
      // A tooltip for a failing cell only: the page of a wide suite stays a few hundred kB.
      const rect = `<rect x="${(c * cellWidth).toFixed(2)}" y="${(r * cellHeight).toFixed(2)}" width="${cellWidth.toFixed(2)}" height="${cellHeight.toFixed(2)}" fill="${ratioColour(worst)}"`;
      cells.push(failing ? `${rect} class="fail"><title>${cellTitle(r0, r1, c0, c1, worst)}</title></rect>` : `${rect}/>`);
    }
  }
  return `<svg id="${id}" class="map" xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${height.toFixed(0)}" viewBox="0 0 ${size.width} ${height.toFixed(2)}" role="img" aria-label="|a − b| / allowed over ${errors.rows} × ${errors.columns} elements">${cells.join('')}</svg>`;
}

function cellTitle(r0: number, r1: number, c0: number, c1: number, worst: number): string {
  const span = (a: number, b: number) => (b - a === 1 ? String(a) : `${a}–${b - 1}`);
  return `slices ${span(r0, r1)}, elements ${span(c0, c1)}: worst |a − b| / allowed ${Number.isFinite(worst) ? worst.toPrecision(3) : 'non-finite mismatch'}`;
}

/** White where exact, pale green (10^-3 of the allowance and less) to yellow (1) within it, orange to red beyond it (10^3 and up), purple for a non-finite mismatch. */
export function ratioColour(ratio: number): string {
  if (!Number.isFinite(ratio)) return '#7b2d8b';
  if (ratio <= 0) return '#ffffff';
  const level = Math.max(-3, Math.min(3, Math.log10(ratio)));
  if (level <= 0) {
    const t = (level + 3) / 3;
    return mix([232, 245, 233], [253, 216, 53], t);
  }
  return mix([251, 140, 0], [183, 28, 28], level / 3);
}

function mix(from: readonly number[], to: readonly number[], t: number): string {
  const [r, g, b] = from.map((v, k) => Math.round(v + (to[k] - v) * t));
  return `rgb(${r},${g},${b})`;
}

/** The plots' most points: every failing element up to this many, the rest a sample of the passing ones. */
const MAX_POINTS = 1500;

/** |a − b| against |b| on log axes, each point's allowance drawn beside it as a grey mark. */
export function errorScatter(errors: ComparisonErrors, size = { width: 360, height: 240 }): string {
  const failing: number[] = [];
  const passing: number[] = [];
  // What has no place on log axes is counted under the plot instead: exact elements, b = 0, non-finite ones.
  let [exact, zero, nonFinite] = [0, 0, 0];
  for (let i = 0; i < errors.ratio.length; i++) {
    if (!Number.isFinite(errors.difference[i]) || !Number.isFinite(errors.reference[i])) nonFinite++;
    else if (errors.difference[i] === 0) exact++;
    else if (errors.reference[i] === 0) zero++;
    else (errors.ratio[i] > 1 ? failing : passing).push(i);
  }
  // Failing elements spread over the whole array, not the first ones: a bug everywhere shows everywhere.
  const shownFailing = every(failing, MAX_POINTS);
  const shown = [...shownFailing, ...every(passing, Math.max(0, MAX_POINTS - shownFailing.length))];
  const aside = [[exact, 'exact'], [zero, 'with b = 0'], [nonFinite, 'non-finite']].filter(([n]) => n !== 0).map(([n, what]) => `${n} ${what}`).join(', ');
  if (shown.length === 0) return `<p class="empty">nothing to plot${aside === '' ? '' : `: ${aside}`}</p>`;
  const floor = 1e-30;
  const xs = shown.map((i) => Math.log10(Math.max(Math.abs(errors.reference[i]), floor)));
  const ys = shown.flatMap((i) => [Math.log10(Math.max(errors.difference[i], floor)), Math.log10(Math.max(errors.allowed[i], floor))]);
  const [x0, x1] = range(xs);
  const [y0, y1] = range(ys);
  const pad = 32;
  const px = (v: number) => pad + ((v - x0) / (x1 - x0)) * (size.width - pad - 8);
  const py = (v: number) => size.height - pad - ((v - y0) / (y1 - y0)) * (size.height - pad - 20);
  const marks = shown.map((i, k) => {
    const x = px(xs[k]).toFixed(1);
    const allowedMark = `<line x1="${(Number(x) - 3).toFixed(1)}" x2="${(Number(x) + 3).toFixed(1)}" y1="${py(Math.log10(Math.max(errors.allowed[i], floor))).toFixed(1)}" y2="${py(Math.log10(Math.max(errors.allowed[i], floor))).toFixed(1)}" class="allowed"/>`;
    const point = `<circle cx="${x}" cy="${py(Math.log10(Math.max(errors.difference[i], floor))).toFixed(1)}" r="2" class="${errors.ratio[i] > 1 ? 'fail' : 'pass'}"/>`;
    return allowedMark + point;
  });
  const axes = `<line x1="${pad}" y1="${size.height - pad}" x2="${size.width - 8}" y2="${size.height - pad}" class="axis"/><line x1="${pad}" y1="8" x2="${pad}" y2="${size.height - pad}" class="axis"/>`;
  const labels = `<text x="${size.width / 2}" y="${size.height - 6}" class="label middle">log10 |b| (${x0.toFixed(0)} to ${x1.toFixed(0)})${aside === '' ? '' : `; not drawn: ${aside}`}</text><text x="4" y="12" class="label">log10 |a − b| (${y0.toFixed(0)} to ${y1.toFixed(0)}); grey: allowed</text>`;
  return `<svg class="scatter" xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" role="img" aria-label="|a − b| against |b|">${axes}${marks.join('')}${labels}</svg>`;
}

/** How many elements are how many ulps from the reference, in widening bins; non-finite mismatches last. */
export function ulpHistogram(errors: ComparisonErrors, size = { width: 360, height: 240 }): string {
  const labels = ['0', '≤½', '≤1', '≤2', '≤4', '≤16', '≤2⁸', '≤2¹⁶', 'more', 'NaN·∞'];
  const limits = [0, 0.5, 1, 2, 4, 16, 256, 65536];
  const counts = new Array<number>(labels.length).fill(0);
  errors.ulps.forEach((u, i) => {
    // A non-finite mismatch has its own bar; "more" is finite, past 2¹⁶ ulps.
    if (errors.ratio[i] === Infinity) return counts[labels.length - 1]++;
    const bin = limits.findIndex((limit) => u <= limit);
    counts[bin === -1 ? labels.length - 2 : bin]++;
  });
  const most = Math.max(...counts, 1);
  const pad = 32;
  const barWidth = (size.width - pad) / labels.length;
  const bars = counts.map((count, k) => {
    const h = count === 0 ? 0 : Math.max(2, (Math.log10(count + 1) / Math.log10(most + 1)) * (size.height - 2 * pad));
    const x = pad + k * barWidth;
    return `<rect x="${(x + 2).toFixed(1)}" y="${(size.height - pad - h).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" class="bar${k === labels.length - 1 ? ' far' : ''}"><title>${labels[k]} ulps: ${count}</title></rect><text x="${(x + barWidth / 2).toFixed(1)}" y="${size.height - pad + 14}" class="tick">${labels[k]}</text><text x="${(x + barWidth / 2).toFixed(1)}" y="${(size.height - pad - h - 3).toFixed(1)}" class="tick">${count === 0 ? '' : count}</text>`;
  });
  return `<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" role="img" aria-label="ulps from the reference">${bars.join('')}<text x="4" y="16" class="label">elements by ulps from the reference (log count)</text></svg>`;
}

function every<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, k) => items[Math.floor(k * step)]);
}

function range(values: readonly number[]): [number, number] {
  let [low, high] = [Math.min(...values), Math.max(...values)];
  if (high - low < 1) [low, high] = [low - 0.5, high + 0.5];
  return [Math.floor(low), Math.ceil(high)];
}

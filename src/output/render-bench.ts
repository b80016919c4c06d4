import type { BenchSeries } from '../bench/run-bench.js';
import { writeJson } from './json-text.js';
import type { Tool } from './render-json.js';
import { METHOD_LABEL } from '../core/report.js';

const LABEL = { ...METHOD_LABEL, reference: 'reference (double-double)' } as const;
const MARK = { jacobian: 'J', closedForm: 'C', accurate: 'A', reference: 'R' } as const;

/** The table (n, median time, cost per unit), each method's growth exponent, and a log-log chart. */
export function renderBenchText(series: readonly BenchSeries[]): string {
  const rows = series.flatMap((s) =>
    s.points.map((p) => [LABEL[s.method], String(p.n), `${p.ms.toFixed(2)} ms`, `${p.perUnit.toFixed(2)} ns/${s.unit}`]),
  );
  const header = ['method', 'n', 'median', 'cost'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ');
  const exponents = series.map(
    (s) => `${LABEL[s.method]}: time grows as n^${s.exponent === null ? '?' : s.exponent.toFixed(2)} (${s.method === 'jacobian' ? 'every entry: 2 expected' : '1 expected'})`,
  );
  return [line(header), ...rows.map(line), '', ...exponents, '', ...chart(series), ''].join('\n');
}

/** Median time against n, both on log scales, one letter per method. */
function chart(series: readonly BenchSeries[]): string[] {
  const points = series.flatMap((s) => s.points.map((p) => ({ mark: MARK[s.method], x: Math.log10(p.n), y: Math.log10(Math.max(p.ms, 1e-3)) })));
  if (points.length === 0) return [];
  const [width, height] = [56, 12];
  const [x0, x1] = [Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x))];
  const [y0, y1] = [Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y))];
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (const p of points) {
    const col = x1 === x0 ? 0 : Math.round(((p.x - x0) / (x1 - x0)) * (width - 1));
    const row = y1 === y0 ? height - 1 : height - 1 - Math.round(((p.y - y0) / (y1 - y0)) * (height - 1));
    grid[row][col] = grid[row][col] === ' ' || grid[row][col] === p.mark ? p.mark : '*';
  }
  const top = `${axisNumber(10 ** y1)} ms`;
  const bottom = `${axisNumber(10 ** y0)} ms`;
  const pad = Math.max(top.length, bottom.length);
  return [
    `median time against n, log-log (${series.map((s) => `${MARK[s.method]} ${LABEL[s.method]}`).join(', ')}):`,
    ...grid.map((cells, r) => `${(r === 0 ? top : r === height - 1 ? bottom : '').padStart(pad)} │${cells.join('')}`),
    `${' '.repeat(pad)} └${'─'.repeat(width)}`,
    `${' '.repeat(pad)}  n = ${axisNumber(10 ** x0)}${' '.repeat(Math.max(1, width - 16))}${axisNumber(10 ** x1)}`,
  ];
}

/** Two significant digits: `250`, `0.34`, `4e6`. */
function axisNumber(value: number): string {
  const rounded = Number(value.toPrecision(2));
  return rounded >= 1e4 ? rounded.toExponential().replace('e+', 'e') : String(rounded);
}

export const BENCH_FORMAT = 'softmax-verify.bench/v1';

export function renderBenchJson(series: readonly BenchSeries[], tool: Tool, node: string): string {
  return `${writeJson({ format: BENCH_FORMAT, tool, node, methods: series })}\n`;
}

import type { Report } from '../core/report.js';
import { printable } from '../printable.js';

/**
 * The likely bug, in one line: `likely: the gradient is s ⊙ g (⟨s, g⟩ left out): explains 9 of 9
 * failing elements`, and the other hypotheses that fit as well, by code. Nothing when nothing is
 * named, or when the compute hint already says the same (a kernel computing in the dtype itself).
 */
export function describeDiagnosis(report: Report): string[] {
  const [best, ...others] = report.diagnosis;
  if (best === undefined) return [];
  if (best.code === 'lower-precision' && report.passesComputingInDtype === true && String(best.details?.flag).startsWith('--compute')) return [];
  const also = others.length === 0 ? '' : ` (also fits: ${others.map((d) => d.code).join(', ')})`;
  return [`likely: ${printable(best.message)}: explains ${count(best.explains)} of ${count(best.failing)} failing element${best.failing === 1 ? '' : 's'} [${best.code}]${also}`];
}

// Not toLocaleString: its first call loads ICU data, some 10 ms.
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

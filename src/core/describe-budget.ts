import type { OverBudget } from './over-budget.js';

/** How the caller's options are spelt: the command line's flags or the library's options. */
export interface OptionWords {
  readonly allowSlow: string;
  readonly reference: (choice: 'auto' | 'double-double') => string;
}

export const FLAG_WORDS: OptionWords = { allowSlow: '--allow-slow', reference: (choice) => `--reference ${choice}` };
export const LIBRARY_WORDS: OptionWords = { allowSlow: 'allowSlow: true', reference: (choice) => `reference: '${choice}'` };

/**
 * Work over its budget, in words: why the run left it out (the explicit Jacobian, the `auto`
 * reference) or will not start it (the BigNumber reference, finite differences). `slices`, when
 * given, says how the Jacobian's entries come about.
 */
export function describeBudget(budget: OverBudget, words: OptionWords, slices?: { readonly count: number; readonly length: number }): string {
  switch (budget.kind) {
    case 'jacobian':
      return `it would compute ${exponent(budget.entries)} entries${slices === undefined ? '' : ` (${slices.count === 1 ? '1 slice' : `${slices.count} slices`} of ${slices.length})`}, about ${duration(budget.seconds)} on one thread here, beyond the limit of ${exponent(budget.limit)}; ${words.allowSlow} runs it`;
    case 'auto-reference':
      return `not computed for ${budget.entries} elements by ${words.reference('auto')} (limit ${budget.limit}); ${words.reference('double-double')} computes it, in about ${duration(budget.seconds)}`;
    case 'bignumber-reference':
      return (
        `the BigNumber reference would take about ${duration(budget.seconds)} for ${budget.entries} elements ` +
        `(the limit is ${budget.limit}): add ${words.allowSlow} to run it anyway, or use ${words.reference('double-double')}`
      );
    case 'bignumber-share': {
      const slices = budget.slices === 1 ? '1 slice' : `${budget.slices ?? 'some'} slices`;
      const reference = budget.reference ?? 'auto';
      const lift = reference === 'auto' ? `${words.reference('double-double')} with ${words.allowSlow} computes them` : `${words.allowSlow} computes them`;
      return budget.ranOutOfTime
        ? `left out: double-double could not decide ${slices} (${budget.entries} elements), and BigNumber ran past the ${duration(budget.seconds)} ${words.reference(reference)} gives it; ${lift}`
        : `left out: double-double could not decide ${slices} (${budget.entries} elements), and BigNumber would take about ${duration(budget.seconds)} on them, more than ${words.reference(reference)} gives it (${budget.limit} elements); ${lift}`;
    }
    case 'finite-differences':
      return (
        `finite differences are O(n²): ${exponent(budget.entries)} forward-pass steps here, about ${duration(budget.seconds)} ` +
        `(the limit is ${exponent(budget.limit)}): add ${words.allowSlow} to run them anyway`
      );
    default:
      return unknownKind(budget.kind);
  }
}

/** A kind added to BudgetKind without words here fails the type check, not a run. */
function unknownKind(kind: never): never {
  throw new Error(`no words for the budget kind ${String(kind)}`);
}

function exponent(value: number): string {
  return value.toExponential(1).replace('e+', 'e');
}

function duration(seconds: number): string {
  if (seconds < 1) return `${Number(seconds.toPrecision(1))} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

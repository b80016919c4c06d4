import type { DiagnosisContext, Prediction } from './hypothesis.js';

/**
 * Of a hypothesis's variants (a factor for either quantity, one denominator or another), the one
 * whose values explain the most failing elements; the first among equals. Undefined when none applies.
 */
export function bestPrediction<Spec>(context: DiagnosisContext<Spec>, variants: readonly (Prediction | undefined)[]): Prediction | undefined {
  let best: Prediction | undefined;
  let most = -1;
  for (const variant of variants) {
    if (variant === undefined) continue;
    const explains = context.explained(variant.values ?? {});
    if (explains > most) [best, most] = [variant, explains];
  }
  return best;
}

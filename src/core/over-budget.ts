/** Work over a limit, as data: what it is, how much, the limit, and the estimate (budget.ts decides; describe-budget.ts words it). */
export type BudgetKind = 'jacobian' | 'bignumber-reference' | 'finite-differences' | 'auto-reference' | 'bignumber-share';

export interface OverBudget {
  readonly kind: BudgetKind;
  /**
   * The work asked for, in the kind's unit: explicit-Jacobian entries (n² per slice), elements for
   * the references, forward-pass steps for finite differences.
   */
  readonly entries: number;
  /**
   * The most of it that starts on its own: beyond it, the Jacobian, BigNumber and finite
   * differences wait for `allowSlow`, and `reference: 'auto'` leaves the reference out (naming an
   * engine computes it whatever the size).
   */
  readonly limit: number;
  /** About how long it would take on one thread here. */
  readonly seconds: number;
  /** bignumber-share: the slices double-double left undecided, whose elements `entries` counts. */
  readonly slices?: number;
  /** bignumber-share: BigNumber started and ran past its time (`seconds`), rather than being estimated over it. */
  readonly ranOutOfTime?: boolean;
  /** bignumber-share: the reference asked for ('auto' or 'double-double'), whose share it was. */
  readonly reference?: 'auto' | 'double-double';
}

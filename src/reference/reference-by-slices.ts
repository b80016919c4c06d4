import type { Progress } from '../progress.js';
import { forEachSlice, type SliceLayout } from '../numeric/slices.js';
import type { ReferenceEngine, SliceTick } from './reference-slice.js';

/**
 * How much of BigNumber's work a run takes on: the elements of the slices double-double leaves
 * undecided it will recompute at most (Infinity: all), and a time after which it stops. Over
 * either, the reference is left out and the run says why (core/budget.ts's words).
 */
export interface BigNumberPolicy {
  readonly elementLimit: number;
  /** Seconds BigNumber may run, from its start; then it stops (its precision can rise tenfold on a slice). */
  readonly seconds?: number;
  readonly progress?: Progress;
}

export const UNLIMITED: BigNumberPolicy = { elementLimit: Infinity };

/** Why the reference was left out: what BigNumber would have recomputed, and whether it ran out of time doing it. */
export interface LeftUndecided {
  readonly slices: number;
  readonly elements: number;
  readonly ranOutOfTime: boolean;
}

export interface SlicedReference {
  readonly forward: Float64Array;
  readonly grad: Float64Array;
  readonly slicesByBigNumber: number;
}

/**
 * A reference computed slice by slice: every slice by the double-double engine (`decide` says
 * whether it decided each rounding), the ones it leaves undecided by BigNumber, loaded only then
 * and only within `policy` (with `engine` 'bignumber', every slice by BigNumber, within its
 * deadline). Returns the results, or what was left undecided.
 */
export async function referenceBySlices(
  x: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  engine: ReferenceEngine,
  decide: (x: Float64Array, g: Float64Array, forward: Float64Array, grad: Float64Array) => boolean,
  /** Given the Date.now() after which a slice gets no more digits. */
  loadBigNumber: (deadline?: number) => Promise<(x: Float64Array, g: Float64Array, forward: Float64Array, grad: Float64Array, tick?: SliceTick) => unknown>,
  policy: BigNumberPolicy = UNLIMITED,
): Promise<SlicedReference | LeftUndecided> {
  const forward = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  const undecided = new Set<number>();
  if (engine === 'double-double') {
    forEachSlice(layout, [x, g], [forward, grad], ([xs, gs], [f, d], k) => {
      if (!decide(xs, gs, f, d)) undecided.add(k);
    });
    if (undecided.size * layout.length > policy.elementLimit) return { slices: undecided.size, elements: undecided.size * layout.length, ranOutOfTime: false };
  }
  const byBigNumber = engine === 'bignumber' ? layout.count : undecided.size;
  if (byBigNumber === 0) return { forward, grad, slicesByBigNumber: 0 };
  const deadline = policy.seconds === undefined ? undefined : Date.now() + 1000 * policy.seconds;
  const bigNumber = await loadBigNumber(deadline);
  // Counted in elements, so that one long slice shows its progress too (a slice told again at more digits does not go back).
  const step = policy.progress?.step('exact reference (BigNumber)', byBigNumber * layout.length);
  let done = 0;
  let shown = 0;
  const tick: SliceTick | undefined = step === undefined ? undefined : (elements) => step.advance((shown = Math.max(shown, done + elements)));
  let ranOutOfTime = false;
  try {
    // The slices already decided pass through unchanged (as inputs, since every output is written).
    forEachSlice(layout, [x, g, forward, grad], [forward, grad], ([xs, gs, f0, d0], [f, d], k) => {
      if (engine === 'double-double' && !undecided.has(k)) {
        f.set(f0);
        d.set(d0);
        return;
      }
      if (ranOutOfTime || (deadline !== undefined && Date.now() > deadline)) {
        ranOutOfTime = true;
        return;
      }
      bigNumber(xs, gs, f, d, tick);
      done += layout.length;
      step?.advance((shown = done));
    });
  } finally {
    step?.end();
  }
  if (ranOutOfTime) return { slices: byBigNumber, elements: byBigNumber * layout.length, ranOutOfTime };
  return { forward, grad, slicesByBigNumber: byBigNumber };
}

export function isLeftUndecided(outcome: SlicedReference | LeftUndecided): outcome is LeftUndecided {
  return 'ranOutOfTime' in outcome;
}

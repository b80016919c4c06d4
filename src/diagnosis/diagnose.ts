import { bothSidesRounded, allowed, type ElementAllowance } from '../comparisons/allowance.js';
import { isClose } from '../comparisons/assert-close.js';
import { indicesOf } from './slices.js';
import type { Diagnosis, DiagnosisContext, Hypothesis, PredictedValues, Prediction, Quantity } from './hypothesis.js';

const QUANTITIES: readonly Quantity[] = ['forward', 'grad'];

/**
 * Names the likely bug behind failing expected values: each hypothesis recomputes what its bug
 * would have given, and the expected values are judged against that as against the exact result,
 * each element within what rounding allows there. A hypothesis is named when it explains nearly
 * all the failing elements (EXPLAINS) and breaks nearly none of those that pass (BREAKS); the list
 * is best first: the most explained, then a specific bug before a generic shape of error, then the
 * fewest broken. Costs nothing when nothing fails.
 */
export function diagnose<Spec>(base: Omit<DiagnosisContext<Spec>, 'explained'>, hypotheses: readonly Hypothesis<Spec>[]): Diagnosis[] {
  const quantities = QUANTITIES.filter((q) => base.expected[q] !== undefined && base.failing[q] !== undefined);
  const failingAt = Object.fromEntries(quantities.map((q) => [q, indicesOf(base.failing[q]!)])) as Partial<Record<Quantity, Int32Array>>;
  const failing = quantities.reduce((n, q) => n + failingAt[q]!.length, 0);
  if (failing === 0) return [];
  const judging: Judging = { ...base, quantities, failingAt, failingCount: failing };
  const context: DiagnosisContext<Spec> = { ...base, explained: (values) => explainedBy(judging, values).explains };
  const named: (Diagnosis & { readonly specific: boolean; readonly breaks: number })[] = [];
  for (const hypothesis of hypotheses) {
    const prediction = hypothesis.predict(context);
    if (prediction === undefined) continue;
    const judged = prediction.accounts !== undefined ? judgeAccounts(judging, prediction) : judgeValues(judging, prediction.values ?? {});
    if (judged === undefined) continue;
    named.push({
      code: hypothesis.code,
      quantity: judged.mostIn,
      explains: judged.explains,
      failing,
      message: prediction.message,
      ...(prediction.details === undefined ? {} : { details: prediction.details }),
      specific: hypothesis.specific,
      breaks: judged.breaks,
    });
  }
  // Those within 2 % of the best share tie, and a specific bug comes first among them; the rest follow by share.
  const best = Math.max(0, ...named.map((d) => d.explains));
  const tied = (d: (typeof named)[number]) => d.explains >= best - TIE * failing;
  named.sort((a, b) => Number(tied(b)) - Number(tied(a)) || (tied(a) ? Number(b.specific) - Number(a.specific) : 0) || b.explains - a.explains || a.breaks - b.breaks);
  return named.map(({ specific: _specific, breaks: _breaks, ...diagnosis }) => diagnosis);
}

/** The share of the failing elements a hypothesis must explain to be named. */
const EXPLAINS = 0.9;
/** The share of the failing elements within which two hypotheses explain as much. */
const TIE = 0.02;
/** The share of a changed quantity's passing elements it may break (values that rounding explains either way). */
const BREAKS = 0.02;

/** What judging a prediction reads: the context, and the failing elements' indices, found once. */
interface Judging extends Pick<DiagnosisContext, 'expected' | 'failing' | 'exact' | 'allowances'> {
  readonly quantities: readonly Quantity[];
  readonly failingAt: Partial<Record<Quantity, Int32Array>>;
  readonly failingCount: number;
}

interface Judged {
  readonly explains: number;
  readonly breaks: number;
  readonly mostIn: Quantity;
}

/**
 * The failing elements that values explain, within the verdict's own allowance (so the exact
 * result explains none of them: a quantity the values leave exact is not visited). Only failing
 * elements are visited, and only until so many are missed that EXPLAINS is out of reach: the count
 * is then short, but below what any prediction that can be named explains, which is all a
 * comparison between variants needs.
 */
function explainedBy(judging: Judging, values: PredictedValues): { explains: number; mostIn: Quantity } {
  const missable = judging.failingCount - Math.ceil(EXPLAINS * judging.failingCount);
  let explains = 0;
  let missed = 0;
  let mostIn = judging.quantities[0];
  let most = -1;
  for (const q of judging.quantities) {
    const predicted = values[q];
    const failingAt = judging.failingAt[q]!;
    let here = 0;
    if (predicted === undefined) missed += failingAt.length;
    else {
      const expected = judging.expected[q]!;
      const allowance = judging.allowances[q];
      const at = valueAt(predicted);
      for (const i of failingAt) {
        const p = at(i);
        if (isClose(expected[i], p, allowed(allowance, i, p))) here++;
        else if (++missed > missable) break;
      }
    }
    explains += here;
    if (here > most) [most, mostIn] = [here, q];
    if (missed > missable) break;
  }
  return { explains, mostIn };
}

/**
 * A prediction judged: undefined unless it explains EXPLAINS of the failing elements and breaks at
 * most BREAKS of the passing ones, beyond twice their allowance (the prediction sits where rounding
 * is measured from, not where the kernel's rounding left it). The passing elements are visited only
 * for a prediction that explains enough, and only until it has broken too many.
 */
function judgeValues(judging: Judging, values: PredictedValues): Judged | undefined {
  const { explains, mostIn } = explainedBy(judging, values);
  if (explains < EXPLAINS * judging.failingCount) return undefined;
  let breaks = 0;
  for (const q of judging.quantities) {
    const predicted = values[q];
    // A quantity the hypothesis leaves exact breaks nothing that passed against the exact result.
    if (predicted === undefined) continue;
    const expected = judging.expected[q]!;
    const failing = judging.failing[q]!;
    // Each changed quantity on its own: a loss of 4 samples must not hide among 4,000 gradient elements.
    const limit = BREAKS * (expected.length - judging.failingAt[q]!.length);
    const loose: ElementAllowance = bothSidesRounded(judging.allowances[q]);
    let here = 0;
    const at = valueAt(predicted);
    for (let i = 0; i < expected.length; i++) {
      if (failing[i] === 1) continue;
      const p = at(i);
      if (isClose(expected[i], p, allowed(loose, i, p))) continue;
      if (++here > limit) return undefined;
    }
    breaks += here;
  }
  return { explains, breaks, mostIn };
}

/** A prediction of the failing elements a bug accounts for (no values to break the others with). */
function judgeAccounts(judging: Judging, prediction: Prediction): Judged | undefined {
  let explains = 0;
  let mostIn = judging.quantities[0];
  let most = -1;
  for (const q of judging.quantities) {
    const accounts = prediction.accounts?.[q];
    let here = 0;
    if (accounts !== undefined) for (const i of judging.failingAt[q]!) here += accounts[i];
    explains += here;
    if (here > most) [most, mostIn] = [here, q];
  }
  return explains < EXPLAINS * judging.failingCount ? undefined : { explains, breaks: 0, mostIn };
}

/** Element i of predicted values, whichever form they take. */
function valueAt(values: Float64Array | ((i: number) => number)): (i: number) => number {
  return typeof values === 'function' ? values : (i) => values[i];
}

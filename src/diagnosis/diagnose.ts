import { bothSidesRounded, allowed, type ElementAllowance } from '../comparisons/allowance.js';
import { isClose } from '../comparisons/assert-close.js';
import type { Diagnosis, DiagnosisContext, Hypothesis, Prediction, Quantity } from './hypothesis.js';

const QUANTITIES: readonly Quantity[] = ['forward', 'grad'];

/**
 * Names the likely bug behind failing expected values: each hypothesis recomputes what its bug
 * would have given, and the expected values are judged against that as against the exact result,
 * each element within what rounding allows there. A hypothesis is named when it explains nearly all the failing
 * elements (EXPLAINS) and breaks nearly none of those that pass (BREAKS); the list is best first:
 * the most explained, then a specific bug before a generic shape of error, then the fewest broken.
 * Costs nothing when nothing fails.
 */
export function diagnose<Spec>(base: Omit<DiagnosisContext<Spec>, 'explained'>, hypotheses: readonly Hypothesis<Spec>[]): Diagnosis[] {
  const quantities = QUANTITIES.filter((q) => base.expected[q] !== undefined && base.failing[q] !== undefined);
  const failing = quantities.reduce((n, q) => n + count(base.failing[q]!), 0);
  if (failing === 0) return [];
  const context: DiagnosisContext<Spec> = { ...base, explained: (values) => judgeValues(base, quantities, values).explains };
  const named: (Diagnosis & { readonly specific: boolean; readonly breaks: number })[] = [];
  for (const hypothesis of hypotheses) {
    const prediction = hypothesis.predict(context);
    if (prediction === undefined) continue;
    const judged = prediction.accounts !== undefined ? judgeAccounts(base, quantities, prediction) : judgeValues(base, quantities, prediction.values ?? {});
    if (judged.explains < EXPLAINS * failing || judged.breaks > BREAKS * judged.passing) continue;
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
  // Explained shares within 2 % of each other tie: a specific bug then comes first.
  const share = (d: Diagnosis) => Math.floor((50 * d.explains) / d.failing + 1e-9);
  named.sort((a, b) => share(b) - share(a) || Number(b.specific) - Number(a.specific) || b.explains - a.explains || a.breaks - b.breaks);
  return named.map(({ specific: _specific, breaks: _breaks, ...diagnosis }) => diagnosis);
}

/** The share of the failing elements a hypothesis must explain to be named. */
const EXPLAINS = 0.9;
/** The share of the passing elements it may break (values that rounding explains either way). */
const BREAKS = 0.02;

/** What judging a prediction reads of the context. */
type Judging = Pick<DiagnosisContext, 'expected' | 'failing' | 'exact' | 'allowances'>;

interface Judged {
  readonly explains: number;
  readonly breaks: number;
  readonly passing: number;
  readonly mostIn: Quantity;
}

function judgeValues(context: Judging, quantities: readonly Quantity[], values: Readonly<Partial<Record<Quantity, Float64Array>>>): Judged {
  let explains = 0;
  let breaks = 0;
  let passing = 0;
  let mostIn: Quantity = quantities[0];
  let most = -1;
  for (const q of quantities) {
    const expected = context.expected[q]!;
    const failing = context.failing[q]!;
    const predicted = values[q] ?? context.exact[q];
    // A failing element is explained within the verdict's own allowance (so the exact result
    // explains none of them); a passing one is broken only beyond twice that (the prediction
    // sits where rounding is measured from, not where the kernel's rounding left it).
    const allowance: ElementAllowance = context.allowances[q];
    const loose: ElementAllowance = bothSidesRounded(allowance);
    let here = 0;
    for (let i = 0; i < expected.length; i++) {
      if (failing[i] === 1) {
        if (isClose(expected[i], predicted[i], allowed(allowance, i, predicted[i]))) here++;
      } else {
        passing++;
        if (!isClose(expected[i], predicted[i], allowed(loose, i, predicted[i]))) breaks++;
      }
    }
    explains += here;
    if (here > most) [most, mostIn] = [here, q];
  }
  return { explains, breaks, passing, mostIn };
}

function judgeAccounts(context: Judging, quantities: readonly Quantity[], prediction: Prediction): Judged {
  let explains = 0;
  let mostIn: Quantity = quantities[0];
  let most = -1;
  for (const q of quantities) {
    const failing = context.failing[q]!;
    const accounts = prediction.accounts?.[q];
    let here = 0;
    if (accounts !== undefined) for (let i = 0; i < failing.length; i++) here += failing[i] & accounts[i];
    explains += here;
    if (here > most) [most, mostIn] = [here, q];
  }
  return { explains, breaks: 0, passing: 1, mostIn };
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

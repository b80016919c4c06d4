import type { Report } from '../core/report.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import type { HuntCase } from './hunt-case.js';
import { diagnosed, judgeAnswer, type CaseOutcome } from './judge-case.js';
import type { Kernel } from './kernel.js';
import { shrinkCase } from './shrink.js';
import { huntCases, type HuntPlan } from './tour.js';

export interface HuntOptions {
  readonly plan: HuntPlan;
  readonly kernel: Kernel;
  /** Stop after this long (default 60 s when no case count is given). */
  readonly seconds?: number;
  /** Stop after this many cases. */
  readonly cases?: number;
  readonly arithmetic?: ArithmeticTypes;
  /** Told after each case: for a progress line. */
  readonly onCase?: (state: HuntState) => void;
  /** The kernel calls one shrink may make. */
  readonly shrinkCalls?: number;
  /** The failures shrunk in all; further ones are counted in their group. */
  readonly shrinks?: number;
}

export interface HuntState {
  readonly cases: number;
  readonly failures: number;
  readonly declined: number;
  readonly seconds: number;
}

/** One way the kernel failed: its first case, shrunk, and the input classes it failed in. */
export interface Finding {
  /** The input class of the first case that failed this way. */
  readonly klass: string;
  /** Every input class a case failed this way in, with how many did. */
  readonly classes: Readonly<Record<string, number>>;
  /** `fail` (the verdict), `crash`, `protocol-error`, `hang`, `bad-output` (results of the wrong shape). */
  readonly kind: Exclude<CaseOutcome['kind'], 'pass' | 'declined'>;
  /** What failed (`grad`, `softmax+grad`, `sums`; the kind for a broken kernel). */
  readonly signature: string;
  readonly original: HuntCase;
  readonly shrunk: HuntCase;
  /** The shrunk case's report (a verdict failure), or what the kernel did. */
  readonly report?: Report;
  readonly detail?: string;
  readonly shrinkCalls: number;
}

export interface HuntRun {
  readonly plan: HuntPlan;
  readonly kernel: string;
  readonly cases: number;
  readonly declined: number;
  /** Why the kernel declined, with how many cases each. */
  readonly declineReasons: Readonly<Record<string, number>>;
  readonly failed: number;
  readonly seconds: number;
  readonly findings: readonly Finding[];
  /** Each input class the hunt ran, in the order it first came: how many of its cases ran, failed, were declined. */
  readonly byClass: Readonly<Record<string, ClassTally>>;
}

export interface ClassTally {
  readonly cases: number;
  readonly failed: number;
  readonly declined: number;
}

/**
 * Runs a hunt: the plan's cases (the tour, then random ones) through the kernel, each judged as the
 * verifier judges expected values, until the time or the case count runs out. The first failure of
 * each way of failing (what failed: the gradient, the sums, a crash) is shrunk, the kernel called
 * again at each step; later ones count toward the input classes that finding failed in.
 */
export async function runHunt(options: HuntOptions): Promise<HuntRun> {
  const { plan, kernel } = options;
  const started = Date.now();
  const seconds = options.cases === undefined ? (options.seconds ?? 60) : options.seconds;
  const findings = new Map<string, Finding>();
  let cases = 0;
  let declined = 0;
  const declineReasons: Record<string, number> = {};
  let failed = 0;
  let shrinks = 0;
  const byClass: Record<string, ClassTally> = {};
  const elapsed = () => (Date.now() - started) / 1000;
  const judge = async (c: HuntCase) => judgeAnswer(c, await kernel.run(c), kernel.name, options.arithmetic);
  for (const hunted of huntCases(plan)) {
    if (options.cases !== undefined && cases >= options.cases) break;
    if (seconds !== undefined && elapsed() >= seconds) break;
    const outcome = await judge(hunted);
    cases++;
    const tally = byClass[hunted.klass] ?? { cases: 0, failed: 0, declined: 0 };
    byClass[hunted.klass] = {
      cases: tally.cases + 1,
      failed: tally.failed + (outcome.kind === 'pass' || outcome.kind === 'declined' ? 0 : 1),
      declined: tally.declined + (outcome.kind === 'declined' ? 1 : 0),
    };
    if (outcome.kind === 'declined') {
      declined++;
      declineReasons[outcome.reason] = (declineReasons[outcome.reason] ?? 0) + 1;
    }
    else if (outcome.kind !== 'pass') {
      failed++;
      const key = `${outcome.kind}\u0000${outcome.signature}`;
      const known = findings.get(key);
      if (known !== undefined) findings.set(key, { ...known, classes: { ...known.classes, [hunted.klass]: (known.classes[hunted.klass] ?? 0) + 1 } });
      else {
        const shrinkAllowed = shrinks < (options.shrinks ?? 20);
        if (shrinkAllowed) shrinks++;
        // A kernel that hangs costs the case timeout a call, one that crashes a restart: they shrink less.
        const budget = options.shrinkCalls ?? SHRINK_CALLS[outcome.kind];
        // A shrink ends with the hunt's time too (the case it has reached is kept).
        const deadline = seconds === undefined ? Infinity : started + seconds * 1000;
        // The outcome of the last candidate kept is the shrunk case's: no call to judge it again.
        let last: CaseOutcome = outcome;
        const keepsFailing = async (candidate: HuntCase) => {
          const judged = await judge(candidate);
          if (!sameWay(judged, outcome)) return false;
          last = judged;
          return true;
        };
        const { found, calls } = shrinkAllowed ? await shrinkCase(hunted, keepsFailing, budget, deadline) : { found: hunted, calls: 0 };
        findings.set(key, {
          klass: hunted.klass,
          classes: { [hunted.klass]: 1 },
          kind: outcome.kind,
          signature: outcome.signature,
          original: hunted,
          shrunk: found,
          ...(last.kind === 'fail' ? { report: await diagnosed(last.report, options.arithmetic) } : {}),
          ...('detail' in last ? { detail: last.detail } : {}),
          shrinkCalls: calls,
        });
      }
    }
    options.onCase?.({ cases, failures: failed, declined, seconds: elapsed() });
  }
  return { plan, kernel: kernel.name, cases, declined, declineReasons, failed, seconds: elapsed(), findings: [...findings.values()], byClass };
}

const SHRINK_CALLS: Readonly<Record<Finding['kind'], number>> = { fail: 400, 'bad-output': 200, crash: 6, 'protocol-error': 6, hang: 3 };

/** Whether a candidate fails as the first case did: the same kind, and at least what failed there (a smaller case may fail more). */
function sameWay(candidate: CaseOutcome, first: CaseOutcome): boolean {
  if (candidate.kind !== first.kind || !('signature' in candidate) || !('signature' in first)) return false;
  const parts = new Set(candidate.signature.split('+'));
  return first.signature.split('+').every((part) => parts.has(part));
}


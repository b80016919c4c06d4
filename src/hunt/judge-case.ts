import { runVerification } from '../core/run.js';
import type { Report } from '../core/report.js';
import { InputError } from '../input-error.js';
import type { InputDocument } from '../input/input-document.js';
import { inputFromDocument } from '../input/resolve-input.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { FORWARD_NAME } from '../op.js';
import { opDefinition } from '../ops/index.js';
import type { HuntCase } from './hunt-case.js';
import type { KernelAnswer } from './kernel.js';

/** How one case went: passed, failed the verdict (with its report), or a kernel that broke. */
export type CaseOutcome =
  | { readonly kind: 'pass' }
  | { readonly kind: 'declined'; readonly reason: string }
  | { readonly kind: 'fail'; readonly report: Report; readonly signature: string }
  | { readonly kind: 'crash' | 'protocol-error' | 'hang' | 'bad-output'; readonly detail: string; readonly signature: string };

/** The explicit-Jacobian entries a hunt's case may run (a slice of about 1,400, or many small ones). */
const JACOBIAN_ENTRIES = 2_000_000;

/** The input document a case and the kernel's results make: the results as the expected values. */
export function caseDocument(hunted: HuntCase, results: { readonly forward?: Float64Array; readonly grad?: Float64Array }, source: string): InputDocument {
  return {
    op: hunted.op,
    dtype: hunted.dtype,
    dim: hunted.dim,
    x: hunted.x,
    g: hunted.g,
    ...hunted.fields,
    expected: results,
    source,
  };
}

/**
 * Judges a kernel's answer exactly as the verifier judges expected values: the same rule, the
 * dtype's default tolerance, the given arithmetic; the reference is left out (its ulps are
 * information, not the verdict). A result of the wrong shape is a finding of its own.
 */
export async function judgeAnswer(hunted: HuntCase, answer: KernelAnswer, kernelName: string, arithmetic: ArithmeticTypes | undefined): Promise<CaseOutcome> {
  if (answer.kind === 'declined') return answer;
  if (answer.kind !== 'results') return { ...answer, signature: answer.kind };
  const forwardName = FORWARD_NAME[hunted.op];
  let input;
  try {
    const elements = hunted.x.data.length;
    if (opDefinition(hunted.op).forwardPerElement && answer.forward.data.length !== elements) {
      throw new InputError(`${forwardName} has ${answer.forward.data.length} values, but x has ${elements}`);
    }
    if (answer.grad.data.length !== elements) throw new InputError(`grad has ${answer.grad.data.length} values, but x has ${elements}`);
    input = inputFromDocument(`kernel ${kernelName}`, caseDocument(hunted, { forward: answer.forward.data, grad: answer.grad.data }, kernelName));
  } catch (error) {
    if (error instanceof InputError) return { kind: 'bad-output', detail: error.message, signature: 'bad-output' };
    throw error;
  }
  // The explicit Jacobian only for small cases: the accurate closed form is the second witness of the rest.
  // No diagnosis while searching and shrinking: only the kept case's report shows one (diagnosed below).
  const report = await runVerification(input, { ...huntRunOptions(arithmetic), diagnose: false });
  if (report.passed) return { kind: 'pass' };
  return { kind: 'fail', report, signature: failureSignature(report) };
}

/** A kept case's report judged again with its likely bug named. */
export function diagnosed(report: Report, arithmetic: ArithmeticTypes | undefined): Promise<Report> {
  return runVerification(report.input, huntRunOptions(arithmetic));
}

function huntRunOptions(arithmetic: ArithmeticTypes | undefined) {
  return { reference: 'off', parallel: false, jacobianEntryLimit: JACOBIAN_ENTRIES, ...(arithmetic === undefined ? {} : { arithmetic }) } as const;
}

/** Which parts of the verdict failed (`grad`, `softmax sums`): a shrunk case must fail the same way. */
export function failureSignature(report: Report): string {
  const parts: string[] = report.comparisons.filter((c) => c.actual === 'expected' && c.closeness.mismatched > 0).map((c) => c.quantity);
  if ((report.invariants.expected?.flaggedSlices ?? 0) > 0) parts.push('sums');
  return parts.length === 0 ? 'methods' : parts.join('+');
}

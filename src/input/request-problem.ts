import { InputError } from '../input-error.js';
import type { Op } from '../ops/op-definition.js';

/**
 * What is wrong with a request as a whole, as data: which problem (`code`), the field it concerns
 * (by the library's name: `target`, `labelSmoothing`, `x`), and what the message needs besides.
 * Each front door words it in its own terms (request-words.ts): the command line in flags
 * (`--target is for --op cross_entropy`), the library in field names (`target is for op
 * cross_entropy`), as core/describe-budget.ts words a budget.
 */
export type RequestProblem =
  /** No logits at all. */
  | { readonly code: 'input-missing'; readonly field: 'x' }
  /** Expected gradient values without the g they were computed from. */
  | { readonly code: 'expected-grad-without-g'; readonly field: 'g' }
  /** `--op` (`op`) says one op, the input file another. */
  | { readonly code: 'op-contradicts-input'; readonly field: 'op'; readonly op: Op; readonly inputOp: Op }
  /** A field given beside an input that has it already (`where`: the input's label). */
  | { readonly code: 'given-twice'; readonly field: string; readonly what: string; readonly where: string }
  /** A field of another op than the request's. */
  | { readonly code: 'field-of-other-op'; readonly field: string; readonly op: Op }
  /** A field the op cannot run without (`needs`: what it wants there). */
  | { readonly code: 'required-field-missing'; readonly field: string; readonly key: string; readonly op: Op; readonly needs: string };

/** An InputError that carries its problem as data: `error.problem.code`, `error.problem.field`. */
export class RequestError extends InputError {
  override readonly name: string = 'RequestError';
  /** `words`: a front door's (request-words.ts), which says the problem in its terms; or the message itself. */
  constructor(
    readonly problem: RequestProblem,
    words: { readonly problem: (problem: RequestProblem) => string } | string,
  ) {
    super(typeof words === 'string' ? words : words.problem(problem));
  }

  override withMessage(message: string): RequestError {
    return new RequestError(this.problem, message);
  }
}

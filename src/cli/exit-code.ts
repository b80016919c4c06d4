/**
 * The exit codes, in one place: 0 the methods agree (and match the expected values, when the
 * input has them); 1 they do not; 2 bad usage or bad input; 3 a bug in softmax-verify.
 */
export const EXIT = {
  agree: 0,
  disagree: 1,
  badInput: 2,
  internal: 3,
} as const;

export type Outcome =
  | { readonly kind: 'verdict'; readonly passed: boolean }
  /** --help or --version was printed. */
  | { readonly kind: 'info-shown' }
  | { readonly kind: 'bad-input' }
  | { readonly kind: 'internal' };

export function exitCodeFor(outcome: Outcome): number {
  switch (outcome.kind) {
    case 'verdict':
      return outcome.passed ? EXIT.agree : EXIT.disagree;
    case 'info-shown':
      return EXIT.agree;
    case 'bad-input':
      return EXIT.badInput;
    case 'internal':
      return EXIT.internal;
  }
}

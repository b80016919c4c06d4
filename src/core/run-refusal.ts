import type { DType } from '../dtype.js';
import { InputError } from '../input-error.js';
import type { Op } from '../ops/op-definition.js';

/** Who is told: the command line (flags), or a library caller by verify's options or check's request. */
export type Edge = 'flags' | 'library' | 'library-check';

/**
 * An InputError whose facts are data, worded at the edge that reports it: its message is the
 * library's words, and `wordedFor('flags')` the command line's (main.ts, check's outcomes).
 */
export abstract class WordedError extends InputError {
  abstract wordedFor(edge: Edge): string;
}

/** What the run pipeline refuses of its options for an input, as data. */
export type RunRefusal =
  | { readonly code: 'narrower-arithmetic'; readonly setting: 'compute' | 'accumulate'; readonly type: DType; readonly dtype: DType }
  | { readonly code: 'finite-differences-op'; readonly op: Op }
  | { readonly code: 'finite-differences-without-g' };

const SETTING_WORDS: Readonly<Record<Edge, Readonly<Record<'compute' | 'accumulate' | 'finiteDifferences', string>>>> = {
  flags: { compute: '--compute', accumulate: '--accumulate', finiteDifferences: 'finite differences (--fd) check' },
  library: { compute: 'options.arithmetic.compute', accumulate: 'options.arithmetic.accumulate', finiteDifferences: 'options.finiteDifferences checks' },
  'library-check': { compute: 'request.arithmetic.compute', accumulate: 'request.arithmetic.accumulate', finiteDifferences: 'finite differences check' },
};

export function describeRefusal(refusal: RunRefusal, edge: Edge): string {
  const words = SETTING_WORDS[edge];
  switch (refusal.code) {
    case 'narrower-arithmetic':
      return `${words[refusal.setting]} ${refusal.type} is narrower than the dtype ${refusal.dtype}: a kernel computes and sums at least as wide as the values it reads`;
    case 'finite-differences-op':
      return `${words.finiteDifferences} softmax only in this version, not ${refusal.op}`;
    case 'finite-differences-without-g':
      return 'finite differences check the gradient, and there is no g: give g, the upstream gradient';
  }
}

export class RunRefusalError extends WordedError {
  override readonly name = 'RunRefusalError';
  constructor(readonly refusal: RunRefusal) {
    super(describeRefusal(refusal, 'library'));
  }

  wordedFor(edge: Edge): string {
    return describeRefusal(this.refusal, edge);
  }
}

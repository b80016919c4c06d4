import type { Arithmetic } from '../numeric/arithmetic.js';

/** What one method produces over the whole input: the op's forward output and the input gradient. */
export interface MethodResult {
  readonly forward: Float64Array;
  readonly grad: Float64Array;
}

/** Results as a kernel in the dtype stores them: rounded once (nothing to do for float64). */
export function storedIn(result: MethodResult, a: Arithmetic): MethodResult {
  if (a.dtype === 'float64') return result;
  return { forward: result.forward.map(a.store), grad: result.grad.map(a.store) };
}

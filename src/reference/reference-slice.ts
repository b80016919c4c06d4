/**
 * A reference engine computes softmax and its gradient for one slice far beyond float64 and
 * rounds each result to the nearest float64.
 *
 * Both engines use the same exact rearrangement around a pivot p, the first largest logit, whose
 * e_p = exp(x_p − max) is exactly 1:
 *
 *   E = 1 + Σ_{j≠p} e_j,   s_i = e_i / E,
 *   D = Σ_{j≠p} e_j (g_j − g_p),   g_i − ⟨s, g⟩ = ((g_i − g_p) E − D) / E,
 *   dx_i = e_i ((g_i − g_p) E − D) / E².
 *
 * The textbook `g_i − ⟨s, g⟩` subtracts two nearly equal numbers when one probability is close to
 * 1 (PyTorch issue 195684: x = [37.43, 0], g = [1, 0], where the true gradient is 5.55e-17 and
 * ⟨s, g⟩ = 1 − 5.55e-17), and no fixed precision survives that for every input. The pivot form
 * never forms ⟨s, g⟩: the dominant term drops out exactly, and equal logits give exact integers.
 *
 * Special cases follow PyTorch: a slice with a NaN or +Infinity logit, or with every logit
 * -Infinity, is NaN throughout; a -Infinity logit is a mask (0, and gradient 0). A non-finite g
 * leaves the gradient undefined (NaN): there is no exact value to measure a method against.
 *
 * Far logits: one more than 2^40 below its slice's largest (a torch.finfo(dtype).min mask, the way
 * Hugging Face models mask attention) has a weight exp(x_j − max) below 2^(-1.58e12), which moves
 * no float64 result by a bit (it is far below every bound the engines keep). Both engines take it
 * as 0 in every sum; its own probability rounds to +0 and its gradient to a zero of the sign of its
 * numerator. A result that such weights alone keep from an exact value (the pivot's log_softmax
 * −log(1 + T) beside nothing but far logits, a gradient whose every offset is 0 but theirs) is
 * given that exact value: its magnitude is below 2^-1075, so only the sign of a zero can differ,
 * which the ulp figures and the comparisons do not count.
 */
export type ReferenceSlice = (x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array, tick?: SliceTick) => void;

/** Told, every so many elements of a slice, how many are done: a long slice's progress (a BigNumber slice of 20,000 takes seconds). */
export type SliceTick = (elementsDone: number) => void;

export const REFERENCE_ENGINES = ['double-double', 'bignumber'] as const;
export type ReferenceEngine = (typeof REFERENCE_ENGINES)[number];

/** Fills the outputs with NaN and returns true when the slice has no softmax, as in PyTorch. */
export function undefinedSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): boolean {
  let masked = 0;
  let noSoftmax = false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v || v === Infinity) noSoftmax = true;
    else if (v === -Infinity) masked++;
  }
  if (noSoftmax || masked === x.length) {
    softmax.fill(NaN);
    grad.fill(NaN);
    return true;
  }
  if (!gradientDefined(g)) grad.fill(NaN);
  return false;
}

export function gradientDefined(g: Float64Array): boolean {
  return g.every(Number.isFinite);
}

/** The first index of the largest logit (the slice has at least one finite logit). */
export function pivotIndex(x: Float64Array): number {
  let p = 0;
  for (let j = 1; j < x.length; j++) if (x[j] > x[p]) p = j;
  return p;
}

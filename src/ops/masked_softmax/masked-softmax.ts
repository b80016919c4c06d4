import type { MethodResult } from '../../methods/method-result.js';
import { sliceStart, type SliceLayout } from '../../numeric/slices.js';
import type { MaskedSoftmaxSpec } from './masked-softmax-spec.js';

/**
 * masked_softmax is softmax of x' = scale·x with every masked logit at −∞, whose gradient is
 * scale·s ⊙ (g − ⟨s, g⟩) = softmax's backward of g' = scale·g: the explicit Jacobian of
 * softmax(scale·x) is scale·J_softmax, carried by g'. softmax's own methods then run on (x', g'),
 * each its own way, and a masked element gets s = 0 and dx = 0 from them. What softmax has no
 * word for is settled after: a slice with every element masked.
 */
export interface ScaledInputs {
  readonly x: Float64Array;
  readonly g: Float64Array;
}

/** x' and g' for one run, rounded as `round` says (a kernel's compute type; float64's own for the exact reference). */
export function scaledInputs(x: Float64Array, g: Float64Array, spec: MaskedSoftmaxSpec, round: (value: number) => number = (v) => v): ScaledInputs {
  const { keep, scale } = spec;
  const xs = new Float64Array(x.length);
  const gs = new Float64Array(g.length);
  for (let i = 0; i < x.length; i++) {
    // A masked element takes no part, whatever its logit or its g (NaN, ±∞): PyTorch's masked_fill
    // makes its logit −∞, and its backward passes it a gradient of 0.
    xs[i] = keep[i] === 1 ? round(scale * x[i]) : -Infinity;
    gs[i] = keep[i] === 1 ? round(scale * g[i]) : 0;
  }
  return { x: xs, g: gs };
}

/** Per slice: 1 where no element takes part. */
export function fullyMaskedSlices(spec: MaskedSoftmaxSpec, layout: SliceLayout): Uint8Array {
  const dead = new Uint8Array(layout.count);
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    let kept = 0;
    for (let j = 0; j < layout.length && kept === 0; j++) kept = spec.keep[start + j * layout.stride];
    dead[k] = kept === 0 ? 1 : 0;
  }
  return dead;
}

/**
 * A result of softmax on (x', g') as masked_softmax's: a fully masked slice's forward is NaN or 0
 * (`masked_rows`), and its gradient 0, as PyTorch's masked_fill backward (and every fused
 * attention kernel) gives it; a masked element's gradient is 0 exactly.
 */
export function settleMasked(result: MethodResult, spec: MaskedSoftmaxSpec, layout: SliceLayout): MethodResult {
  const forward = result.forward;
  const grad = result.grad;
  const deadValue = spec.maskedRows === 'nan' ? NaN : 0;
  const dead = fullyMaskedSlices(spec, layout);
  for (let k = 0; k < layout.count; k++) {
    if (dead[k] === 0) continue;
    const start = sliceStart(layout, k);
    for (let j = 0; j < layout.length; j++) {
      forward[start + j * layout.stride] = deadValue;
      grad[start + j * layout.stride] = 0;
    }
  }
  for (let i = 0; i < grad.length; i++) if (spec.keep[i] === 0) grad[i] = 0;
  return { forward, grad };
}

/** The forward output alone, settled the same way. */
export function settleMaskedForward(forward: Float64Array, spec: MaskedSoftmaxSpec, layout: SliceLayout): Float64Array {
  return settleMasked({ forward, grad: new Float64Array(forward.length) }, spec, layout).forward;
}

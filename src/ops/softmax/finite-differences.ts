import { EPSILON } from '../../dtype.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import type { Extreme } from '../../comparisons/assert-close.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import { softmaxNormalisedSlice } from './softmax-normalised.js';

/**
 * The gradient by central differences of L(x) = ⟨g, softmax(x)⟩, element by element, as
 * torch.autograd.gradcheck does: a witness that knows nothing of Jacobians or closed forms, only
 * of the forward pass. O(n²) per slice: each element needs L twice, and L is O(n).
 *
 * Step. The best central-difference step balances truncation (h² L''' / 6) against rounding in L
 * (ε_L |L| / h), which gives h ≈ ε^(1/3) times the scale of x: h_i = ε^(1/3) · max(1, |x_i|) with
 * ε the dtype's epsilon, about 6e-6 for float64 but 0.1 for float16, where a fixed 1e-6 would
 * vanish into rounding (x_i ± 1e-6 = x_i). The step actually taken is the difference of the
 * rounded points, which the division then uses.
 *
 * Tolerance, per element, from the same two errors, doubled for safety:
 * - truncation h² |L'''| / 6, where L''' = ∂³s_i/∂x_i³ · (g_i − Σ_{j≠i} g_j s_j / (1 − s_i)) and
 *   |∂³s_i/∂x_i³| = s_i (1 − s_i) |1 − 6 s_i + 6 s_i²| ≤ 0.0962, so |L'''| ≤ 0.1 (max g − min g);
 * - rounding 2 ε_L Σ |g_j s_j| / h, with ε_L the dtype's epsilon plus n accumulation roundings;
 * - and the rounding of the closed form it is compared with, 8 ε s_i (|g_i| + |⟨s, g⟩|).
 *
 * A masked element (x_i = -Infinity) has derivative 0 and tolerance 0. Slices without a softmax
 * give NaN. (A NaN in g makes L NaN too, and so the whole slice: the closed form is NaN there.)
 */
export function finiteDifferenceSlice(x: Float64Array, g: Float64Array, a: Arithmetic, fd: Float64Array, tolerance: Float64Array): void {
  const n = x.length;
  const epsilon = EPSILON[a.dtype];
  const accumulation = EPSILON[a.accumulate];
  const probe = Float64Array.from(x);
  const softmax = new Float64Array(n);
  const loss = (): { value: number; size: number } => {
    softmaxNormalisedSlice(probe, softmax, a);
    let value = 0;
    let size = 0;
    for (let j = 0; j < n; j++) {
      value = a.roundSum(value + a.round(g[j] * softmax[j]));
      size += Math.abs(g[j] * softmax[j]);
    }
    return { value, size };
  };
  let gLow = Infinity;
  let gHigh = -Infinity;
  for (let j = 0; j < n; j++) {
    if (x[j] === -Infinity) continue;
    gLow = Math.min(gLow, g[j]);
    gHigh = Math.max(gHigh, g[j]);
  }
  const thirdDerivative = 0.1 * (gHigh - gLow);
  const centre = loss();
  if (centre.value !== centre.value) {
    // No softmax in this slice (a NaN or +Infinity logit, or every one -Infinity), as in PyTorch.
    fd.fill(NaN);
    tolerance.fill(0);
    return;
  }
  const base = Float64Array.from(softmax);
  const dot = centre.value;
  for (let i = 0; i < n; i++) {
    if (x[i] === -Infinity) {
      fd[i] = 0;
      tolerance[i] = 0;
      continue;
    }
    const h = Math.cbrt(epsilon) * Math.max(1, Math.abs(x[i]));
    const up = a.store(x[i] + h);
    const down = a.store(x[i] - h);
    probe[i] = up;
    const above = loss();
    probe[i] = down;
    const below = loss();
    probe[i] = x[i];
    const step = (up - down) / 2;
    fd[i] = (above.value - below.value) / (2 * step);
    const rounding = (epsilon + n * accumulation) * Math.max(above.size, below.size);
    const closedForm = 8 * epsilon * base[i] * (Math.abs(g[i]) + Math.abs(dot));
    tolerance[i] = 2 * ((step * step * thirdDerivative) / 6 + (2 * rounding) / step + closedForm);
  }
}

/** Central differences of ⟨g, softmax(x)⟩ against the closed form's gradient, element by element. */
export interface FiniteDifferenceCheck {
  readonly grad: Float64Array;
  /** Each element's allowance, from the step's truncation and rounding error. */
  readonly tolerance: Float64Array;
  readonly total: number;
  readonly mismatched: number;
  /** The greatest |fd − closed form| / tolerance, and where (above 1 is a mismatch). */
  readonly worst: Extreme;
}

/** Central differences for every slice, each element checked against the closed form's gradient. */
export function checkFiniteDifferences(x: Float64Array, g: Float64Array, closedForm: Float64Array, layout: SliceLayout, a: Arithmetic): FiniteDifferenceCheck {
  const grad = new Float64Array(x.length);
  const tolerance = new Float64Array(x.length);
  forEachSlice(layout, [x, g], [grad, tolerance], ([xs, gs], [fd, tol]) => finiteDifferenceSlice(xs, gs, a, fd, tol));
  let mismatched = 0;
  let worst = { value: 0, index: x.length > 0 ? 0 : -1 };
  for (let k = 0; k < x.length; k++) {
    const fd = grad[k];
    const exact = closedForm[k];
    // NaN where the slice has no softmax: both NaN is agreement, as everywhere else.
    if (fd !== fd || exact !== exact) {
      if (fd === fd || exact === exact) mismatched++;
      continue;
    }
    const ratio = tolerance[k] === 0 ? (fd === exact ? 0 : Infinity) : Math.abs(fd - exact) / tolerance[k];
    if (ratio > 1) mismatched++;
    if (ratio > worst.value) worst = { value: ratio, index: k };
  }
  return { grad, tolerance, total: x.length, mismatched, worst };
}

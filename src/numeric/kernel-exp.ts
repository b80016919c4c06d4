import { KERNEL_EXP, KERNEL_EXP_HIGHS, KERNEL_EXP_TABLE_BITS, KERNEL_EXP_TAILS } from '../wasm/closed-form-kernel.generated.js';
import { ldexp } from './ldexp.js';

const { SCALED_ARGUMENT, ZERO_ARGUMENT, INVERSE_LN2_N, SHIFT, NEG_LN2_HI_N, NEG_LN2_LO_N, C2, C3, C4, C5 } = KERNEL_EXP;
const TABLE_MASK = 2 ** KERNEL_EXP_TABLE_BITS - 1;
const TABLE_SIZE = 2 ** KERNEL_EXP_TABLE_BITS;

/**
 * The closed-form kernel's exponential (src/wasm/closed-form-kernel.wat.mjs), in JavaScript, for
 * t ≤ 0: the same float64 operations in the same order, so the same bits (tested over random
 * arguments against the kernel). Slices too short to be worth a trip into WebAssembly use it.
 *
 * Where the kernel builds 2^K · HIGHS[j] by adding K to the exponent bits, this scales by 2^K:
 * the same number whenever it is normal, which the two paths below keep it.
 */
export function kernelExp(t: number): number {
  if (t < ZERO_ARGUMENT) return 0;
  // k = round(t · N / ln 2), by the shift trick as the kernel does (ties go the same way).
  const k = t * INVERSE_LN2_N + SHIFT - SHIFT;
  const r = t + k * NEG_LN2_HI_N + k * NEG_LN2_LO_N;
  const j = k & TABLE_MASK;
  const exponent = (k - j) / TABLE_SIZE;
  const r2 = r * r;
  const tmp = KERNEL_EXP_TAILS[j] + r + r2 * (C2 + r * C3) + r2 * r2 * (C4 + r * C5);
  if (t >= SCALED_ARGUMENT) {
    const scale = ldexp(KERNEL_EXP_HIGHS[j], exponent);
    return scale + scale * tmp;
  }
  // exp(t) · 2^1022 in the normal range; below 1 it is rounded once to the subnormal spacing.
  const scale = ldexp(KERNEL_EXP_HIGHS[j], exponent + 1022);
  let y = scale + scale * tmp;
  if (y < 1) {
    let lo = scale - y + scale * tmp;
    const hi = 1 + y;
    lo = 1 - hi + y + lo;
    y = hi + lo - 1;
  }
  return ldexp(y, -1022);
}

import { UNIT_ROUNDOFF, type DType } from '../dtype.js';
import { roundToDType } from './round-dtype.js';

/**
 * The arithmetic a method runs in, modelled on PyTorch's CPU kernels:
 * - `round`: every operation's result rounded to the compute type, by default the dtype itself
 *   for float64 and float32, float32 for the half types (PyTorch's "opmath": its float16 and
 *   bfloat16 kernels load, compute in float and round what they store);
 * - `roundSum`: sums accumulate in `accumulate` (PyTorch: float for float and the half types,
 *   double for double);
 * - `store`: what a kernel writes to memory, the softmax output (which backward then reads) and
 *   the gradient, rounded to the dtype.
 *
 * float64 rounds nothing (its operations already round to float64); float32 is Math.fround; the
 * half types round to nearest, ties to even, straight from float64.
 */
export interface Arithmetic {
  readonly dtype: DType;
  readonly compute: DType;
  readonly accumulate: DType;
  readonly round: (value: number) => number;
  readonly roundSum: (value: number) => number;
  readonly store: (value: number) => number;
}

/**
 * Where PyTorch's CPU kernels compute: in the dtype, but float for the half types. `--compute`
 * float16 (or bfloat16) rounds every operation to the half type instead, as a kernel without a
 * float opmath would.
 */
export const DEFAULT_COMPUTE: Readonly<Record<DType, DType>> = {
  float64: 'float64',
  float32: 'float32',
  float16: 'float32',
  bfloat16: 'float32',
};

/**
 * Where PyTorch's CPU kernels accumulate: in float for float and the half types (its vectorised
 * softmax reduces Vectorized<float> lanes, and backward sums into a float), as GPU kernels do.
 * PyTorch's float32 fixture bears it out: its rows sum to 1 within 10.7 float32 epsilons, more
 * than a double sum leaves.
 */
export const DEFAULT_ACCUMULATE: Readonly<Record<DType, DType>> = {
  float64: 'float64',
  float32: 'float32',
  float16: 'float32',
  bfloat16: 'float32',
};

/** `--compute` and `--accumulate`: either left out means PyTorch's choice for the dtype. */
export interface ArithmeticTypes {
  readonly compute?: DType;
  readonly accumulate?: DType;
}

export function arithmeticFor(dtype: DType, types: ArithmeticTypes = {}): Arithmetic {
  const compute = types.compute ?? DEFAULT_COMPUTE[dtype];
  const accumulate = types.accumulate ?? DEFAULT_ACCUMULATE[dtype];
  return { dtype, compute, accumulate, round: rounder(compute), roundSum: rounder(accumulate), store: rounder(dtype) };
}

export const FLOAT64_ARITHMETIC: Arithmetic = arithmeticFor('float64');

function rounder(dtype: DType): (value: number) => number {
  if (dtype === 'float64') return (value) => value;
  if (dtype === 'float32') return Math.fround;
  return (value) => roundToDType(value, dtype);
}

/**
 * Why `--compute`/`--accumulate` cannot be a kernel's arithmetic for the dtype, or undefined: a
 * type narrower than the dtype would round the inputs themselves, which the error analysis of the
 * verdict (docs/verdict.md) does not count.
 */
export function narrowerThanDType(dtype: DType, types: ArithmeticTypes): { readonly setting: 'compute' | 'accumulate'; readonly type: DType } | undefined {
  for (const setting of ['compute', 'accumulate'] as const) {
    const type = types[setting];
    if (type !== undefined && UNIT_ROUNDOFF[type] > UNIT_ROUNDOFF[dtype]) return { setting, type };
  }
  return undefined;
}

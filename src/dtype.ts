/**
 * The dtypes a run can be computed and judged in, and the tolerance each gets by default: those of
 * `torch.testing.assert_close`, so that a verdict here means what it means there. How each dtype's
 * arithmetic runs is in `numeric/arithmetic.ts`.
 */

export const DTYPES = ['float64', 'float32', 'float16', 'bfloat16'] as const;
export type DType = (typeof DTYPES)[number];

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export const DEFAULT_TOLERANCE: Readonly<Record<DType, Tolerance>> = {
  float64: { rtol: 1e-7, atol: 1e-7 },
  float32: { rtol: 1.3e-6, atol: 1e-5 },
  float16: { rtol: 1e-3, atol: 1e-5 },
  bfloat16: { rtol: 1.6e-2, atol: 1e-5 },
};

export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && (DTYPES as readonly string[]).includes(name);
}

/** The short names users type for the dtypes, as PyTorch, numpy and safetensors spell them. */
export const DTYPE_ALIASES: Readonly<Record<string, DType>> = {
  fp64: 'float64',
  f64: 'float64',
  double: 'float64',
  fp32: 'float32',
  f32: 'float32',
  fp16: 'float16',
  f16: 'float16',
  half: 'float16',
  bf16: 'bfloat16',
};

/** The dtype a name stands for: one of DTYPES or an alias, in any case; undefined for anything else. */
export function dtypeNamed(name: string): DType | undefined {
  const lower = name.toLowerCase();
  if (isDType(lower)) return lower;
  return Object.hasOwn(DTYPE_ALIASES, lower) ? DTYPE_ALIASES[lower] : undefined;
}

/** The spacing of the dtype's numbers just above 1 (machine epsilon): 2^-52, 2^-23, 2^-10, 2^-7. */
export const EPSILON: Readonly<Record<DType, number>> = {
  float64: 2 ** -52,
  float32: 2 ** -23,
  float16: 2 ** -10,
  bfloat16: 2 ** -7,
};

/**
 * The unit roundoff u = ε/2: the largest relative error of rounding to nearest in the dtype. The
 * error analysis behind the verdict (docs/verdict.md) counts in it.
 */
export const UNIT_ROUNDOFF: Readonly<Record<DType, number>> = {
  float64: EPSILON.float64 / 2,
  float32: EPSILON.float32 / 2,
  float16: EPSILON.float16 / 2,
  bfloat16: EPSILON.bfloat16 / 2,
};

/** The smallest subnormal: the absolute spacing at the bottom of the dtype's range. */
export const SMALLEST_SUBNORMAL: Readonly<Record<DType, number>> = {
  float64: 2 ** -1074,
  float32: 2 ** -149,
  float16: 2 ** -24,
  bfloat16: 2 ** -133,
};

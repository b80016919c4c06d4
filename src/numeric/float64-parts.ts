/**
 * A finite float64 as the exact dyadic rational it is: (−1)^negative · mantissa · 2^exponent, with
 * an integer mantissa (subnormals included). Both reference engines start from this, so that
 * every input enters them exactly.
 */
export interface Float64Parts {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exponent: number;
}

export function float64Parts(value: number): Float64Parts {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  return {
    negative: bits >> 63n === 1n,
    mantissa: biased === 0 ? fraction : fraction | (1n << 52n),
    exponent: (biased === 0 ? 1 : biased) - 1075,
  };
}

/** Every finite float64 times 2^1074 is an integer: scaledInteger's factor. */
export const SCALED_INTEGER_SHIFT = 1074;

/** A finite float64 times 2^1074: always an integer, and exact, so sums of them are exact too. */
export function scaledInteger(value: number): bigint {
  if (value === 0) return 0n;
  const { negative, mantissa, exponent } = float64Parts(value);
  const magnitude = mantissa << BigInt(exponent + SCALED_INTEGER_SHIFT);
  return negative ? -magnitude : magnitude;
}

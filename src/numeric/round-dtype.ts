import type { DType } from '../dtype.js';

/**
 * Rounding of float64 values to the narrower dtypes, to nearest with ties to even, as IEEE 754
 * and PyTorch's conversions do; and the 16-bit patterns of float16 and bfloat16.
 *
 * float32 is `Math.fround`. The 16-bit formats are rounded straight from the float64 value, not
 * through float32, which would round twice and can land one ulp off at a midpoint.
 */

interface HalfFormat {
  /** Stored mantissa bits. */
  readonly mantissaBits: number;
  readonly exponentBias: number;
  /** Exponent of the smallest normal number. */
  readonly minExponent: number;
  /** Exponent of the largest finite number. */
  readonly maxExponent: number;
  readonly nanBits: number;
}

const FLOAT16: HalfFormat = { mantissaBits: 10, exponentBias: 15, minExponent: -14, maxExponent: 15, nanBits: 0x7e00 };
const BFLOAT16: HalfFormat = { mantissaBits: 7, exponentBias: 127, minExponent: -126, maxExponent: 127, nanBits: 0x7fc0 };

export function roundToDType(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float64':
      return value;
    case 'float32':
      return Math.fround(value);
    case 'float16':
      return float16FromBits(float16Bits(value));
    case 'bfloat16':
      return bfloat16FromBits(bfloat16Bits(value));
  }
}

export const float16Bits = (value: number): number => halfBits(value, FLOAT16);
export const bfloat16Bits = (value: number): number => halfBits(value, BFLOAT16);
export const float16FromBits = (bits: number): number => halfFromBits(bits, FLOAT16);
export const bfloat16FromBits = (bits: number): number => halfFromBits(bits, BFLOAT16);

function halfBits(value: number, format: HalfFormat): number {
  const { mantissaBits, exponentBias, minExponent, maxExponent, nanBits } = format;
  const exponentShift = mantissaBits;
  const infinityBits = ((2 * exponentBias + 1) << exponentShift) >>> 0;
  if (value !== value) return nanBits;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | infinityBits;

  // Below the smallest normal the spacing is fixed: count in units of the smallest subnormal.
  // Scaling by a power of two is exact, and the count is below 2^mantissaBits, so the fraction
  // that decides the rounding is exact too.
  if (magnitude < 2 ** minExponent) {
    const units = roundHalfEven(magnitude * 2 ** (mantissaBits - minExponent));
    return sign | units; // a count of 2^mantissaBits is the smallest normal's pattern, as it should be
  }
  let exponent = float64Exponent(magnitude);
  let significand = roundHalfEven(magnitude * 2 ** (mantissaBits - exponent));
  if (significand === 2 ** (mantissaBits + 1)) {
    significand /= 2;
    exponent += 1;
  }
  if (exponent > maxExponent) return sign | infinityBits;
  return sign | ((exponent + exponentBias) << exponentShift) | (significand - 2 ** mantissaBits);
}

function halfFromBits(bits: number, format: HalfFormat): number {
  const { mantissaBits, exponentBias, minExponent } = format;
  const sign = bits & 0x8000 ? -1 : 1;
  const biased = (bits & 0x7fff) >>> mantissaBits;
  const mantissa = bits & (2 ** mantissaBits - 1);
  if (biased === 2 * exponentBias + 1) return mantissa === 0 ? sign * Infinity : NaN;
  if (biased === 0) return sign * mantissa * 2 ** (minExponent - mantissaBits);
  return sign * (2 ** mantissaBits + mantissa) * 2 ** (biased - exponentBias - mantissaBits);
}

/** Nearest integer, ties to the even one. Exact for the non-negative values used here (< 2^53). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

const scratch = new DataView(new ArrayBuffer(8));

/** The unbiased binary exponent of a normal float64, read from its bits (log2 is not exact). */
function float64Exponent(magnitude: number): number {
  scratch.setFloat64(0, magnitude);
  return ((scratch.getUint16(0) >>> 4) & 0x7ff) - 1023;
}

import type { DType } from '../dtype.js';
import { bfloat16Bits, float16Bits } from './round-dtype.js';

/**
 * Distance in units in the last place, as numpy's `testing.nulp_diff` defines it: both values are
 * rounded to the dtype, their bit patterns are read as sign-magnitude integers, so that the
 * representable numbers are counted in order through zero, and the distance is the difference.
 * +0 and -0 are 0 apart; the largest finite value and infinity are 1 apart, as the bits say.
 *
 * NaN is handled on its own, since its bits are no position on the line: NaN and NaN are 0 apart
 * (both methods agree there is no number), NaN and anything else infinitely far.
 *
 * @example ulpDistance(1, 1 + 2 ** -52, 'float64') → 1
 */
export function ulpDistance(a: number, b: number, dtype: DType): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  if (dtype === 'float64') return float64Distance(a, b);
  return Math.abs(orderedIndex(a, dtype) - orderedIndex(b, dtype));
}

/** The position of `value` (rounded to a dtype of 32 bits or fewer) on the line of representable values. */
function orderedIndex(value: number, dtype: Exclude<DType, 'float64'>): number {
  switch (dtype) {
    case 'float32':
      return float32Index(Math.fround(value));
    case 'float16':
      return signMagnitude(float16Bits(value), 0x8000);
    case 'bfloat16':
      return signMagnitude(bfloat16Bits(value), 0x8000);
  }
}

function signMagnitude(bits: number, signBit: number): number {
  return bits & signBit ? -(bits & (signBit - 1)) : bits;
}

const view = new DataView(new ArrayBuffer(8));

function float32Index(value: number): number {
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  return bits & 0x80000000 ? -(bits & 0x7fffffff) : bits;
}

/**
 * float64 positions need 63 bits, more than a Number holds exactly, so the two positions are
 * subtracted in 32-bit halves: the difference is exact whenever it is below 2^53, which covers
 * every distance where the last digit matters, and within a rounding error beyond. The halves are
 * read through a typed-array view, not returned in an array: this runs for every element of every
 * method against the reference, millions of times in a run.
 */
function float64Distance(a: number, b: number): number {
  bits64[0] = a;
  const signA = words[HIGH] & 0x80000000 ? -1 : 1;
  const highA = signA * (words[HIGH] & 0x7fffffff);
  const lowA = signA * words[LOW];
  bits64[0] = b;
  const signB = words[HIGH] & 0x80000000 ? -1 : 1;
  const highB = signB * (words[HIGH] & 0x7fffffff);
  const lowB = signB * words[LOW];
  return Math.abs((highA - highB) * 2 ** 32 + (lowA - lowB));
}

const bits64 = new Float64Array(1);
const words = new Uint32Array(bits64.buffer);
/** Which 32-bit word of a float64 holds its sign and exponent, by the platform's byte order. */
const HIGH = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

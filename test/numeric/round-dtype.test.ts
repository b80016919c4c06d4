import { describe, expect, test } from 'vitest';
import {
  bfloat16Bits,
  bfloat16FromBits,
  float16Bits,
  float16FromBits,
  roundToDType,
} from '../../src/numeric/round-dtype.js';

/**
 * The obviously correct rounding the fast one is checked against: every finite value of the
 * format, sorted, and a binary search for the nearest, ties to the pattern with an even last bit.
 * Beyond the largest finite value, the format's infinity takes the place of the next value up.
 */
function slowRounding(fromBits: (bits: number) => number, infinityBits: number) {
  const finite: { value: number; bits: number }[] = [];
  for (let bits = 0; bits < 0x8000; bits++) {
    const value = fromBits(bits);
    if (Number.isFinite(value)) finite.push({ value, bits });
  }
  finite.sort((a, b) => a.value - b.value);
  const largest = finite[finite.length - 1].value;
  // The value one step above the largest finite, where infinity sits for rounding purposes.
  const beyond = largest + (largest - finite[finite.length - 2].value);
  const ladder = [...finite, { value: beyond, bits: infinityBits }];
  return (value: number): number => {
    const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
    const magnitude = Math.abs(value);
    if (magnitude >= beyond) return sign | infinityBits;
    let lo = 0;
    let hi = ladder.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ladder[mid].value <= magnitude) lo = mid;
      else hi = mid;
    }
    const below = ladder[lo];
    const above = ladder[hi];
    const down = magnitude - below.value;
    const up = above.value - magnitude;
    const pick = down < up ? below : up < down ? above : below.bits % 2 === 0 ? below : above;
    return sign | pick.bits;
  };
}

/** For every positive pattern: the value itself, its midpoint with the next, and just either side of it. */
function probes(fromBits: (bits: number) => number, infinityBits: number): number[] {
  const values: number[] = [];
  for (let bits = 0; bits < infinityBits; bits++) {
    const value = fromBits(bits);
    // Past the largest finite value, the next step up is where rounding to infinity begins.
    const next = bits + 1 === infinityBits ? 2 * value - fromBits(bits - 1) : fromBits(bits + 1);
    const mid = value + (next - value) / 2;
    values.push(value, mid, nextDown(mid), nextUp(mid), -value, -mid);
  }
  return values;
}

function nextUp(v: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + (v >= 0 ? 1n : -1n));
  return view.getFloat64(0);
}

function nextDown(v: number): number {
  return -nextUp(-v);
}

describe.each([
  ['float16', float16Bits, float16FromBits, 0x7c00],
  ['bfloat16', bfloat16Bits, bfloat16FromBits, 0x7f80],
] as const)('%s rounding', (name, toBits, fromBits, infinityBits) => {
  test('every one of the 65,536 bit patterns decodes and encodes back to itself (NaNs to NaN)', () => {
    for (let bits = 0; bits <= 0xffff; bits++) {
      const value = fromBits(bits);
      if (Number.isNaN(value)) expect(Number.isNaN(fromBits(toBits(value)))).toBe(true);
      else if (toBits(value) !== bits) expect(toBits(value)).toBe(bits);
    }
  });

  test('agrees with the slow rounding at every value, midpoint and either side of it', () => {
    const slow = slowRounding(fromBits, infinityBits);
    let mismatches = 0;
    for (const value of probes(fromBits, infinityBits)) {
      if (toBits(value) !== slow(value)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('rounds a tie to the even pattern', () => {
    const one = fromBits(toBits(1));
    const next = fromBits(toBits(1) + 1);
    expect(toBits((one + next) / 2)).toBe(toBits(1));
    const after = fromBits(toBits(1) + 2);
    expect(toBits((next + after) / 2)).toBe(toBits(1) + 2);
  });

  test('overflows to infinity past the largest finite value, and keeps signs, NaN and zeros', () => {
    expect(toBits(1e300)).toBe(infinityBits);
    expect(toBits(-1e300)).toBe(0x8000 | infinityBits);
    expect(toBits(-0)).toBe(0x8000);
    expect(toBits(5e-324)).toBe(0);
    expect(Number.isNaN(roundToDType(NaN, name))).toBe(true);
  });
});

describe('roundToDType', () => {
  test.each([
    [0.1, 'float64', 0.1],
    [0.1, 'float32', 0.10000000149011612],
    [0.1, 'float16', 0.0999755859375],
    [0.1, 'bfloat16', 0.10009765625],
    [65520, 'float16', Infinity],
    [65519.99, 'float16', 65504],
  ] as const)('%d to %s is %d', (value, dtype, rounded) => {
    expect(roundToDType(value, dtype)).toBe(rounded);
  });

  test('rounds float16 straight from float64, not through float32 (which would round twice)', () => {
    // 1 + 2^-11 + 2^-40 is just above the float16 midpoint between 1 and 1 + 2^-10; float32
    // rounding first lands exactly on the midpoint, which then ties down to 1.
    const value = 1 + 2 ** -11 + 2 ** -40;
    expect(roundToDType(value, 'float16')).toBe(1 + 2 ** -10);
    expect(float16FromBits(float16Bits(Math.fround(value)))).toBe(1);
  });
});

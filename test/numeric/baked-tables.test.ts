import { afterEach, describe, expect, test, vi } from 'vitest';
import { accurateExp, powersOfTwoToBake } from '../../src/numeric/accurate-exp.js';
import { bakedTablesSource } from '../../src/numeric/bake-tables.js';
import type { BakedTables } from '../../src/numeric/baked-tables.js';
import { EXP_ERROR, expTableToBake, exponentials, TABLE_HI, TABLE_LO } from '../../src/numeric/double-double-exp.js';

/** BAKED_TABLES as the bundle's module (numeric/bake-tables.ts's text) defines it. */
function bakedTables(): BakedTables {
  const body = `${bakedTablesSource().replace(/^export const BAKED_TABLES/m, 'const BAKED_TABLES')}\nreturn BAKED_TABLES;`;
  return new Function('Buffer', body)(Buffer) as BakedTables;
}

const float64Bits = (values: ArrayLike<number>): bigint[] => Array.from(new BigInt64Array(Float64Array.from(values).buffer));

describe('the tables the bundle has baked in (numeric/baked-tables.ts)', () => {
  afterEach(() => {
    vi.doUnmock('../../src/numeric/baked-tables.js');
    vi.resetModules();
  });

  test('read back as computed, bit for bit', () => {
    const baked = bakedTables();
    const exp = expTableToBake();
    const powers = powersOfTwoToBake();
    expect(float64Bits(baked.exp.hi)).toEqual(float64Bits(exp.hi));
    expect(float64Bits(baked.exp.lo)).toEqual(float64Bits(exp.lo));
    expect(baked.exp.stepFixed).toBe(exp.stepFixed);
    expect(float64Bits(baked.powersOfTwo.coarse)).toEqual(float64Bits(powers.coarse));
    expect(float64Bits(baked.powersOfTwo.fine)).toEqual(float64Bits(powers.fine));
    expect(baked.exp.hi).toHaveLength(2048);
    expect(baked.powersOfTwo.coarse).toHaveLength(128);
    expect(baked.powersOfTwo.fine).toHaveLength(64);
  });

  test('give the exponentials the computed tables give, bit for bit', async () => {
    const baked = bakedTables();
    vi.doMock('../../src/numeric/baked-tables.js', () => ({ BAKED_TABLES: baked }));
    vi.resetModules();
    const bakedExp = await import('../../src/numeric/double-double-exp.js');
    const bakedAccurate = await import('../../src/numeric/accurate-exp.js');
    // Fresh modules, reading the baked tables: not the ones imported above, which computed theirs.
    expect((await import('../../src/numeric/baked-tables.js')).BAKED_TABLES).toBe(baked);
    expect(bakedExp.TABLE_HI).not.toBe(TABLE_HI);

    // Logits up to 1800 apart, some 5000 further down (the far reduction, with the baked ln2/2048).
    const x = Float64Array.from({ length: 4000 }, (_, i) => Math.sin(i * 12.9898) * 900 - (i % 7 === 0 ? 5000 : 0));
    const p = x.indexOf(Math.max(...x));
    const run = (f: typeof exponentials) => {
      const out = [new Float64Array(x.length), new Float64Array(x.length), new Float64Array(x.length)] as const;
      f(x, p, ...out);
      return out.flatMap((values) => float64Bits(values));
    };
    expect(run(bakedExp.exponentials)).toEqual(run(exponentials));
    expect(float64Bits(bakedExp.TABLE_HI)).toEqual(float64Bits(TABLE_HI));
    expect(float64Bits(bakedExp.TABLE_LO)).toEqual(float64Bits(TABLE_LO));
    expect(bakedExp.EXP_ERROR).toBe(EXP_ERROR);

    for (let i = 0; i < x.length; i++) {
      const t = x[i] - x[p];
      if (t < -1600) continue;
      expect(bakedAccurate.accurateExp(t, 0, { k: 0, hi: 0, lo: 0 })).toEqual(accurateExp(t, 0, { k: 0, hi: 0, lo: 0 }));
    }
  });
});

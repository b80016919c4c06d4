/**
 * Tables the plain run would otherwise compute on first use, milliseconds of a run that takes
 * tens: the bundler writes them into this module (rolldown.config.mjs, from `numeric/bake-tables.ts`
 * run on tsc's output, which calls the very functions that compute them, so the bundle holds
 * what they would compute, bit for bit). Unbundled (tsc's output, the tests), they are absent
 * here and each table is computed when first used.
 */
export interface BakedTables {
  /** double-double-exp.ts's table, 2^(j/2048) = hi[j] + lo[j], and its far reduction's ln2/2048 · 2^256. */
  readonly exp: { readonly hi: ArrayLike<number>; readonly lo: ArrayLike<number>; readonly stepFixed: bigint };
  /** accurate-exp.ts's factors 2^(a/64) (coarse) and 2^(b/2048) (fine), as hi, lo pairs one after the other. */
  readonly powersOfTwo: { readonly coarse: ArrayLike<number>; readonly fine: ArrayLike<number> };
}

export const BAKED_TABLES: BakedTables | undefined = undefined;

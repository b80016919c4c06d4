// The explicit Jacobian's rows, dx_i = Σ_j s_i (δ_ij − s_j) g_j, as WebAssembly text (SIMD).
// scripts/build-wasm.mjs assembles it; src/methods/jacobian-wasm.ts runs it.
//
// Vectorised across rows, not along a row: lane k of a vector holds row i + k, and every lane
// runs j = 0 … n − 1 in order with the very operations of the scalar JavaScript loop
// (jacobianRowsTimesVectorScalar in src/methods/jacobian-backward.ts):
//   acc_k = acc_k + (s_{i+k} · (δ − s_j)) · g_j
// with s_j and g_j splatted and δ per lane (1 where j = i + k). So each lane's result is the
// scalar loop's, bit for bit; nothing is reassociated, fused or folded, and every entry is computed.
// Several vectors of rows run together (a block), so that the additions' chains of latency overlap.
//
// In float32 (the compute type of float32 and of the half types' opmath) four rows share a vector
// and every operation is a float32 one: on float32 operands that equals the JavaScript's float64
// operation rounded by Math.fround (53 ≥ 2·24 + 2: double rounding is innocuous for +, −, ×).
// Sums run in float32 lanes, or in float64 lanes, each term widened exactly.
//
// Memory (imported, so the caller sizes it per slice and never grows it: growing detaches the old
// buffer, and V8 then checks every typed array access for detachment): the slice interleaved from
// byte `p` on, (s_j, g_j) pairs of float64 (16 bytes) or float32 (8 bytes); the rows' sums as
// float64 from byte `pout` on, row i at pout + 8 (i − from).
// Rows left over after the last whole block run through a scalar loop with the same operations.

/** Rows per block: four float64 vectors of two rows (8 accumulators in flight would spill on x64). */
export const ROWS_FLOAT64 = 8;
/** Rows per block with float32 sums: four vectors of four rows. */
export const ROWS_FLOAT32 = 16;
/** Rows per block with float32 terms and float64 sums: two float32 vectors, four float64 sums. */
export const ROWS_FLOAT32_WIDE = 8;

const get = (name) => `(local.get $${name})`;
const set = (name, value) => `(local.set $${name} ${value})`;
const range = (n) => Array.from({ length: n }, (_, k) => k);
const locals = (names, type) => names.map((name) => `(local $${name} ${type})`).join(' ');

/**
 * The counted loop over columns: q from its value to `qEnd` (byte addresses into the pairs),
 * `width` bytes a column, two columns an iteration (body at offsets 0 and `width`), then the odd
 * one. The order of j within each lane is unchanged.
 */
function columnLoop(width, body) {
  return `
    (block $pairsDone (loop $pairs
      (br_if $pairsDone (i32.gt_u (i32.add ${get('q')} (i32.const ${2 * width})) ${get('qEnd')}))
      ${body(0)}
      ${body(width)}
      ${set('q', `(i32.add ${get('q')} (i32.const ${2 * width}))`)}
      (br $pairs)))
    (if (i32.lt_u ${get('q')} ${get('qEnd')}) (then ${body(0)}))`;
}

/**
 * One kernel: rows `from` to `to` in blocks of `rows`, then the rest one at a time.
 * - `width`: bytes per (s_j, g_j) pair; `vectors`: row vectors per block;
 * - `loadRows(k)`: the block's vector k of s_i, from `$b` (the pair of row i);
 * - `splat(offset, which)`: s_j (0) or g_j (1) of the pair at q + offset, in every lane;
 * - `sub(delta, sj)`, `term(k, d, gj)`: the entry's δ − s_j and (s_i · d) · g_j for vector k;
 * - `accumulate(k, term)`: adds a term to vector k's sums; `accumulators`: their names;
 * - `deltas`: per row of the block, the constant vector with 1 in that row's lane;
 * - `store(k)`: vector k's sums as float64 at `$o` (row i's sum, i the block's first row);
 * - `scalarRow`: the rest, one row (`$i`) at a time; `scalarLocals`: the locals it (or a kernel's
 *   own `accumulate`) needs beyond the common ones.
 */
function kernel({ name, width, rows, vectors, lanes, loadRows, splat, sub, term, accumulate, accumulators, zero, deltas, store, scalarRow, scalarLocals }) {
  const fast = (offset) => `
      ${set('sj', splat(offset, 0))}
      ${set('gj', splat(offset, 1))}
      ${set('d', sub(get('zero'), get('sj')))}
      ${range(vectors).map((k) => accumulate(k, term(k, get('d'), get('gj')))).join('\n      ')}`;
  // Column i + c of the block: row i + c has δ = 1 (in vector c / lanes, lane c % lanes), the other rows 0.
  const diagonal = range(rows)
    .map(
      (c) => `
      ${set('sj', splat(c * width, 0))}
      ${set('gj', splat(c * width, 1))}
      ${set('d', sub(get('zero'), get('sj')))}
      ${range(vectors)
        .map((k) => accumulate(k, term(k, Math.floor(c / lanes) === k ? sub(deltas(c % lanes), get('sj')) : get('d'), get('gj'))))
        .join('\n      ')}`,
    )
    .join('');
  return `
  (func (export "${name}") (param $p i32) (param $pout i32) (param $n i32) (param $from i32) (param $to i32)
    (local $i i32) (local $b i32) (local $o i32) (local $q i32) (local $qEnd i32) (local $j i32)
    (local $zero v128) (local $sj v128) (local $gj v128) (local $d v128)
    ${locals(range(vectors).map((k) => `s${k}`), 'v128')} ${locals(accumulators, 'v128')}
    ${scalarLocals}
    ${set('zero', zero)}
    ${set('i', get('from'))}
    (block $blocksDone (loop $blocks
      (br_if $blocksDone (i32.gt_u (i32.add ${get('i')} (i32.const ${rows})) ${get('to')}))
      ${set('b', `(i32.add ${get('p')} (i32.mul ${get('i')} (i32.const ${width})))`)}
      ${range(vectors).map((k) => set(`s${k}`, loadRows(k))).join('\n      ')}
      ${accumulators.map((a) => set(a, get('zero'))).join(' ')}
      ;; j = 0 … i − 1
      ${set('q', get('p'))}
      ${set('qEnd', get('b'))}
      ${columnLoop(width, fast)}
      ;; j = i … i + rows − 1: the block's own diagonal
      ${set('q', get('b'))}
      ${diagonal}
      ;; j = i + rows … n − 1
      ${set('q', `(i32.add ${get('b')} (i32.const ${rows * width}))`)}
      ${set('qEnd', `(i32.add ${get('p')} (i32.mul ${get('n')} (i32.const ${width})))`)}
      ${columnLoop(width, fast)}
      ${set('o', `(i32.add ${get('pout')} (i32.shl (i32.sub ${get('i')} ${get('from')}) (i32.const 3)))`)}
      ${range(vectors).map(store).join('\n      ')}
      ${set('i', `(i32.add ${get('i')} (i32.const ${rows}))`)}
      (br $blocks)))
    (block $rowsDone (loop $row
      (br_if $rowsDone (i32.ge_u ${get('i')} ${get('to')}))
      ${scalarRow}
      ${set('i', `(i32.add ${get('i')} (i32.const 1))`)}
      (br $row))))`;
}

/** (s_j, g_j) of column j = `$j`, as scalar loads, and δ_ij − s_j. */
const scalarColumn = (type, width) => ({
  sj: `(${type}.load (i32.add ${get('p')} (i32.mul ${get('j')} (i32.const ${width}))))`,
  gj: `(${type}.load offset=${width / 2} (i32.add ${get('p')} (i32.mul ${get('j')} (i32.const ${width}))))`,
  delta: `(select (${type}.const 1) (${type}.const 0) (i32.eq ${get('j')} ${get('i')}))`,
});

function scalarRowLoop(type, width, update) {
  const { sj, gj, delta } = scalarColumn(type, width);
  return `
      ${set('si', `(${type}.load (i32.add ${get('p')} (i32.mul ${get('i')} (i32.const ${width}))))`)}
      ${set('j', '(i32.const 0)')}
      (block $columnsDone (loop $column
        (br_if $columnsDone (i32.ge_u ${get('j')} ${get('n')}))
        ${update(`(${type}.mul (${type}.mul ${get('si')} (${type}.sub ${delta} ${sj})) ${gj})`)}
        ${set('j', `(i32.add ${get('j')} (i32.const 1))`)}
        (br $column)))`;
}

const float64Kernel = (rows) =>
  kernel({
    name: 'rowsFloat64',
    width: 16,
    rows,
    vectors: rows / 2,
    lanes: 2,
    loadRows: (k) => `(v128.load64_lane offset=${16 * (2 * k + 1)} 1 ${get('b')} (v128.load64_zero offset=${16 * 2 * k} ${get('b')}))`,
    splat: (offset, which) => `(v128.load64_splat offset=${offset + 8 * which} ${get('q')})`,
    sub: (delta, sj) => `(f64x2.sub ${delta} ${sj})`,
    term: (k, d, gj) => `(f64x2.mul (f64x2.mul ${get(`s${k}`)} ${d}) ${gj})`,
    accumulate: (k, term) => set(`a${k}`, `(f64x2.add ${get(`a${k}`)} ${term})`),
    accumulators: range(rows / 2).map((k) => `a${k}`),
    zero: '(v128.const f64x2 0 0)',
    deltas: (lane) => (lane === 0 ? '(v128.const f64x2 1 0)' : '(v128.const f64x2 0 1)'),
    store: (k) => `(v128.store offset=${16 * k} ${get('o')} ${get(`a${k}`)})`,
    scalarLocals: '(local $si f64) (local $acc f64)',
    scalarRow: `
      ${set('acc', '(f64.const 0)')}
      ${scalarRowLoop('f64', 16, (term) => set('acc', `(f64.add ${get('acc')} ${term})`))}
      (f64.store (i32.add ${get('pout')} (i32.shl (i32.sub ${get('i')} ${get('from')}) (i32.const 3))) ${get('acc')})`,
  });

/** Vector k of four float32 rows, gathered from the pairs at `$b`. */
const loadFloat32Rows = (k) => {
  let v = `(v128.load32_zero offset=${8 * 4 * k} ${get('b')})`;
  for (let lane = 1; lane < 4; lane++) v = `(v128.load32_lane offset=${8 * (4 * k + lane)} ${lane} ${get('b')} ${v})`;
  return v;
};
const FLOAT32_DELTAS = (lane) => `(v128.const f32x4 ${range(4).map((l) => (l === lane ? 1 : 0)).join(' ')})`;
const float32Common = {
  width: 8,
  lanes: 4,
  loadRows: loadFloat32Rows,
  splat: (offset, which) => `(v128.load32_splat offset=${offset + 4 * which} ${get('q')})`,
  sub: (delta, sj) => `(f32x4.sub ${delta} ${sj})`,
  term: (k, d, gj) => `(f32x4.mul (f32x4.mul ${get(`s${k}`)} ${d}) ${gj})`,
  zero: '(v128.const f32x4 0 0 0 0)',
  deltas: FLOAT32_DELTAS,
};
/** Lanes 2 and 3 of a float32 vector moved to lanes 0 and 1, for f64x2.promote_low_f32x4. */
const high = (v) => `(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 ${v} ${v})`;

const float32Kernel = (rows) =>
  kernel({
    ...float32Common,
    name: 'rowsFloat32',
    rows,
    vectors: rows / 4,
    accumulate: (k, term) => set(`a${k}`, `(f32x4.add ${get(`a${k}`)} ${term})`),
    accumulators: range(rows / 4).map((k) => `a${k}`),
    store: (k) => `
      (v128.store offset=${32 * k} ${get('o')} (f64x2.promote_low_f32x4 ${get(`a${k}`)}))
      (v128.store offset=${32 * k + 16} ${get('o')} (f64x2.promote_low_f32x4 ${high(get(`a${k}`))}))`,
    scalarLocals: '(local $si f32) (local $acc f32)',
    scalarRow: `
      ${set('acc', '(f32.const 0)')}
      ${scalarRowLoop('f32', 8, (term) => set('acc', `(f32.add ${get('acc')} ${term})`))}
      (f64.store (i32.add ${get('pout')} (i32.shl (i32.sub ${get('i')} ${get('from')}) (i32.const 3))) (f64.promote_f32 ${get('acc')}))`,
  });

const float32WideKernel = (rows) =>
  kernel({
    ...float32Common,
    name: 'rowsFloat32Wide',
    rows,
    vectors: rows / 4,
    // Each float32 term widened exactly; the low pair of rows in lo_k, the high pair in hi_k.
    accumulate: (k, term) => `
      ${set('t', term)}
      ${set(`lo${k}`, `(f64x2.add ${get(`lo${k}`)} (f64x2.promote_low_f32x4 ${get('t')}))`)}
      ${set(`hi${k}`, `(f64x2.add ${get(`hi${k}`)} (f64x2.promote_low_f32x4 ${high(get('t'))}))`)}`,
    accumulators: range(rows / 4).flatMap((k) => [`lo${k}`, `hi${k}`]),
    store: (k) => `
      (v128.store offset=${32 * k} ${get('o')} ${get(`lo${k}`)})
      (v128.store offset=${32 * k + 16} ${get('o')} ${get(`hi${k}`)})`,
    scalarLocals: '(local $t v128) (local $si f32) (local $acc f64)',
    scalarRow: `
      ${set('acc', '(f64.const 0)')}
      ${scalarRowLoop('f32', 8, (term) => set('acc', `(f64.add ${get('acc')} (f64.promote_f32 ${term}))`))}
      (f64.store (i32.add ${get('pout')} (i32.shl (i32.sub ${get('i')} ${get('from')}) (i32.const 3))) ${get('acc')})`,
  });

/** The module's text. */
export function jacobianKernelWat({ rows64 = ROWS_FLOAT64, rows32 = ROWS_FLOAT32, rows32Wide = ROWS_FLOAT32_WIDE } = {}) {
  return `(module
  (import "env" "memory" (memory 1))
  ${float64Kernel(rows64)}
  ${float32Kernel(rows32)}
  ${float32WideKernel(rows32Wide)}
)
`;
}

// The log_softmax explicit Jacobian's columns, dx_j = Σ_i (δ_ij − s_j) g_i, as WebAssembly text (SIMD).
// scripts/build-wasm.mjs assembles it; src/methods/log-softmax-jacobian-wasm.ts runs it.
//
// Vectorised across columns: lane l of vector k holds column j + lanes·k + l, and every lane runs
// i = 0 … n − 1 in order with the very operations of the scalar JavaScript loop
// (logSoftmaxJacobianBackwardSlice in src/methods/log-softmax.ts):
//   acc = acc + ((δ − s_j) · g_i)
// with g_i splatted and δ per lane (1 where i = j + lane). Every entry δ − s_j is computed and used;
// nothing is reassociated or fused, so each lane's sum is the scalar loop's, bit for bit. The rows
// i outside the block's own columns have δ = 0 in every lane (the entry is 0 − s_j); the block's
// diagonal rows build δ from a lane comparison.
//
// float32: f32x4 lanes, float32 operations and sums (PyTorch's for float32 and the half types):
// on float32 operands a float32 operation equals the JavaScript's float64 one rounded by
// Math.fround. float64: f64x2 lanes. Four vectors a block, so that four chains of additions overlap.
//
// Memory (imported, sized by the caller): s from byte `ps`, g from byte `pg` (float32 or float64
// each), the columns' sums as float64 from byte `pout`, column j at pout + 8 (j − from). Only whole
// blocks run here; the caller runs the columns left over in JavaScript.

export const VECTORS = 4;
export const COLUMNS_FLOAT32 = 4 * VECTORS;
export const COLUMNS_FLOAT64 = 2 * VECTORS;

const range = (n) => Array.from({ length: n }, (_, k) => k);

function columnsKernel({ name, shape, width, lanes, load, one }) {
  const block = lanes * VECTORS;
  const vectors = range(VECTORS);
  const locals = vectors.map((k) => `(local $s${k} v128) (local $acc${k} v128) (local $lane${k} v128)`).join(' ');
  const term = (k, entry) => `(local.set $acc${k} (${shape}.add (local.get $acc${k}) (${shape}.mul ${entry} (local.get $gi))))`;
  const plain = (k) => term(k, `(${shape}.sub (local.get $zero) (local.get $s${k}))`);
  // δ where lane index = i: the comparison's all-ones lanes select 1.0.
  const diagonal = (k) =>
    term(k, `(${shape}.sub (v128.and (i${lanes === 4 ? 32 : 64}x${lanes}.eq (local.get $lane${k}) (local.get $iv)) (local.get $one)) (local.get $s${k}))`);
  const laneIndices = (k) =>
    lanes === 4
      ? `(i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 ${range(4).map((l) => 4 * k + l).join(' ')}))`
      : `(i64x2.add (i64x2.splat (i64.extend_i32_u (local.get $j))) (v128.const i64x2 ${range(2).map((l) => 2 * k + l).join(' ')}))`;
  const splatI = lanes === 4 ? '(i32x4.splat (local.get $i))' : '(i64x2.splat (i64.extend_i32_u (local.get $i)))';
  const loadG = `(${shape}.splat (${load} (i32.add (local.get $pg) (i32.mul (local.get $i) (i32.const ${width})))))`;
  const rows = (from, to, body) => `
        (local.set $i ${from})
        (block $done_${body.name} (loop $rows_${body.name}
          (br_if $done_${body.name} (i32.ge_u (local.get $i) ${to}))
          (local.set $gi ${loadG})
          ${body.text}
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows_${body.name})))`;
  const plainBody = { name: 'plain', text: vectors.map(plain).join('\n          ') };
  const store = (k) =>
    range(lanes)
      .map((l) => {
        const value = `(${shape}.extract_lane ${l} (local.get $acc${k}))`;
        const wide = lanes === 4 ? `(f64.promote_f32 ${value})` : value;
        return `(f64.store (i32.add (local.get $pout) (i32.mul (i32.sub (i32.add (local.get $j) (i32.const ${lanes * k + l})) (local.get $from)) (i32.const 8))) ${wide})`;
      })
      .join('\n        ');
  return `
  (func (export "${name}") (param $ps i32) (param $pg i32) (param $pout i32) (param $n i32) (param $from i32) (param $to i32)
    (local $j i32) (local $i i32) (local $gi v128) (local $iv v128) (local $zero v128) (local $one v128) ${locals}
    (local.set $zero (v128.const ${shape} ${range(lanes).map(() => '0').join(' ')}))
    (local.set $one (v128.const ${shape} ${range(lanes).map(() => one).join(' ')}))
    (local.set $j (local.get $from))
    (block $blocksDone (loop $blocks
      (br_if $blocksDone (i32.gt_u (i32.add (local.get $j) (i32.const ${block})) (local.get $to)))
      ${vectors.map((k) => `(local.set $s${k} (v128.load (i32.add (local.get $ps) (i32.mul (i32.add (local.get $j) (i32.const ${lanes * k})) (i32.const ${width})))))`).join('\n      ')}
      ${vectors.map((k) => `(local.set $acc${k} (local.get $zero))`).join('\n      ')}
      ${vectors.map((k) => `(local.set $lane${k} ${laneIndices(k)})`).join('\n      ')}
      ${rows('(i32.const 0)', '(local.get $j)', plainBody)}
      ${rows('(local.get $j)', `(i32.add (local.get $j) (i32.const ${block}))`, {
        name: 'diagonal',
        text: `(local.set $iv ${splatI})\n          ${vectors.map(diagonal).join('\n          ')}`,
      })}
      ${rows(`(i32.add (local.get $j) (i32.const ${block}))`, '(local.get $n)', { name: 'after', text: plainBody.text })}
      ${vectors.map(store).join('\n      ')}
      (local.set $j (i32.add (local.get $j) (i32.const ${block})))
      (br $blocks))))`;
}

export function logSoftmaxJacobianKernelWat() {
  return `(module
  (import "env" "memory" (memory 1))
  ${columnsKernel({ name: 'columnsFloat32', shape: 'f32x4', width: 4, lanes: 4, load: 'f32.load', one: '1' })}
  ${columnsKernel({ name: 'columnsFloat64', shape: 'f64x2', width: 8, lanes: 2, load: 'f64.load', one: '1' })}
)`;
}

// The float64 closed-form kernel, as WebAssembly text (SIMD, two float64 lanes per vector).
// scripts/build-wasm.mjs assembles it; src/methods/closed-form-wasm.ts runs it.
//
// Why a template and not a plain .wat file: the exponential must be inlined at its call sites
// (Node 20's V8 does not inline WebAssembly calls, and the call cost 15 to 20% of the kernel's
// time), and WebAssembly text has no macros. The template only repeats text; every instruction
// the kernel runs is written out below.
//
// Memory layout: the exponential's table at byte 0 (TABLE_SIZE entries of 16 bytes: the table
// value's relative tail as a float64, then its bits less j << 45 as an int64), the caller's
// arrays from DATA_START on, each 16-byte aligned.

export const TABLE_BITS = 7;
export const TABLE_SIZE = 1 << TABLE_BITS;
export const DATA_START = TABLE_SIZE * 16;
/**
 * Elements per pass: the caller copies chunks of its arrays into the kernel's memory and back.
 * Three arrays of 8,192 float64s (192 KB) stay in the core's L2 cache between the copy and the
 * kernel, and the memory stays small whatever the slice length.
 */
export const CHUNK = 8192;
/**
 * The memory holds the table and three chunks from the start and never grows: growing detaches
 * the old buffer, and the first detached ArrayBuffer in a process makes V8 check every typed
 * array access for detachment from then on (the explicit Jacobian's loop ran 25% slower).
 */
const MEMORY_PAGES = Math.ceil((DATA_START + 3 * CHUNK * 8) / 65536);

/**
 * Below this argument the vector path hands the pair to the scalar one, which works at 2^1022
 * times the result: near the bottom of the normal range scale · tmp is subnormal and loses up to
 * half an ulp of the result (with the threshold at −708.3 the test over two million arguments
 * found 0.75 ulp at t = −707.33), and below −708.4 2^k itself leaves the normal range. Above −700
 * the result is over 2^-1010, and a subnormal scale · tmp errs by at most 2^-13 of its ulp.
 */
const SCALED_ARGUMENT = -700;
/** exp(t) < 2^-1075 below this, which rounds to 0 (exp(−745.1332191019412) = 2^-1075). */
const ZERO_ARGUMENT = -745.2;

// exp(t) = 2^(k/N) · exp(r), N = 128, t = k ln2/N + r, |r| ≤ ln2/256 (the method of Arm's
// optimized-routines exp, by Szabolcs Nagy, also in glibc and musl; written here from its
// description). ln2/N is split in two: k · LN2_HI_N must be exact for every k the kernel meets
// (|t| ≤ 745.2 gives |k| ≤ 137,700 < 2^18), so LN2_HI_N has 32 significant bits; LN2_LO_N is the
// rest, rounded (ln2/N − LN2_HI_N − LN2_LO_N ≈ 9e-29, so k · that is under 2^-75). Computed with
// mpmath at 300 bits. (Arm's split has 37 bits in its high part, exact for |k| < 2^16: its exp
// takes another route for |t| > 512, where this kernel's fast path runs down to −700.)
const INVERSE_LN2_N = '0x1.71547652b82fep7'; // N / ln 2
const SHIFT = '0x1.8p52'; // adding it rounds to an integer and leaves k in the low bits
const NEG_LN2_HI_N = '-0x1.62e42fee00000p-8';
const NEG_LN2_LO_N = '-0x1.a39ef35793c76p-40';
// exp(r) − 1 ≈ r + r²/2 + r³/6 + r⁴/24 + r⁵/120: Taylor's coefficients, rounded. The first term
// left out, r⁶/720 ≤ 5.4e-19 = 2^-60.7 for |r| ≤ ln2/256, is under 1% of an ulp.
const C2 = '0x1p-1';
const C3 = '0x1.5555555555555p-3';
const C4 = '0x1.5555555555555p-5';
const C5 = '0x1.1111111111111p-7';

/** The exponential's constants, for the JavaScript twin (src/numeric/kernel-exp.ts) by way of the build. */
export const EXP_CONSTANTS = {
  SCALED_ARGUMENT: String(SCALED_ARGUMENT),
  ZERO_ARGUMENT: String(ZERO_ARGUMENT),
  INVERSE_LN2_N,
  SHIFT,
  NEG_LN2_HI_N,
  NEG_LN2_LO_N,
  C2,
  C3,
  C4,
  C5,
};

const splat = (value) => `(v128.const f64x2 ${value} ${value})`;

/**
 * exp of the two lanes of local `$t${p}` into local `${target}`, for arguments in
 * [SCALED_ARGUMENT, 0]. Every operation is the scalar one's (`$exp`) in the same order, so a
 * lane's result does not depend on which path computed it.
 */
function vectorExp(p, target) {
  const l = (name) => `(local.get $${name}${p})`;
  return `
      (local.set $kd${p} (f64x2.add (f64x2.mul ${l('t')} ${splat(INVERSE_LN2_N)}) ${splat(SHIFT)}))
      (local.set $ki${p} ${l('kd')})
      (local.set $kd${p} (f64x2.sub ${l('kd')} ${splat(SHIFT)}))
      (local.set $r${p} (f64x2.add (f64x2.add ${l('t')} (f64x2.mul ${l('kd')} ${splat(NEG_LN2_HI_N)})) (f64x2.mul ${l('kd')} ${splat(NEG_LN2_LO_N)})))
      (local.set $ia${p} (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 0 ${l('ki')})) (i32.const ${TABLE_SIZE - 1})) (i32.const 4)))
      (local.set $ib${p} (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 1 ${l('ki')})) (i32.const ${TABLE_SIZE - 1})) (i32.const 4)))
      (local.set $tail${p} (v128.load64_lane 1 ${l('ib')} (v128.load64_zero ${l('ia')})))
      (local.set $scale${p} (i64x2.add (v128.load64_lane offset=8 1 ${l('ib')} (v128.load64_zero offset=8 ${l('ia')})) (i64x2.shl ${l('ki')} (i32.const ${52 - TABLE_BITS}))))
      (local.set $r2${p} (f64x2.mul ${l('r')} ${l('r')}))
      (local.set $tmp${p} (f64x2.add (f64x2.add (f64x2.add ${l('tail')} ${l('r')})
        (f64x2.mul ${l('r2')} (f64x2.add ${splat(C2)} (f64x2.mul ${l('r')} ${splat(C3)}))))
        (f64x2.mul (f64x2.mul ${l('r2')} ${l('r2')}) (f64x2.add ${splat(C4)} (f64x2.mul ${l('r')} ${splat(C5)})))))
      (local.set ${target} (f64x2.add ${l('scale')} (f64x2.mul ${l('scale')} ${l('tmp')})))`;
}

const vectorExpLocals = (p) =>
  ['t', 'kd', 'ki', 'r', 'tail', 'scale', 'r2', 'tmp'].map((name) => `(local $${name}${p} v128)`).join(' ') + ` (local $ia${p} i32) (local $ib${p} i32)`;

/**
 * exp of the pairs in `$t0` and `$t1` into `$e0` and `$e1`: inline when every lane is at least
 * SCALED_ARGUMENT (the common case, one test per four elements), else lane by lane through the
 * scalar `$exp`, which also handles results near or below the bottom of the normal range,
 * −Infinity and arguments below ZERO_ARGUMENT.
 */
function pairOfPairsExp() {
  const low = splat(SCALED_ARGUMENT);
  return `
      (if (v128.any_true (v128.or (f64x2.lt (local.get $t0) ${low}) (f64x2.lt (local.get $t1) ${low})))
        (then
          (local.set $e0 (call $expLanes (local.get $t0)))
          (local.set $e1 (call $expLanes (local.get $t1))))
        (else ${vectorExp(0, '$e0')} ${vectorExp(1, '$e1')}))`;
}

/**
 * A counted loop over elements `$i` from its current value up to local `limit`, `step` at a time,
 * with `$o` = 8 · `$i`, the byte offset of element `$i` in each array.
 */
function loop(limit, step, body) {
  return `(block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get ${limit})))
      (local.set $o (i32.shl (local.get $i) (i32.const 3)))
      ${body}
      (local.set $i (i32.add (local.get $i) (i32.const ${step})))
      (br $next)))`;
}

const FOUR_ELEMENT_LOOP_LOCALS = `(local $i i32) (local $o i32) (local $n4 i32) (local $e0 v128) (local $e1 v128) ${vectorExpLocals(0)} ${vectorExpLocals(1)}`;

/** The module's text; `table`: the exponential's table as a WebAssembly string ("\00\f0..."), laid out at byte 0. */
export function closedFormKernelWat(table) {
  return `(module
  (memory (export "memory") ${MEMORY_PAGES})
  (data (i32.const 0) "${table}")

  ;; exp(t) for t ≤ 0 (NaN is the caller's to rule out). The scalar twin of vectorExp, plus
  ;; arguments below SCALED_ARGUMENT: there the result is formed as 2^-1022 · y with
  ;; y = exp(t) · 2^1022, computed in the normal range; a y below 1 (a subnormal result) is
  ;; rounded once, to the subnormal spacing, by rounding 1 + y (whose spacing 2^-52 is that
  ;; spacing times 2^1022) and taking the 1 back off exactly.
  (func $exp (param $t f64) (result f64)
    (local $kd f64) (local $ki i64) (local $r f64) (local $r2 f64) (local $i i32) (local $tail f64)
    (local $bits i64) (local $scale f64) (local $tmp f64) (local $y f64) (local $lo f64) (local $hi f64)
    (if (f64.lt (local.get $t) (f64.const ${ZERO_ARGUMENT})) (then (return (f64.const 0))))
    (local.set $kd (f64.add (f64.mul (local.get $t) (f64.const ${INVERSE_LN2_N})) (f64.const ${SHIFT})))
    (local.set $ki (i64.reinterpret_f64 (local.get $kd)))
    (local.set $kd (f64.sub (local.get $kd) (f64.const ${SHIFT})))
    (local.set $r (f64.add (f64.add (local.get $t) (f64.mul (local.get $kd) (f64.const ${NEG_LN2_HI_N}))) (f64.mul (local.get $kd) (f64.const ${NEG_LN2_LO_N}))))
    (local.set $i (i32.shl (i32.and (i32.wrap_i64 (local.get $ki)) (i32.const ${TABLE_SIZE - 1})) (i32.const 4)))
    (local.set $tail (f64.load (local.get $i)))
    (local.set $bits (i64.add (i64.load offset=8 (local.get $i)) (i64.shl (local.get $ki) (i64.const ${52 - TABLE_BITS}))))
    (local.set $r2 (f64.mul (local.get $r) (local.get $r)))
    (local.set $tmp (f64.add (f64.add (f64.add (local.get $tail) (local.get $r))
      (f64.mul (local.get $r2) (f64.add (f64.const ${C2}) (f64.mul (local.get $r) (f64.const ${C3})))))
      (f64.mul (f64.mul (local.get $r2) (local.get $r2)) (f64.add (f64.const ${C4}) (f64.mul (local.get $r) (f64.const ${C5}))))))
    (if (f64.ge (local.get $t) (f64.const ${SCALED_ARGUMENT}))
      (then
        (local.set $scale (f64.reinterpret_i64 (local.get $bits)))
        (return (f64.add (local.get $scale) (f64.mul (local.get $scale) (local.get $tmp))))))
    (local.set $scale (f64.reinterpret_i64 (i64.add (local.get $bits) (i64.const ${1022n << 52n}))))
    (local.set $y (f64.add (local.get $scale) (f64.mul (local.get $scale) (local.get $tmp))))
    (if (f64.lt (local.get $y) (f64.const 1))
      (then
        ;; lo: what rounding y lost; then 1 + y + lo rounded once to the spacing 2^-52.
        (local.set $lo (f64.add (f64.sub (local.get $scale) (local.get $y)) (f64.mul (local.get $scale) (local.get $tmp))))
        (local.set $hi (f64.add (f64.const 1) (local.get $y)))
        (local.set $lo (f64.add (f64.add (f64.sub (f64.const 1) (local.get $hi)) (local.get $y)) (local.get $lo)))
        (local.set $y (f64.sub (f64.add (local.get $hi) (local.get $lo)) (f64.const 1)))))
    (f64.mul (local.get $y) (f64.const 0x1p-1022)))

  (func $expLanes (param $t v128) (result v128)
    (f64x2.replace_lane 1
      (f64x2.splat (call $exp (f64x2.extract_lane 0 (local.get $t))))
      (call $exp (f64x2.extract_lane 1 (local.get $t)))))

  ;; The largest element, or NaN if any element is NaN. pmax is one instruction where max's
  ;; NaN propagation costs several, so NaN is looked for on the side.
  (func (export "maxOrNaN") (param $px i32) (param $n i32) (result f64)
    (local $i i32) (local $o i32) (local $n4 i32) (local $a v128) (local $b v128) (local $m0 v128) (local $m1 v128) (local $nan v128) (local $m f64) (local $v f64)
    (local.set $m0 ${splat('-inf')}) (local.set $m1 ${splat('-inf')}) (local.set $m (f64.const -inf))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.add (local.get $px) (i32.shl (local.get $i) (i32.const 3))))
      (local.set $a (v128.load (local.get $o)))
      (local.set $b (v128.load offset=16 (local.get $o)))
      (local.set $m0 (f64x2.pmax (local.get $m0) (local.get $a)))
      (local.set $m1 (f64x2.pmax (local.get $m1) (local.get $b)))
      (local.set $nan (v128.or (local.get $nan) (v128.or (f64x2.ne (local.get $a) (local.get $a)) (f64x2.ne (local.get $b) (local.get $b)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (if (v128.any_true (local.get $nan)) (then (return (f64.const nan))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $v (f64.load (i32.add (local.get $px) (i32.shl (local.get $i) (i32.const 3)))))
      (if (f64.ne (local.get $v) (local.get $v)) (then (return (f64.const nan))))
      (local.set $m (f64.max (local.get $m) (local.get $v)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.set $m0 (f64x2.pmax (local.get $m0) (local.get $m1)))
    (f64.max (local.get $m) (f64.max (f64x2.extract_lane 0 (local.get $m0)) (f64x2.extract_lane 1 (local.get $m0)))))

  (global $weightedSum (mut f64) (f64.const 0))
  ;; Σ e_j g_j of the last expSumDot.
  (func (export "weightedSum") (result f64) (global.get $weightedSum))

  ;; e_j = exp(x_j − m) into pe, returns Σ e_j and keeps Σ e_j g_j for weightedSum. Sums run in
  ;; four lanes (element j in lane j mod 4 for j below n rounded down to 4, the rest in order
  ;; after), combined as ((l0 + l2) + (l1 + l3)) + rest.
  (func (export "expSumDot") (param $px i32) (param $pg i32) (param $pe i32) (param $n i32) (param $m f64) (result f64)
    ${FOUR_ELEMENT_LOOP_LOCALS} (local $mm v128) (local $s0 v128) (local $s1 v128) (local $d0 v128) (local $d1 v128)
    (local $e f64) (local $sum f64) (local $dot f64)
    (local.set $mm (f64x2.splat (local.get $m)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ${loop('$n4', 4, `
      (local.set $t0 (f64x2.sub (v128.load (i32.add (local.get $px) (local.get $o))) (local.get $mm)))
      (local.set $t1 (f64x2.sub (v128.load offset=16 (i32.add (local.get $px) (local.get $o))) (local.get $mm)))
      ${pairOfPairsExp()}
      (v128.store (i32.add (local.get $pe) (local.get $o)) (local.get $e0))
      (v128.store offset=16 (i32.add (local.get $pe) (local.get $o)) (local.get $e1))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $e0)))
      (local.set $s1 (f64x2.add (local.get $s1) (local.get $e1)))
      (local.set $d0 (f64x2.add (local.get $d0) (f64x2.mul (local.get $e0) (v128.load (i32.add (local.get $pg) (local.get $o))))))
      (local.set $d1 (f64x2.add (local.get $d1) (f64x2.mul (local.get $e1) (v128.load offset=16 (i32.add (local.get $pg) (local.get $o))))))`)}
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (local.set $d0 (f64x2.add (local.get $d0) (local.get $d1)))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    (local.set $dot (f64.add (f64x2.extract_lane 0 (local.get $d0)) (f64x2.extract_lane 1 (local.get $d0))))
    ${loop('$n', 1, `
      (local.set $e (call $exp (f64.sub (f64.load (i32.add (local.get $px) (local.get $o))) (local.get $m))))
      (f64.store (i32.add (local.get $pe) (local.get $o)) (local.get $e))
      (local.set $sum (f64.add (local.get $sum) (local.get $e)))
      (local.set $dot (f64.add (local.get $dot) (f64.mul (local.get $e) (f64.load (i32.add (local.get $pg) (local.get $o))))))`)}
    (global.set $weightedSum (local.get $dot))
    (local.get $sum))

  ;; In place s_j = e_j · inverse, and dx_j = s_j (g_j − dot) into pd.
  (func (export "scaleAndGradient") (param $ps i32) (param $pg i32) (param $pd i32) (param $n i32) (param $inverse f64) (param $dot f64)
    (local $i i32) (local $o i32) (local $n4 i32) (local $v v128) (local $d v128) (local $a v128) (local $b v128) (local $s f64)
    (local.set $v (f64x2.splat (local.get $inverse)))
    (local.set $d (f64x2.splat (local.get $dot)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ${loop('$n4', 4, `
      (local.set $a (f64x2.mul (v128.load (i32.add (local.get $ps) (local.get $o))) (local.get $v)))
      (local.set $b (f64x2.mul (v128.load offset=16 (i32.add (local.get $ps) (local.get $o))) (local.get $v)))
      (v128.store (i32.add (local.get $ps) (local.get $o)) (local.get $a))
      (v128.store offset=16 (i32.add (local.get $ps) (local.get $o)) (local.get $b))
      (v128.store (i32.add (local.get $pd) (local.get $o)) (f64x2.mul (local.get $a) (f64x2.sub (v128.load (i32.add (local.get $pg) (local.get $o))) (local.get $d))))
      (v128.store offset=16 (i32.add (local.get $pd) (local.get $o)) (f64x2.mul (local.get $b) (f64x2.sub (v128.load offset=16 (i32.add (local.get $pg) (local.get $o))) (local.get $d))))`)}
    ${loop('$n', 1, `
      (local.set $s (f64.mul (f64.load (i32.add (local.get $ps) (local.get $o))) (local.get $inverse)))
      (f64.store (i32.add (local.get $ps) (local.get $o)) (local.get $s))
      (f64.store (i32.add (local.get $pd) (local.get $o)) (f64.mul (local.get $s) (f64.sub (f64.load (i32.add (local.get $pg) (local.get $o))) (local.get $dot))))`)})

  ;; exp of each element, through the same paths as expSumDot: for the exponential's own tests.
  (func (export "expArray") (param $pt i32) (param $pe i32) (param $n i32)
    ${FOUR_ELEMENT_LOOP_LOCALS}
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ${loop('$n4', 4, `
      (local.set $t0 (v128.load (i32.add (local.get $pt) (local.get $o))))
      (local.set $t1 (v128.load offset=16 (i32.add (local.get $pt) (local.get $o))))
      ${pairOfPairsExp()}
      (v128.store (i32.add (local.get $pe) (local.get $o)) (local.get $e0))
      (v128.store offset=16 (i32.add (local.get $pe) (local.get $o)) (local.get $e1))`)}
    ${loop('$n', 1, `
      (f64.store (i32.add (local.get $pe) (local.get $o)) (call $exp (f64.load (i32.add (local.get $pt) (local.get $o)))))`)})
)
`;
}

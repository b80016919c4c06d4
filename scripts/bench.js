#!/usr/bin/env node
// Developer benchmark: `npm run bench` (after `npm run build`). Prints medians and ratios, never
// asserts: these machines are shared and noisy, so targets are read here, not enforced in tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { closedFormFloat64Slice } from '../dist/ops/softmax/closed-form-wasm.js';
import { runAccurateMethod, runClosedFormMethod, runJacobianMethod } from '../dist/ops/softmax/pipelines.js';
import { sliceLayout } from '../dist/numeric/slices.js';
import { fixtureToJson } from '../dist/output/fixture-json.js';
import { loadBigNumberReference } from '../dist/reference/bignumber-reference.js';
import { doubleDoubleReferenceSlice } from '../dist/ops/softmax/double-double-reference.js';
import { verify } from '../dist/core/library.js';

const BIN = fileURLToPath(new URL('../bin/softmax-verify.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function wallMs(args, stdout = 'ignore') {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', stdout, 'inherit'], maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`);
  return performance.now() - start;
}

const TIME = '/usr/bin/time';

/**
 * Wall time and peak RSS (MB) of one run of node with `args`. The peak comes from GNU time's
 * report on its own child: a child's getrusage would report this process's peak instead, since
 * Linux keeps the high-water mark across fork and exec. null where /usr/bin/time is missing.
 */
function wallAndPeak(args) {
  if (!existsSync(TIME)) return { ms: wallMs(args), peakMB: null };
  const start = performance.now();
  const result = spawnSync(TIME, ['-f', '%M', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return { ms, peakMB: Number(result.stderr.trim().split('\n').at(-1)) / 1024 };
}

const peakText = (peakMB) => (peakMB === null ? 'peak RSS not measured (no /usr/bin/time)' : `peak RSS ${peakMB.toFixed(0)} MB`);

/**
 * The plain run (the built-in example) against `node -e 0`, as `farm-bench -n 20 --vs "node -e 0"
 * -- node bin/softmax-verify.js` measures it: runs in pairs, the tool's output read through a pipe
 * (as a reader of it would), and the median of the pairs' ratios quoted, with their min and max.
 */
function startUp() {
  const bare = [];
  const tool = [];
  // Interleaved, so that a burst of load on the machine hits both alike; one of each first, not counted.
  wallMs(['-e', '0']);
  wallMs([BIN], 'pipe');
  for (let i = 0; i < RUNS; i++) {
    tool.push(wallMs([BIN], 'pipe'));
    bare.push(wallMs(['-e', '0']));
  }
  const ratios = tool.map((ms, i) => ms / bare[i]).sort((a, b) => a - b);
  console.log(`start-up (${RUNS} pairs of runs, interleaved; medians)`);
  console.log(`  node -e 0                     ${median(bare).toFixed(1)} ms`);
  console.log(`  softmax-verify (no arguments) ${median(tool).toFixed(1)} ms`);
  console.log(
    `  ratio                         ${median(ratios).toFixed(2)}x (min ${ratios[0].toFixed(2)}, max ${ratios.at(-1).toFixed(2)})  (target: within 1.5x, dominated by node's own start-up)`,
  );
}

function timeMethod(run, n, repeats) {
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8);
  const g = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 78.233));
  const layout = sliceLayout([n], 0);
  const times = [];
  let keep = 0;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const result = run(x, g, layout);
    times.push(performance.now() - start);
    keep += result.grad[n - 1];
  }
  return { ms: median(times), keep };
}

function methods() {
  console.log('\nmethods, one slice, softmax + grad (median)');
  let sink = 0;
  for (const n of [1_000, 4_000]) {
    const { ms, keep } = timeMethod(runJacobianMethod, n, 7);
    sink += keep;
    console.log(`  explicit Jacobian  n = ${String(n).padStart(9)}  ${ms.toFixed(2).padStart(9)} ms  ${((ms * 1e6) / (n * n)).toFixed(2)} ns/entry`);
  }
  for (const n of [10_000, 1_000_000]) {
    const { ms, keep } = timeMethod(runClosedFormMethod, n, 7);
    sink += keep;
    console.log(`  closed form        n = ${String(n).padStart(9)}  ${ms.toFixed(2).padStart(9)} ms  ${((ms * 1e6) / n).toFixed(2)} ns/element`);
  }
  for (const n of [1_000_000]) {
    const { ms, keep } = timeMethod(runAccurateMethod, n, 7);
    sink += keep;
    console.log(`  accurate           n = ${String(n).padStart(9)}  ${ms.toFixed(2).padStart(9)} ms  ${((ms * 1e6) / n).toFixed(2)} ns/element`);
  }
  // Printed so the work cannot be optimised away.
  console.log(`  (checksum ${sink.toExponential(3)})`);
}

async function checkSuite() {
  const count = Number(process.env.BENCH_FIXTURES ?? 1000);
  const n = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-bench-'));
  try {
    for (let f = 0; f < count; f++) {
      const x = Float64Array.from({ length: n }, (_, i) => Math.sin((i + 1) * (f + 1) * 0.618) * 6);
      const g = Float64Array.from({ length: n }, (_, i) => Math.cos((i + 3) * (f + 2) * 0.414));
      const { closedForm } = (await verify({ x, g }, { reference: 'off' })).results;
      const fixture = { name: `bench-${f}`, source: 'bench', dtype: 'float64', dim: -1, x: { shape: [n], data: x }, g: { shape: [n], data: g }, expected: closedForm };
      writeFileSync(join(dir, `bench-${String(f).padStart(4, '0')}.json`), fixtureToJson(fixture));
    }
    const times = [];
    for (let r = 0; r < 3; r++) times.push(wallMs([BIN, 'check', dir, '--format', 'json']));
    const ms = median(times);
    console.log(`\ncheck: ${count} fixtures of ${n} elements (median of 3 runs)`);
    console.log(`  ${(ms / 1000).toFixed(2)} s wall, ${(ms / count).toFixed(2)} ms per fixture  (target: a few seconds)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * numpy's time for the closed form, if python3 with numpy is here: median ns/element per n, for
 * the plain expression (the yardstick: it allocates its results and temporaries) and for
 * the same work into preallocated buffers (out=), the like of our kernel writing into given arrays.
 */
function numpyClosedForm(sizes) {
  const script = `
import sys, time, json
try:
    import numpy as np
except ImportError:
    print('null'); sys.exit(0)
def plain(x, g):
    s = np.exp(x - x.max()); s /= s.sum(); return s, s * (g - s @ g)
def into(x, g, s, dx):
    np.subtract(x, x.max(), out=s); np.exp(s, out=s); s *= 1 / s.sum()
    np.subtract(g, s @ g, out=dx); dx *= s
out = {'plain': {}, 'into': {}}
for n in ${JSON.stringify(sizes)}:
    rng = np.random.default_rng(0); x = rng.normal(0, 3, n); g = rng.normal(0, 1, n)
    s = np.empty(n); dx = np.empty(n)
    for name, run in (('plain', lambda: plain(x, g)), ('into', lambda: into(x, g, s, dx))):
        ts = []
        for _ in range(9):
            t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
        ts.sort(); out[name][n] = ts[4] * 1e9 / n
print(json.dumps({'version': np.__version__, 'ns': out}))
`;
  const result = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  return JSON.parse(result.stdout);
}

/** Our closed form writing into given arrays: the kernel's cost without allocating its results. */
function closedFormInto(x, g, layout) {
  const into = closedFormInto.buffers?.softmax.length === x.length ? closedFormInto.buffers : { softmax: new Float64Array(x.length), grad: new Float64Array(x.length) };
  closedFormInto.buffers = into;
  closedFormFloat64Slice(x, g, into.softmax, into.grad);
  return into;
}

function closedFormAgainstNumpy() {
  const sizes = [1_000_000, 10_000_000];
  const numpy = numpyClosedForm(sizes);
  console.log('\nclosed form, float64 softmax + grad, one slice, against numpy in this run (medians of 9; target: ratio at most 1.0)');
  for (const [label, run, key] of [
    ['allocating its results', runClosedFormMethod, 'plain'],
    ['into given arrays     ', closedFormInto, 'into'],
  ]) {
    for (const n of sizes) {
      timeMethod(run, n, 2); // compiles the kernel and touches the buffers before the timed runs
      const { ms } = timeMethod(run, n, 9);
      const ours = (ms * 1e6) / n;
      const theirs = numpy?.ns[key][n];
      const versus = theirs === undefined ? 'numpy not found' : `numpy ${numpy.version} ${theirs.toFixed(1)}, ratio ${(ours / theirs).toFixed(2)}`;
      console.log(`  ${label} n = ${String(n).padStart(8)}  ${ours.toFixed(1)} ns/element; ${versus}`);
    }
  }
}

/** x.npy and g.npy of n float64 values each in `dir`. */
function writeNpyPair(dir, n) {
  writeNpy(join(dir, 'x.npy'), [n], Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8));
  writeNpy(join(dir, 'g.npy'), [n], Float64Array.from({ length: n }, (_, i) => Math.cos(i * 78.233)));
}

/** The whole command on .npy inputs of n values: median wall time and peak RSS of 3 runs. */
function commandOnNpy(n, extraArgs) {
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-npy-'));
  try {
    writeNpyPair(dir, n);
    const runs = [];
    for (let r = 0; r < 3; r++) runs.push(wallAndPeak([BIN, '--x', join(dir, 'x.npy'), '--g', join(dir, 'g.npy'), ...extraArgs]));
    return { ms: median(runs.map((run) => run.ms)), peakMB: runs[0].peakMB === null ? null : median(runs.map((run) => run.peakMB)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gptRowCommand() {
  // The whole tool on a GPT-2 row from .npy files: the Jacobian's rows shared among the cores.
  const { ms, peakMB } = commandOnNpy(50_257, ['--reference', 'off']);
  console.log(`  softmax-verify --x x.npy --g g.npy (${availableParallelism()} threads): ${(ms / 1000).toFixed(2)} s wall, ${peakText(peakMB)}, medians of 3`);
}

function tenMillion() {
  // The Jacobian (1e14 entries) is skipped with its estimate; the accurate closed form stands in.
  const { ms, peakMB } = commandOnNpy(10_000_000, []);
  console.log('\nwhole command, 10^7 float64 logits from .npy (Jacobian skipped, accurate closed form instead)');
  console.log(`  softmax-verify --x x.npy --g g.npy: ${(ms / 1000).toFixed(2)} s wall, ${peakText(peakMB)}, medians of 3  (target: a few seconds)`);
}

function gptRow() {
  // In a child process, so that its peak memory is the Jacobian's alone.
  const script = `
    import { writeFileSync } from 'node:fs';
    import { jacobianBackwardSlice } from ${JSON.stringify(new URL('../dist/ops/softmax/jacobian-backward.js', import.meta.url).href)};
    const n = 50257;
    const s = Float64Array.from({ length: n }, (_, i) => (1 + 0.5 * Math.sin(i)) / n);
    const g = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
    const out = new Float64Array(n);
    const start = performance.now();
    jacobianBackwardSlice(s, g, out);
    writeFileSync(process.argv[1], JSON.stringify({ ms: performance.now() - start, keep: out[n - 1] }));
  `;
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-row-'));
  const resultFile = join(dir, 'result.json');
  const { peakMB } = wallAndPeak(['--input-type=module', '-e', script, resultFile]);
  const { ms } = JSON.parse(readFileSync(resultFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  console.log('\nexplicit Jacobian, one 50,257-logit row (GPT-2), every entry');
  console.log(`  one thread, in process: ${(ms / 1000).toFixed(2)} s, ${((ms * 1e6) / 50257 ** 2).toFixed(2)} ns/entry, ${peakText(peakMB)}  (target: under 3 s and 150 MB)`);
  gptRowCommand();
}

async function diagnosisCost() {
  // What naming the likely bug adds to judging failing expected values, against one more method
  // (the accurate closed form over the same input): the bound. A passing run diagnoses nothing.
  const { judge } = await import('../dist/core/judge.js');
  const { arithmeticFor } = await import('../dist/numeric/arithmetic.js');
  const cases = [
    ['GPT-2 row [1, 50257] float32', [1, 50_257], 'float32'],
    ['[8, 32000] bfloat16', [8, 32_000], 'bfloat16'],
  ];
  console.log('\ndiagnosis: judging failing expected values (a gradient without <s, g>), the Jacobian left out');
  for (const [label, shape, dtype] of cases) {
    const n = shape[0] * shape[1];
    const store = arithmeticFor(dtype).store;
    const x = Float64Array.from({ length: n }, (_, i) => store(6 * Math.sin(i * 0.37) + 2 * Math.cos(i * 1.3)));
    const g = Float64Array.from({ length: n }, (_, i) => store(1 + Math.cos(i * 0.11)));
    const layout = sliceLayout(shape, 1);
    const right = runAccurateMethod(x, g, layout, arithmeticFor(dtype));
    const input = (grad) => ({ op: 'softmax', label, x: { shape, data: x }, g: { shape, data: g }, dim: -1, axis: 1, dtype, expected: { forward: right.forward, grad } });
    const forgot = right.forward.map((s, i) => store(s * g[i]));
    const options = { jacobianSkipped: { kind: 'jacobian', entries: 0, limit: 0 } };
    // Interleaved, so that the machine's noise falls on both alike.
    const runs = { passing: [], without: [], with: [], method: [] };
    let named;
    let counted = false;
    const clock = (key, f) => { const start = performance.now(); f(); if (counted) runs[key].push(performance.now() - start); };
    // Two rounds to warm the code up, not counted, then 15.
    for (let r = -2; r < 15; r++) {
      counted = r >= 0;
      clock('passing', () => judge(input(right.grad), options));
      clock('without', () => judge(input(forgot), { ...options, diagnose: false }));
      clock('with', () => { named = judge(input(forgot), options).diagnosis[0]?.code; });
      clock('method', () => runAccurateMethod(x, g, layout, arithmeticFor(dtype)));
    }
    const [passing, without, withDiagnosis, method] = [runs.passing, runs.without, runs.with, runs.method].map(median);
    console.log(`  ${label}: judge passing ${passing.toFixed(0)} ms; failing ${without.toFixed(0)} ms without the diagnosis, ${withDiagnosis.toFixed(0)} ms with it (named ${named}): it costs ${(withDiagnosis - without).toFixed(0)} ms, ${((withDiagnosis - without) / method).toFixed(2)}x one more method (the accurate closed form, ${method.toFixed(0)} ms)  (target: at most 1x)`);
  }
}

async function references() {
  const n = 50_257;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8);
  const g = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 78.233));
  const s = new Float64Array(n);
  const d = new Float64Array(n);
  const times = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    doubleDoubleReferenceSlice(x, g, s, d);
    times.push(performance.now() - start);
  }
  console.log('\nreference engines (median)');
  console.log(`  double-double, one ${n}-logit row   ${median(times).toFixed(0)} ms  (target: under 1 s)`);
  const big = await loadBigNumberReference();
  const m = 2000;
  const start = performance.now();
  big(x.subarray(0, m), g.subarray(0, m), s.subarray(0, m), d.subarray(0, m));
  const ms = performance.now() - start;
  console.log(`  BigNumber, one ${m}-logit row         ${ms.toFixed(0)} ms, ${(ms / m).toFixed(3)} ms per element`);
  console.log(`  (checksum ${(s[0] + d[1]).toExponential(3)})`);
}

/** `.npy` files of float64 `values` with `shape`, written as numpy's v1 format does. */
function writeNpy(path, shape, values) {
  const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const padded = header.padEnd(117, ' ') + '\n';
  const head = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(padded.length).buffer), Buffer.from(padded)]);
  writeFileSync(path, Buffer.concat([head, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
}

/** Wall time of a python3 script given as text, or null where python3 with numpy is missing. */
function pythonMs(script, args) {
  const start = performance.now();
  const result = spawnSync('python3', ['-c', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) return null;
  return performance.now() - start;
}

// What a user would write instead of the tool: numpy, each row's explicit Jacobian, then a check.
const NUMPY_JACOBIAN = `
import sys, numpy as np
x = np.load(sys.argv[1]); g = np.load(sys.argv[2])
e = np.exp(x - x.max(axis=-1, keepdims=True)); s = e / e.sum(axis=-1, keepdims=True)
dx = np.empty_like(x)
for r in range(x.shape[0]):
    J = np.diag(s[r]) - np.outer(s[r], s[r])
    dx[r] = J @ g[r]
np.testing.assert_allclose(dx, s * (g - (s * g).sum(axis=-1, keepdims=True)), rtol=1e-7, atol=1e-7)
`;
const NUMPY_CLOSED_FORM = `
import sys, numpy as np
x = np.load(sys.argv[1]); g = np.load(sys.argv[2])
e = np.exp(x - x.max()); s = e / e.sum(); dx = s * (g - s @ g)
np.testing.assert_allclose(dx, s * g - s * (s @ g), rtol=1e-7, atol=1e-7)
`;

/**
 * The speed targets, each as a ratio read in this run: the whole command with default flags
 * against what a numpy user would run instead, interleaved so that load on the machine hits both.
 */
async function targets() {
  const runs = Number(process.env.BENCH_TARGET_RUNS ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-targets-'));
  const line = (label, value, target) => console.log(`  ${label.padEnd(58)} ${value.padEnd(28)} ${target}`);
  try {
    console.log(`\ntargets (medians of ${runs} interleaved runs, default flags unless said)`);
    // 1. The double-double reference per element, in process.
    {
      const n = 1_000_000;
      const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8);
      const g = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 78.233));
      const s = new Float64Array(n);
      const d = new Float64Array(n);
      const times = [];
      for (let r = 0; r <= runs; r++) {
        const start = performance.now();
        doubleDoubleReferenceSlice(x, g, s, d);
        times.push(performance.now() - start);
      }
      // The first call pays for V8's compilation, as the one call of a command-line run does.
      const cold = (times[0] * 1e6) / n;
      const ns = (median(times.slice(1)) * 1e6) / n;
      line(
        'double-double reference, 10^6-logit row, per element',
        `${ns.toFixed(0)} ns (${(ns / 150).toFixed(2)}x target); first call ${cold.toFixed(0)}`,
        'target: at most 150 ns',
      );
    }
    // x and g of `shape` as .npy files named after `name`: the same values for every section.
    const npyPair = (name, shape, scale) => {
      const size = shape.reduce((p, q) => p * q, 1);
      const files = [join(dir, `${name}-x.npy`), join(dir, `${name}-g.npy`)];
      writeNpy(files[0], shape, Float64Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * scale));
      writeNpy(files[1], shape, Float64Array.from({ length: size }, (_, i) => Math.cos(i * 78.233)));
      return files;
    };
    // The whole command against a numpy script on the same files, interleaved.
    const versusNumpy = (label, files, script, target) => {
      const ours = [];
      const theirs = [];
      for (let r = 0; r < runs; r++) {
        ours.push(wallMs([BIN, '--x', files[0], '--g', files[1]]));
        theirs.push(pythonMs(script, files));
      }
      const a = median(ours);
      const b = theirs.includes(null) ? null : median(theirs);
      const ratio = b === null ? 'numpy not found' : `numpy ${(b / 1000).toFixed(2)} s, ratio ${(a / b).toFixed(2)}`;
      line(label, `${(a / 1000).toFixed(2)} s; ${ratio}`, target);
    };
    // 2. A [1000, 1000] batch against numpy's per-row Jacobian script.
    versusNumpy('[1000, 1000] batch, whole command vs numpy per-row Jacobian', npyPair('batch', [1000, 1000], 4), NUMPY_JACOBIAN, 'target: ratio at most 1.0');
    // 3. A GPT-2 row through the command.
    {
      const [x, g] = npyPair('gpt2', [50_257], 8);
      const times = [];
      for (let r = 0; r < runs; r++) times.push(wallMs([BIN, '--x', x, '--g', g]));
      const a = median(times);
      line(`GPT-2 row (50,257 logits), whole command, ${availableParallelism()} threads`, `${(a / 1000).toFixed(2)} s (${(a / 1400).toFixed(2)}x target)`, 'target: at most 1.4 s');
    }
    // 4. A 10^6-logit row, reference included, against numpy's closed form and a check.
    versusNumpy('10^6-logit row, whole command vs numpy closed form + check', npyPair('million', [1_000_000], 8), NUMPY_CLOSED_FORM, 'target: ratio at most 3');
    // 5. A JSON report of a 4×10^6-logit row, streamed.
    {
      const [x, g] = npyPair('json', [4_000_000], 8);
      try {
        const { ms, peakMB } = wallAndPeak([BIN, '--x', x, '--g', g, '--format', 'json']);
        const ratio = peakMB === null ? '' : ` (${(peakMB / 2048).toFixed(2)}x target)`;
        line('JSON report of a 4x10^6-logit row (one run)', `${(ms / 1000).toFixed(1)} s, ${peakText(peakMB)}${ratio}`, 'target: under 2 GB');
      } catch (error) {
        line('JSON report of a 4x10^6-logit row (one run)', 'failed', error.message.split('\n')[0]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `npm run bench -- closed-form` (or any of these names) runs only that part.
const SECTIONS = { targets, diagnosis: diagnosisCost, 'start-up': startUp, methods, 'closed-form': closedFormAgainstNumpy, 'gpt-row': gptRow, 'ten-million': tenMillion, references, check: checkSuite };
const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in SECTIONS)) throw new Error(`unknown section ${name}; one of ${Object.keys(SECTIONS).join(', ')}`);
for (const [name, run] of Object.entries(SECTIONS)) if (chosen.length === 0 || chosen.includes(name)) await run();

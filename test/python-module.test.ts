import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readInput, verify } from '../src/index.js';
import { folderWith } from './helpers/temp-dir.js';
import { ROOT, runMain } from './helpers/run-cli.js';

// python/softmax_verify.py, the dump writer the README offers where `pip install safetensors` is
// not possible, run by the python3 on PATH (which CI machines have, with numpy: a machine without
// them fails here rather than skipping), its files read back through the tool.

/** Runs `script` with python3, the module on its path, in `cwd`; fails the test with python's stderr. */
function python(script: string, cwd: string): string {
  const result = spawnSync('python3', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } });
  if (result.error !== undefined) throw new Error(`python3 could not be run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`python3 exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

// Each dump beside a JSON sidecar of the values its arrays hold, as float64 from numpy itself.
const WRITER = String.raw`
import json
import numpy as np
from softmax_verify import save_dump

rng = np.random.default_rng(7)
values = {}

def keep(name, **arrays):
    values[name] = {key: np.asarray(value, dtype=np.float64).tolist() for key, value in arrays.items()}

def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)

for dtype in ["float64", "float32", "float16"]:
    x = rng.standard_normal((3, 5)).astype(dtype)
    g = (rng.standard_normal((3, 5)) + 1).astype(dtype)
    s = softmax(x.astype(np.float64))
    dx = s * (g - (s * g).sum(-1, keepdims=True))
    # Fortran order and big-endian on purpose: the file is C order, little-endian, whatever was given.
    save_dump(f"softmax-{dtype}.safetensors", np.asfortranarray(x), g.astype(g.dtype.newbyteorder(">")),
              softmax=s.astype(dtype), grad=dx.astype(dtype), source=f"numpy, {dtype}", dim=-1)
    keep(f"softmax-{dtype}", x=x, g=g, softmax=s.astype(dtype), grad=dx.astype(dtype))

x = rng.standard_normal((2, 4))
y = x - np.log(np.exp(x).sum(-1, keepdims=True))
g = rng.standard_normal((2, 4))
save_dump("log-softmax.safetensors", x, g, log_softmax=y, grad=g - np.exp(y) * g.sum(-1, keepdims=True), source="numpy log_softmax")
keep("log-softmax", x=x, g=g, log_softmax=y)

# cross_entropy: int64 class indices, one ignored, a loss reduced to one number (0-d), settings as metadata.
x = rng.standard_normal((4, 3))
target = np.array([2, -1, 0, 1])
save_dump("cross-entropy.safetensors", x, 1.0, target=target, weight=[0.5, 1.0, 2.0],
          reduction="sum", label_smoothing=0.125, ignore_index=-1, source="numpy cross_entropy")
keep("cross-entropy", x=x, target=target)

# A bfloat16 torch tensor, as far as the writer looks at one (torch is not needed to test this path):
# its values are float32s whose low 16 bits are zero, which is what every bfloat16 is.
class Bfloat16Like:
    dtype = "torch.bfloat16"
    def __init__(self, values):
        self.values = (np.asarray(values, dtype=np.float32).view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    def detach(self):
        return self
    def cpu(self):
        return self
    def float(self):
        return self
    def numpy(self):
        return self.values

x = Bfloat16Like(rng.standard_normal((2, 6)) * 3)
g = Bfloat16Like(rng.standard_normal((2, 6)) + 1)
save_dump("bfloat16.safetensors", x, g, source="bfloat16 through float32")
keep("bfloat16", x=x.values, g=g.values)

# masked_softmax: a boolean mask (BOOL), its settings as metadata, the last row fully masked (given 0).
x = rng.standard_normal((3, 6)) * 4
g = rng.standard_normal((3, 6)) + 1
mask = rng.random((3, 6)) > 0.3
mask[:, 0] = True
mask[2] = False
scale = 0.125
z = np.where(mask, x * scale, -np.inf)
with np.errstate(invalid="ignore"):
    e = np.exp(z - z.max(-1, keepdims=True))
    s = np.nan_to_num(e / e.sum(-1, keepdims=True), nan=0.0)
dx = scale * s * (g - (s * g).sum(-1, keepdims=True))
save_dump("masked-softmax.safetensors", x, g, softmax=s, grad=dx, mask=mask, scale=scale, masked_rows="zero", source="numpy masked_softmax")
np.savez("masked-softmax.npz", x=x, g=g, mask=mask, softmax=s, grad=dx)
for name, array in {"x": x, "g": g, "mask": mask, "softmax": s, "grad": dx}.items():
    np.save(f"masked-{name}.npy", array)
keep("masked-softmax", x=x, mask=mask)

# causal as a metadata setting, no mask array: the tool takes the op from it.
x = rng.standard_normal((2, 3, 3))
g = rng.standard_normal((2, 3, 3)) + 1
z = np.where(np.tril(np.ones((3, 3), dtype=bool)), x * 0.5, -np.inf)
s = np.exp(z - z.max(-1, keepdims=True))
s /= s.sum(-1, keepdims=True)
save_dump("causal.safetensors", x, g, softmax=s, grad=0.5 * s * (g - (s * g).sum(-1, keepdims=True)), causal=True, scale=0.5, source="numpy causal")
try:
    save_dump("additive.safetensors", x, g, mask=np.where(x > 0, 0.0, -np.inf))
except TypeError as error:
    values["additive error"] = str(error)

save_dump("from-lists.safetensors", [1, 2, 3], [1, 0, 0])
keep("from-lists", x=[1, 2, 3], g=[1, 0, 0])

try:
    save_dump("complex.safetensors", np.array([1j, 2j]), [1, 0])
except TypeError as error:
    values["complex error"] = str(error)

print(json.dumps(values))
`;

let folder: string;
let values: Record<string, Record<string, unknown>>;

beforeAll(() => {
  const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (numpy.status !== 0) throw new Error(`these tests need python3 with numpy on PATH, as CI machines have (python3 -c 'import numpy': ${numpy.error?.message ?? numpy.stderr.trim()})`);
  folder = folderWith({});
  values = JSON.parse(python(WRITER, folder));
});

describe('python/softmax_verify.py save_dump', () => {
  test.each(['float64', 'float32', 'float16'])('writes a %s softmax dump the tool reads back value for value, and passes', async (dtype) => {
    const request = await readInput(join(folder, `softmax-${dtype}.safetensors`));
    const kept = values[`softmax-${dtype}`];
    expect([request.dtype, request.dim, request.source]).toEqual([dtype, -1, `numpy, ${dtype}`]);
    expect(request.x).toEqual({ shape: [3, 5], data: Float64Array.from((kept.x as number[][]).flat()) });
    expect(request.g).toEqual({ shape: [3, 5], data: Float64Array.from((kept.g as number[][]).flat()) });
    expect(request.expected?.softmax).toEqual({ shape: [3, 5], data: Float64Array.from((kept.softmax as number[][]).flat()) });
    expect((await verify(request, { reference: 'off' })).passed).toBe(true);
  });

  test('lays each file out as the format says: the header padded with spaces to 8 bytes, then the data, nothing after', () => {
    const files = readdirSync(folder).filter((name) => name.endsWith('.safetensors'));
    expect(files.length).toBe(9);
    for (const name of files) {
      const bytes = readFileSync(join(folder, name));
      const size = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + size).toString('utf8'));
      const ends = Object.entries(header).flatMap(([key, entry]) => (key === '__metadata__' ? [] : [(entry as { data_offsets: number[] }).data_offsets[1]]));
      expect([name, size % 8, bytes.length]).toEqual([name, 0, 8 + size + Math.max(...ends)]);
    }
    const header = JSON.parse(readFileSync(join(folder, 'softmax-float32.safetensors')).subarray(8, 8 + 296).toString('utf8'));
    expect(Object.keys(header)).toEqual(['__metadata__', 'x', 'g', 'softmax', 'grad']);
    expect(header.__metadata__).toEqual({ source: 'numpy, float32', dim: '-1' });
    expect(header.x).toEqual({ dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] });
  });

  test('writes a log_softmax dump (the tool takes the op from the array names)', async () => {
    const request = await readInput(join(folder, 'log-softmax.safetensors'));
    expect([request.op, request.expected?.log_softmax !== undefined]).toEqual(['log_softmax', true]);
    expect((await verify(request, { reference: 'off' })).passed).toBe(true);
  });

  test("writes masked_softmax's boolean mask as BOOL and its settings as metadata; the tool reads the dump, its .npz and its .npy files", async () => {
    const request = await readInput(join(folder, 'masked-softmax.safetensors'));
    const kept = values['masked-softmax'];
    expect([request.op, request.scale, request.maskedRows, request.causal]).toEqual(['masked_softmax', 0.125, 'zero', undefined]);
    expect(request.mask).toEqual({ shape: [3, 6], data: Float64Array.from((kept.mask as number[][]).flat()) });
    expect((await verify(request)).passed).toBe(true);
    // The same arrays from np.savez and np.save, the settings from flags; the mask makes the .npz masked_softmax's.
    const settings = ['--scale', '0.125', '--masked-rows', 'zero'];
    expect((await runMain(['--input', 'masked-softmax.npz', ...settings], { cwd: folder })).code).toBe(0);
    const flags = ['--op', 'masked_softmax', '--x', 'masked-x.npy', '--g', 'masked-g.npy', '--mask', 'masked-mask.npy', '--expected-softmax', 'masked-softmax.npy', '--expected-grad', 'masked-grad.npy', '--source', 'numpy'];
    expect((await runMain([...flags, ...settings], { cwd: folder })).code).toBe(0);
    // The fully masked row is 0 here: the convention of NaN there fails it.
    expect((await runMain([...flags, '--scale', '0.125'], { cwd: folder })).code).toBe(1);
  });

  test('writes causal and the scale as metadata (the op taken from them), and refuses an additive mask by name', async () => {
    const request = await readInput(join(folder, 'causal.safetensors'));
    expect([request.op, request.causal, request.scale, request.mask]).toEqual(['masked_softmax', true, 0.5, undefined]);
    expect((await verify(request)).passed).toBe(true);
    expect(values['additive error']).toBe('mask must hold booleans (True = takes part) or 1/0, not an additive mask of 0 and -inf');
  });

  test("writes cross_entropy's int64 target, a 0-d g and its settings as metadata strings", async () => {
    const request = await readInput(join(folder, 'cross-entropy.safetensors'));
    expect([request.op, request.reduction, request.labelSmoothing, request.ignoreIndex, request.g]).toEqual(['cross_entropy', 'sum', 0.125, -1, 1]);
    expect(request.target).toEqual({ shape: [4], data: Float64Array.of(2, -1, 0, 1) });
    expect(request.weight).toEqual({ shape: [3], data: Float64Array.of(0.5, 1, 2) });
    expect((await verify(request, { reference: 'off' })).passed).toBe(true);
  });

  test("stores a torch bfloat16 tensor's bits as BF16, read back as the same values", async () => {
    const request = await readInput(join(folder, 'bfloat16.safetensors'));
    expect(request.dtype).toBe('bfloat16');
    expect(request.x).toEqual({ shape: [2, 6], data: Float64Array.from((values.bfloat16.x as number[][]).flat()) });
    expect(request.g).toEqual({ shape: [2, 6], data: Float64Array.from((values.bfloat16.g as number[][]).flat()) });
  });

  test('writes lists of whole numbers as float64 values, and refuses a dtype a dump cannot hold by name', async () => {
    const request = await readInput(join(folder, 'from-lists.safetensors'));
    expect([request.dtype, request.x]).toEqual(['float64', { shape: [3], data: Float64Array.of(1, 2, 3) }]);
    expect(values['complex error']).toBe('x has dtype complex128, which a dump cannot hold (float64, float32, float16, bfloat16; integers for target, booleans for mask)');
  });

  test('the command reads its dump as the README says: --input dump.safetensors --summary', async () => {
    const run = await runMain(['--input', join(folder, 'softmax-float16.safetensors'), '--summary']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('dtype float16 (as the arrays are stored)');
    expect(run.stdout).toContain('expected: numpy, float16');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('PASS: the explicit Jacobian and the closed form agree, and the expected values are within rounding of the exact result');
  });
});

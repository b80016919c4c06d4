import { roundToDType } from '../numeric/round-dtype.js';
import { largestFinite, sliceLayout, sliceStart } from '../numeric/slices.js';
import { libraryName, opDefinition } from '../ops/index.js';
import type { FieldLayout, FieldValue } from '../ops/op-definition.js';
import type { Tensor } from '../tensor.js';
import type { HuntCase } from './hunt-case.js';

/** A shrunk case, and what it took: the candidates the kernel was called on. */
export interface Shrunk {
  readonly found: HuntCase;
  readonly calls: number;
}

/**
 * Reduces a failing case to a small one that fails the same way, as people reduce them by hand in
 * issue threads: one row of slices along the last dim, fewer slices, a shorter row, the op's
 * optional fields left out (smoothing, weights, a mask, the scale), the common offset taken off,
 * simpler values. Each candidate is kept only when `failsSame` says the kernel still fails it the
 * same way; the search stops when no candidate is kept, after `budget` calls, or at `deadline` (ms).
 */
export async function shrinkCase(start: HuntCase, failsSame: (candidate: HuntCase) => Promise<boolean>, budget = 400, deadline = Infinity): Promise<Shrunk> {
  let current = start;
  let calls = 0;
  const spent = () => calls >= budget || Date.now() >= deadline;
  for (let improved = true; improved && !spent(); ) {
    improved = false;
    for (const candidate of candidates(current)) {
      if (spent()) break;
      if (sameCase(candidate, current)) continue;
      calls++;
      if (await failsSame(candidate)) {
        current = candidate;
        improved = true;
        break;
      }
    }
  }
  return { found: current, calls };
}

/** The candidates for one step, the most reducing first. */
function* candidates(c: HuntCase): Generator<HuntCase> {
  yield asRows(c);
  const rank = c.x.shape.length;
  const axis = c.dim < 0 ? c.dim + rank : c.dim;
  // Fewer slices: each other dim halved, then cut to one.
  for (let d = 0; d < rank; d++) {
    const size = c.x.shape[d];
    if (d === axis || size === 1) continue;
    const half = Math.ceil(size / 2);
    yield narrow(c, d, 0, half);
    yield narrow(c, d, half, size);
    yield narrow(c, d, 0, 1);
    yield narrow(c, d, size - 1, size);
  }
  // A shorter slice: what is left past the last whole block (a kernel's tail lanes), halves, the
  // middle half, then one element less at either end.
  const n = c.x.shape[axis];
  for (const block of [1024, 128, 32]) {
    const tail = n % block;
    if (tail > 0 && tail < n) yield narrow(c, axis, 0, tail);
    if (tail > 0 && tail + block < n) yield narrow(c, axis, 0, tail + block);
  }
  if (n > 1) {
    const half = Math.ceil(n / 2);
    yield narrow(c, axis, 0, half);
    yield narrow(c, axis, half, n);
    if (n > 4) yield narrow(c, axis, Math.floor(n / 4), Math.floor((3 * n) / 4));
    yield narrow(c, axis, 1, n);
    yield narrow(c, axis, 0, n - 1);
  }
  // The op's optional fields left out (their defaults), one at a time.
  for (const key of Object.keys(c.fields)) {
    const field = opDefinition(c.op).fields.find((candidate) => libraryName(candidate) === key);
    if (field?.required !== undefined) continue;
    const rest = { ...c.fields };
    delete rest[key];
    yield { ...c, fields: rest };
  }
  // Simpler values: the common offset off, then fewer digits.
  yield withValues(c, withoutOffset(c, axis));
  for (const digits of [0, 1, 2]) yield withValues(c, c.x.data.map((v) => roundTo(v, digits)));
  for (const digits of [0, 1]) yield { ...c, g: { ...c.g, data: c.g.data.map((v) => roundToDType(roundTo(v, digits), c.dtype)) } };
}

/** Whether a candidate changes nothing (a value already as simple as the step makes it). */
function sameCase(a: HuntCase, b: HuntCase): boolean {
  const sameTensor = (s: Tensor, t: Tensor) => s.shape.length === t.shape.length && s.shape.every((d, i) => d === t.shape[i]) && s.data.every((v, i) => Object.is(v, t.data[i]));
  const keys = Object.keys(a.fields);
  return (
    a.dim === b.dim &&
    sameTensor(a.x, b.x) &&
    sameTensor(a.g, b.g) &&
    keys.length === Object.keys(b.fields).length &&
    keys.every((key) => {
      const [u, v] = [a.fields[key], b.fields[key]];
      return typeof u === 'object' && typeof v === 'object' ? sameTensor(u, v) : u === v;
    })
  );
}

const roundTo = (v: number, digits: number) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

function withValues(c: HuntCase, data: Float64Array): HuntCase {
  return { ...c, x: { shape: c.x.shape, data: data.map((v) => roundToDType(v, c.dtype)) } };
}

function layoutsOf(c: HuntCase): Readonly<Record<string, FieldLayout>> {
  const own = opDefinition(c.op).hunt?.layouts(c.fields) ?? {};
  // g is x's shape unless the op says otherwise (a loss's: one a slice, or one number).
  const g: FieldLayout | undefined = own.g ?? (c.g.data.length === c.x.data.length ? 'element' : undefined);
  return g === undefined ? own : { ...own, g };
}

/** The case as rows: dim moved last and the other dims flattened, [slices, n] along dim -1. */
function asRows(original: HuntCase): HuntCase {
  const rank = original.x.shape.length;
  const axis = original.dim < 0 ? original.dim + rank : original.dim;
  if (rank <= 2 && axis === rank - 1) return original;
  // What depends on the layout (a causal mask) is made explicit first: the rows keep its meaning.
  const explicit = opDefinition(original.op).hunt?.explicit;
  const c = explicit === undefined ? original : { ...original, fields: explicit(original.fields, original.x.shape) };
  const layout = sliceLayout(c.x.shape, axis);
  const shape = [layout.count, layout.length];
  const rowsOf = (tensor: Tensor): Tensor => {
    const data = new Float64Array(tensor.data.length);
    for (let k = 0; k < layout.count; k++) {
      const start = sliceStart(layout, k);
      for (let j = 0; j < layout.length; j++) data[k * layout.length + j] = tensor.data[start + j * layout.stride];
    }
    return { shape, data };
  };
  const layouts = layoutsOf(c);
  const fields = mapFields(c.fields, layouts, (value, kind) => (kind === 'element' ? rowsOf(value) : kind === 'slice' || kind === 'class-index' ? { shape: [layout.count], data: value.data } : value));
  const g = layouts.g === 'element' ? rowsOf(c.g) : layouts.g === 'slice' ? { shape: [layout.count], data: c.g.data } : c.g;
  return { ...c, x: rowsOf(c.x), g, fields, dim: -1 };
}

function mapFields(fields: Readonly<Record<string, FieldValue>>, layouts: Readonly<Record<string, FieldLayout>>, map: (value: Tensor, kind: FieldLayout) => Tensor | undefined): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(fields)) {
    const kind = layouts[key];
    const mapped = typeof value === 'object' && kind !== undefined ? map(value, kind) : value;
    if (mapped !== undefined) out[key] = mapped;
  }
  return out;
}

/** x's largest finite logit taken off each slice (softmax's shift): a kernel whose bug needs the offset keeps it. */
function withoutOffset(c: HuntCase, axis: number): Float64Array {
  const layout = sliceLayout(c.x.shape, axis);
  const data = Float64Array.from(c.x.data);
  for (let k = 0; k < layout.count; k++) {
    const max = largestFinite(data, layout, k);
    if (max === -Infinity) continue;
    const start = sliceStart(layout, k);
    for (let j = 0; j < layout.length; j++) data[start + j * layout.stride] -= max;
  }
  return data;
}

/** `tensor` with dim `d` cut to [from, to). */
function narrowTensor(tensor: Tensor, d: number, from: number, to: number): Tensor {
  const shape = [...tensor.shape];
  const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const size = shape[d];
  shape[d] = to - from;
  const data = new Float64Array(outer * (to - from) * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = from; i < to; i++) {
      const start = (o * size + i) * inner;
      for (let k = 0; k < inner; k++) data[at++] = tensor.data[start + k];
    }
  }
  return { shape, data };
}

/** The case with x's dim `d` cut to [from, to), and every field that follows x cut with it. */
function narrow(c: HuntCase, d: number, from: number, to: number): HuntCase {
  const rank = c.x.shape.length;
  const axis = c.dim < 0 ? c.dim + rank : c.dim;
  const layouts = layoutsOf(c);
  // A slice field has x's shape without the dim: x's d is its d − 1 after it.
  const sliceDim = d < axis ? d : d - 1;
  const follow = (value: Tensor, kind: FieldLayout): Tensor | undefined => {
    if (kind === 'element') return narrowTensor(value, d, from, to);
    if (d === axis) {
      if (kind === 'class') return narrowTensor(value, 0, from, to);
      if (kind === 'class-index') {
        // A class that goes renumbers those after it; a target whose class goes takes the nearest
        // class kept (the candidate is judged anew). The index that names no class stays.
        const ignored = opDefinition(c.op).hunt?.ignoredClass?.(c.fields);
        const renumber = (t: number) => (t === ignored || !Number.isInteger(t) || t < 0 || t >= c.x.shape[axis] ? t : Math.min(Math.max(t, from), to - 1) - from);
        return { shape: value.shape, data: value.data.map(renumber) };
      }
      return value;
    }
    return (kind === 'slice' || kind === 'class-index') && value.shape.length > 0 ? narrowTensor(value, sliceDim, from, to) : value;
  };
  const fields = mapFields(c.fields, layouts, follow);
  const g = layouts.g === undefined ? c.g : (follow(c.g, layouts.g) ?? c.g);
  return { ...c, x: narrowTensor(c.x, d, from, to), g, fields };
}

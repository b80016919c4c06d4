import { scaledInteger } from './float64-parts.js';

interface LogitGroup {
  count: number;
  sum: number;
  magnitude: number;
  readonly members: number[];
  exactSum?: bigint;
}

/**
 * Which elements of a slice have a gradient of exactly 0, decided exactly rather than by how close
 * a computed value comes to 0.
 *
 * Group the unmasked logits by value: group v has c_v members, the sum G_v of their g, and one
 * exponential e_v = exp(x_v − max). Then E · (g_i − ⟨s, g⟩) = Σ_v e_v (c_v g_i − G_v). The x_v − max
 * are distinct rationals, so by Lindemann–Weierstrass the e_v are linearly independent over the
 * rationals, and the sum is 0 exactly when every coefficient is: when g_i equals the mean of g over
 * every group. So a slice has exact zeros only if all its groups share one mean of g, and then at
 * the elements whose g equals it (symmetric g over equal logits is the common case).
 *
 * Means are compared in float64 where the difference is beyond rounding, exactly (g · 2^1074 as
 * integers) where it is not. Returns undefined when no element is an exact 0; g must be finite.
 */
export function exactZeroGradients(x: Float64Array, g: Float64Array): Uint8Array | undefined {
  if (!mayShareOneMean(x, g)) return undefined;
  const groups = new Map<number, LogitGroup>();
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    let group = groups.get(x[i]);
    if (group === undefined) {
      group = { count: 0, sum: 0, magnitude: 0, members: [] };
      groups.set(x[i], group);
    }
    group.count++;
    group.sum += g[i];
    group.magnitude += Math.abs(g[i]);
    group.members.push(i);
  }
  const [first, ...rest] = groups.values();
  if (first === undefined || !rest.every((group) => sameMean(first, group))) return undefined;
  const zeros = new Uint8Array(x.length);
  let found = false;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    const single: LogitGroup = { count: 1, sum: g[i], magnitude: Math.abs(g[i]), members: [i] };
    if (sameMean(first, single)) {
      zeros[i] = 1;
      found = true;
    }
  }
  return found ? zeros : undefined;

  function sameMean(a: LogitGroup, b: LogitGroup): boolean {
    // Float sums are off by at most (count − 1) roundings of their magnitudes: beyond that, the
    // means differ for certain.
    const slack = (a.count + b.count) * 2 ** -52 * (a.magnitude / a.count + b.magnitude / b.count);
    if (Math.abs(a.sum / a.count - b.sum / b.count) > 2 * slack + 2 ** -1070) return false;
    return BigInt(b.count) * exactSum(a, g) === BigInt(a.count) * exactSum(b, g);
  }
}

function exactSum(group: LogitGroup, g: Float64Array): bigint {
  group.exactSum ??= group.members.reduce((total, i) => total + scaledInteger(g[i]), 0n);
  return group.exactSum;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** A number in [0, 1) that depends on the logit's value alone (+0 and −0 alike). */
function logitHash(value: number): number {
  bits[0] = value === 0 ? 0 : value;
  return (Math.imul(words[0] ^ Math.imul(words[1], 0x85ebca6b), 0x9e3779b1) >>> 0) / 2 ** 32;
}

/**
 * A cheap necessary condition for exact zeros, so that slices without them (nearly all) skip the
 * grouping: if every group of equal logits averages g to one μ, then Σ_i (g_i − μ) h(x_i) = 0 for
 * any h of the logit alone. With h a hash, a sum beyond its rounding error (from μ's rounding and
 * the sum's own, below) proves some group's mean differs.
 */
function mayShareOneMean(x: Float64Array, g: Float64Array): boolean {
  let count = 0;
  let sum = 0;
  let magnitude = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    count++;
    sum += g[i];
    magnitude += Math.abs(g[i]);
  }
  const mean = sum / count;
  let weighted = 0;
  let spread = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    const offset = g[i] - mean;
    weighted += offset * logitHash(x[i]);
    spread += Math.abs(offset);
  }
  const bound = 8 * (count + 3) * 2 ** -53 * (magnitude + spread) + count * 2 ** -1070;
  // A sum that overflowed (g near 1e308) proves nothing: then the exact test decides.
  return !(Math.abs(weighted) > bound);
}

import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import { readIntegerText } from './number-token.js';
import type { InputDocument } from './input-document.js';

/**
 * The arrays a dump holds, by name: x and g, and the expected values softmax (or log_softmax: the
 * dump is then of op log_softmax) and grad.
 */
const REQUIRED = ['x', 'g'] as const;
const EXPECTED = ['softmax', 'log_softmax', 'grad'] as const;
const KNOWN = [...REQUIRED, ...EXPECTED];

export interface ArrayDump {
  /** The arrays by name (a .npz member without `.npy`, a safetensors tensor). */
  readonly arrays: ReadonlyMap<string, Tensor>;
  /** What one array is called in this container, for messages: "member", "tensor". */
  readonly itemKind: string;
  /** String settings stored beside the arrays (safetensors' `__metadata__`): `dim` and `source`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The input document a dump of named arrays stands for: `np.savez(f, x=…, g=…, grad=…)` or a
 * safetensors file of the same names. An unknown name is refused, not ignored: a misspelt `grads`
 * would otherwise drop the very values the user meant to check.
 */
export function documentFromArrays(dump: ArrayDump): InputDocument {
  const { arrays, itemKind } = dump;
  const unknown = [...arrays.keys()].find((name) => !(KNOWN as readonly string[]).includes(name));
  if (unknown !== undefined) {
    throw new InputError(`unknown ${itemKind} ${JSON.stringify(unknown)} (known: ${KNOWN.join(', ')})`);
  }
  for (const name of REQUIRED) {
    if (!arrays.has(name)) {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} is missing: a dump holds x and g, and optionally softmax (or log_softmax) and grad`);
    }
  }
  const x = arrays.get('x')!;
  const expectedOf = (name: (typeof EXPECTED)[number]): Tensor | undefined => {
    const tensor = arrays.get(name);
    if (tensor !== undefined && !sameShape(tensor.shape, x.shape)) {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor;
  };
  if (arrays.has('softmax') && arrays.has('log_softmax')) {
    throw new InputError(`a dump holds softmax or log_softmax values, not both (its ${itemKind}s "softmax" and "log_softmax")`);
  }
  const forward = expectedOf('softmax') ?? expectedOf('log_softmax');
  const grad = expectedOf('grad');
  const metadata = dump.metadata ?? {};
  return {
    ...(arrays.has('log_softmax') ? { op: 'log_softmax' as const } : {}),
    x,
    g: arrays.get('g'),
    expected: forward === undefined && grad === undefined ? undefined : { forward: forward?.data, grad: grad?.data },
    expectedStored: { forward: forward?.stored, grad: grad?.stored },
    dim: Object.hasOwn(metadata, 'dim') ? readIntegerText(metadata.dim, 'metadata "dim"') : undefined,
    source: Object.hasOwn(metadata, 'source') ? metadata.source : undefined,
  };
}

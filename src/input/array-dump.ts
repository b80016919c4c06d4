import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import { readIntegerText } from './number-token.js';
import { readFraction, type InputDocument } from './input-document.js';
import { REDUCTIONS, type Reduction } from '../ops/cross_entropy/cross-entropy-spec.js';

/**
 * The arrays a dump holds, by name: x and g, and the expected values softmax (or log_softmax: the
 * dump is then of op log_softmax) and grad.
 */
const REQUIRED = ['x', 'g'] as const;
const EXPECTED = ['softmax', 'log_softmax', 'loss', 'grad'] as const;
/** cross_entropy's own arrays: a dump holding a target is one of op cross_entropy. */
const CROSS_ENTROPY = ['target', 'weight'] as const;
const KNOWN = [...REQUIRED, ...EXPECTED, ...CROSS_ENTROPY];

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
  const crossEntropy = arrays.has('target');
  for (const name of REQUIRED) {
    // g may be left out: cross_entropy's is then 1 (the loss's own gradient), and any other op's
    // forward output is checked alone (a dump of an inference kernel's outputs).
    if (!arrays.has(name) && name !== 'g') {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} is missing: a dump holds x and g, and optionally softmax (or log_softmax) and grad`);
    }
  }
  const x = arrays.get('x')!;
  const expectedOf = (name: (typeof EXPECTED)[number]): Tensor | undefined => {
    const tensor = arrays.get(name);
    // A loss has its own shape (one number, or one a sample): checked against the reduction later.
    if (tensor !== undefined && name !== 'loss' && !sameShape(tensor.shape, x.shape)) {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor;
  };
  const forwardNames = (['softmax', 'log_softmax', 'loss'] as const).filter((name) => arrays.has(name));
  if (forwardNames.length > 1) {
    throw new InputError(`a dump holds one op's values: its ${itemKind}s ${forwardNames.map((name) => JSON.stringify(name)).join(' and ')} belong to different ops`);
  }
  if (arrays.has('loss') && !crossEntropy) throw new InputError(`${itemKind} "loss" is cross_entropy's: the dump needs its "target" too`);
  if (arrays.has('weight') && !crossEntropy) throw new InputError(`${itemKind} "weight" is cross_entropy's: the dump needs its "target" too`);
  const forward = expectedOf('softmax') ?? expectedOf('log_softmax') ?? expectedOf('loss');
  const grad = expectedOf('grad');
  const metadata = dump.metadata ?? {};
  return {
    ...(arrays.has('log_softmax') ? { op: 'log_softmax' as const } : {}),
    ...(crossEntropy
      ? {
          op: 'cross_entropy' as const,
          target: arrays.get('target'),
          weight: arrays.get('weight'),
          reduction: Object.hasOwn(metadata, 'reduction') ? readReduction(metadata.reduction) : undefined,
          labelSmoothing: Object.hasOwn(metadata, 'label_smoothing') ? readFraction(Number(metadata.label_smoothing), 'metadata "label_smoothing"') : undefined,
          ignoreIndex: Object.hasOwn(metadata, 'ignore_index') ? readIntegerText(metadata.ignore_index, 'metadata "ignore_index"') : undefined,
        }
      : {}),
    x,
    g: arrays.get('g'),
    expected: forward === undefined && grad === undefined ? undefined : { forward: forward?.data, grad: grad?.data },
    expectedStored: { forward: forward?.stored, grad: grad?.stored },
    dim: Object.hasOwn(metadata, 'dim') ? readIntegerText(metadata.dim, 'metadata "dim"') : undefined,
    source: Object.hasOwn(metadata, 'source') ? metadata.source : undefined,
  };
}

function readReduction(text: string): Reduction {
  if ((REDUCTIONS as readonly string[]).includes(text)) return text as Reduction;
  throw new InputError(`metadata "reduction" must be one of ${REDUCTIONS.join(', ')}, got ${JSON.stringify(text)}`);
}

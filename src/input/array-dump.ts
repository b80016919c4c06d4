import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import { readIntegerText } from './number-token.js';
import { readFiniteNumber, readFraction, type InputDocument } from './input-document.js';
import { checkedMask } from './mask-values.js';
import { parseNumberToken } from './number-token.js';
import { FORWARD_NAME, isOp, OPS, perElementForward, type Op } from '../op.js';
import { libraryName, OP_FIELDS, opDefinition } from '../ops/index.js';
import { DEFAULT_OP, type OpField } from '../ops/op-definition.js';

/**
 * The arrays a dump holds, by name: x and g, each op's expected forward output under its name
 * (softmax, log_softmax, loss: the dump is then of that op) and grad, and the ops' own fields that
 * are arrays (cross_entropy's target and weight: a dump holding its target is one of op
 * cross_entropy; a mask). Its other fields are strings of the metadata
 * (safetensors' `__metadata__`).
 */
const REQUIRED = ['x', 'g'] as const;
const FORWARD_NAMES = [...new Set(OPS.map((op) => FORWARD_NAME[op]))];
const EXPECTED = [...FORWARD_NAMES, 'grad'];
const FIELD_ARRAYS = OP_FIELDS.filter(isArrayKind);
const KNOWN = [...REQUIRED, ...EXPECTED, ...FIELD_ARRAYS.map((field) => field.key)];

/**
 * The op the metadata names ("op"), else the op whose required array the dump holds
 * (cross_entropy's target), else the op of a field that needs nothing more (a mask; a "causal" or
 * "scale" setting), else the op whose forward output it holds under a name of its own (log_softmax;
 * a softmax is the default op's).
 */
function dumpOp(arrays: ReadonlyMap<string, Tensor>, metadata: Readonly<Record<string, string>>): Op | undefined {
  if (Object.hasOwn(metadata, 'op')) {
    if (!isOp(metadata.op)) throw new InputError(`metadata "op" must be one of ${OPS.join(', ')}, got ${JSON.stringify(metadata.op)}`);
    return metadata.op;
  }
  const byField = FIELD_ARRAYS.find((field) => field.required !== undefined && arrays.has(field.key));
  if (byField !== undefined) return byField.op;
  const needsNothing = (op: Op) => opDefinition(op).fields.every((field) => field.required === undefined);
  const byOptional = OP_FIELDS.find((field) => needsNothing(field.op) && (isArrayKind(field) ? arrays.has(field.key) : Object.hasOwn(metadata, field.key)));
  if (byOptional !== undefined) return byOptional.op;
  return OPS.find((op) => FORWARD_NAME[op] !== FORWARD_NAME[DEFAULT_OP] && arrays.has(FORWARD_NAME[op]) && needsNothing(op));
}

/** A field a dump holds as an array (cross_entropy's target, a mask), not as metadata. */
function isArrayKind(field: OpField): boolean {
  return field.kind.type === 'values' || field.kind.type === 'mask';
}

/** The array that names an op which needs a field the dump lacks: `"loss" is cross_entropy's: the dump needs its "target" too`. */
function orphanOf(arrays: ReadonlyMap<string, Tensor>, op: Op | undefined): { name: string; op: Op; needs: string } | undefined {
  for (const other of OPS) {
    if (other === op) continue;
    const needs = opDefinition(other).fields.find((field) => field.required !== undefined && isArrayKind(field));
    if (needs === undefined) continue;
    const names = [FORWARD_NAME[other], ...opDefinition(other).fields.filter((field) => isArrayKind(field) && field !== needs).map((field) => field.key)];
    const name = names.find((candidate) => arrays.has(candidate));
    if (name !== undefined) return { name, op: other, needs: needs.key };
  }
  return undefined;
}

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
  const op = dumpOp(arrays, dump.metadata ?? {});
  for (const name of REQUIRED) {
    // g may be left out: cross_entropy's is then 1 (the loss's own gradient), and any other op's
    // forward output is checked alone (a dump of an inference kernel's outputs).
    if (!arrays.has(name) && name !== 'g') {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} is missing: a dump holds x and g, and optionally softmax (or log_softmax) and grad`);
    }
  }
  const x = arrays.get('x')!;
  const expectedOf = (name: string, perElement = true): Tensor | undefined => {
    const tensor = arrays.get(name);
    // A loss has its own shape (one number, or one a sample): checked against the reduction later.
    if (tensor !== undefined && perElement && !sameShape(tensor.shape, x.shape)) {
      throw new InputError(`${itemKind} ${JSON.stringify(name)} has shape ${formatShape(tensor.shape)}, but x has shape ${formatShape(x.shape)}`);
    }
    return tensor;
  };
  const forwardNames = FORWARD_NAMES.filter((name) => arrays.has(name));
  if (forwardNames.length > 1) {
    throw new InputError(`a dump holds one op's values: its ${itemKind}s ${forwardNames.map((name) => JSON.stringify(name)).join(' and ')} belong to different ops`);
  }
  const orphan = orphanOf(arrays, op);
  if (orphan !== undefined) throw new InputError(`${itemKind} "${orphan.name}" is ${orphan.op}'s: the dump needs its "${orphan.needs}" too`);
  // An array of another op than the dump's (its metadata's "op", or what its arrays say) would be
  // dropped without a word: a mask beside a cross_entropy target, a softmax in a log_softmax dump.
  const dumpOpName = op ?? DEFAULT_OP;
  const foreign = FIELD_ARRAYS.find((field) => arrays.has(field.key) && !opDefinition(dumpOpName).fields.some((mine) => mine.key === field.key));
  if (foreign !== undefined) throw new InputError(`${itemKind} "${foreign.key}" is ${foreign.op}'s, but the dump is op ${dumpOpName}`);
  const otherForward = forwardNames.find((name) => name !== FORWARD_NAME[dumpOpName]);
  if (otherForward !== undefined) throw new InputError(`${itemKind} "${otherForward}" is not an output of op ${dumpOpName}: its forward output is "${FORWARD_NAME[dumpOpName]}"`);
  // An op's setting in the metadata of a dump of another op would be dropped without a word: a
  // softmax dump saved with "reduction" meant a cross_entropy one whose target is missing.
  const own = opDefinition(op).fields;
  const stray = OP_FIELDS.find((field) => !isArrayKind(field) && !own.some((mine) => mine.key === field.key) && Object.hasOwn(dump.metadata ?? {}, field.key));
  if (stray !== undefined) {
    const needs = opDefinition(stray.op).fields.find((field) => field.required !== undefined);
    throw new InputError(`metadata "${stray.key}" is ${stray.op}'s${needs === undefined ? '' : `: the dump needs its ${itemKind} "${needs.key}" too`}`);
  }
  const forward = forwardNames.length === 0 ? undefined : expectedOf(forwardNames[0], perElementForward(forwardNames[0]) || opDefinition(op).forwardPerElement);
  const grad = expectedOf('grad');
  const metadata = dump.metadata ?? {};
  const fields = opDefinition(op).fields.flatMap((field) => {
    const value = isArrayKind(field) ? arrayField(field, arrays.get(field.key)) : Object.hasOwn(metadata, field.key) ? readMetadataField(field, metadata[field.key]) : undefined;
    return value === undefined ? [] : [[libraryName(field), value] as const];
  });
  return {
    ...(op === undefined ? {} : { op }),
    ...Object.fromEntries(fields),
    x,
    g: arrays.get('g'),
    expected: forward === undefined && grad === undefined ? undefined : { forward: forward?.data, grad: grad?.data },
    expectedStored: { forward: forward?.stored, grad: grad?.stored },
    dim: Object.hasOwn(metadata, 'dim') ? readIntegerText(metadata.dim, 'metadata "dim"') : undefined,
    source: Object.hasOwn(metadata, 'source') ? metadata.source : undefined,
  };
}

/** An op's array field as the dump holds it: a mask's values checked to be booleans. */
function arrayField(field: OpField, array: Tensor | undefined): Tensor | undefined {
  return array !== undefined && field.kind.type === 'mask' ? checkedMask(array, field.key) : array;
}

/** An op's field from the dump's metadata, a string, read by its kind. */
function readMetadataField(field: OpField, text: string): number | string | boolean {
  const name = `metadata "${field.key}"`;
  switch (field.kind.type) {
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new InputError(`${name} must be "true" or "false", got ${JSON.stringify(text)}`);
    case 'number': {
      const value = parseNumberToken(text.trim());
      return readFiniteNumber(value ?? text, name);
    }
    case 'choice':
      if (field.kind.choices.includes(text)) return text;
      throw new InputError(`${name} must be one of ${field.kind.choices.join(', ')}, got ${JSON.stringify(text)}`);
    case 'fraction':
      return readFraction(Number(text), name);
    case 'integer':
      return readIntegerText(text, name);
    case 'values':
    case 'mask':
      throw new Error(`${field.key} is an array, not metadata`);
  }
}

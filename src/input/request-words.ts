import { flagName, libraryName, OP_FIELDS } from '../ops/index.js';

/**
 * How a front door names what its caller gave, in the messages of resolve-input.ts: the command
 * line's flags (`--op log_softmax`, `--reduction`) or the library's fields (`op: 'log_softmax'`,
 * `reduction`). One fact, each caller's words, as core/describe-budget.ts words a budget.
 */
export interface RequestWords {
  /** A setting given beside the input, with its value: `--op log_softmax`, `op: 'log_softmax'`. */
  readonly setting: (name: SettingName, value?: string) => string;
  /** How x or g can be given, after "give the logits" or "give the upstream gradient". */
  readonly howToGive: (field: 'x' | 'g') => string;
}

/** The settings a request may give beside its input file, by the library's names: op, dim, dtype, and each op's own fields. */
export type SettingName = string;

/** The flags of the settings: the common ones, and each op's fields' (the registry's). */
const FLAGS: Readonly<Record<SettingName, string>> = {
  op: '--op',
  dim: '--dim',
  dtype: '--dtype',
  ...Object.fromEntries(OP_FIELDS.map((field) => [libraryName(field), flagName(field)])),
};

const EXAMPLES: Readonly<Record<'x' | 'g', string>> = { x: '1,2,3', g: '1,0,0' };

export const FLAG_REQUEST_WORDS: RequestWords = {
  setting: (name, value) => (value === undefined ? FLAGS[name] : `${FLAGS[name]} ${value}`),
  howToGive: (field) => `with --${field} (for example --${field} ${EXAMPLES[field]}) or as the field "${field}" of an --input file`,
};

export const LIBRARY_REQUEST_WORDS: RequestWords = {
  setting: (name, value) => (value === undefined ? name : `${name}: '${value}'`),
  howToGive: (field) => `as ${field} (for example ${field}: [${EXAMPLES[field].replaceAll(',', ', ')}]) or as the field "${field}" of the file readInput reads`,
};

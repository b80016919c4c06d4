import { flagName, libraryName, OP_FIELDS } from '../ops/index.js';
import type { RequestProblem } from './request-problem.js';

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
  /** A problem of the request as a whole, in these words: the message of its RequestError. */
  readonly problem: (problem: RequestProblem) => string;
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

const flagSetting = (name: SettingName, value?: string): string => (value === undefined ? FLAGS[name] : `${FLAGS[name]} ${value}`);
const flagHowToGive = (field: 'x' | 'g'): string => `with --${field} (for example --${field} ${EXAMPLES[field]}) or as the field "${field}" of an --input file`;

export const FLAG_REQUEST_WORDS: RequestWords = {
  setting: flagSetting,
  howToGive: flagHowToGive,
  problem: (problem) => {
    switch (problem.code) {
      case 'field-of-other-op':
        return `${flagSetting(problem.field)} is for ${flagSetting('op', problem.op)}`;
      case 'required-field-missing':
        return `${problem.key} is missing: ${problem.op} needs ${problem.needs}, with ${flagSetting(problem.field)} or the field "${problem.key}"`;
      default:
        return commonProblem(problem, FLAG_REQUEST_WORDS);
    }
  },
};

const librarySetting = (name: SettingName, value?: string): string => (value === undefined ? name : `${name}: '${value}'`);

export const LIBRARY_REQUEST_WORDS: RequestWords = {
  setting: librarySetting,
  howToGive: (field) => `as ${field} (for example ${field}: [${EXAMPLES[field].replaceAll(',', ', ')}]) or as the field "${field}" of the file readInput reads`,
  problem: (problem) => {
    switch (problem.code) {
      case 'field-of-other-op':
        return `${problem.field} is for op ${problem.op}`;
      case 'required-field-missing':
        return `${problem.field} is missing: op ${problem.op} needs ${problem.needs}`;
      default:
        return commonProblem(problem, LIBRARY_REQUEST_WORDS);
    }
  },
};

/** The problems both doors word alike, but for the names of their settings. */
function commonProblem(problem: RequestProblem, words: RequestWords): string {
  switch (problem.code) {
    case 'input-missing':
      return `x is missing: give the logits ${words.howToGive('x')}`;
    case 'expected-grad-without-g':
      return `expected grad values need g, the upstream gradient they were computed from: give it ${words.howToGive('g')}`;
    case 'op-contradicts-input':
      return `${words.setting('op', problem.op)}, but the input is op ${problem.inputOp}: leave ${words.setting('op')} out, or give an input of op ${problem.op}`;
    case 'given-twice':
      return `${problem.where} has its ${problem.what} already: give it there or with ${words.setting(problem.field)}, not both`;
    default:
      throw new Error(`no common words for ${problem.code}`);
  }
}

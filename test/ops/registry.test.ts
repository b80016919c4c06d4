import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { OP_DEFINITIONS } from '../../src/ops/index.js';
import { OP_NAMES, type OpDefinition } from '../../src/ops/op-definition.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** The pieces an op's definition must have (TypeScript checks their types; this, that none is missing at run time). */
const PIECES: readonly (keyof OpDefinition)[] = [
  'op', 'forwardName', 'forwardPerElement', 'finiteDifferences', 'methods', 'allowances', 'laws', 'reference',
  'parallelJacobian', 'bigNumberMillisecondsPerElement', 'words',
];
const WORDS = ['closeRule', 'closeRuleTerms', 'cancellationTerm', 'closedForm', 'closedFormForward', 'forwardSum', 'gradScale', 'sliceNote'] as const;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(folder, entry.name)) : entry.name.endsWith('.ts') ? [join(folder, entry.name)] : [],
  );
}

describe('the op registry', () => {
  test.each(OP_NAMES)('%s has one definition, under its own name, with every piece and every word', (op) => {
    const definition = OP_DEFINITIONS[op];
    expect(definition.op).toBe(op);
    for (const piece of PIECES) expect(definition[piece], piece).toBeDefined();
    for (const word of WORDS) expect(definition.words[word], word).toBeDefined();
    expect(definition.bigNumberMillisecondsPerElement).toBeGreaterThan(0);
  });

  test('names every op there is a folder for, and a folder for every op', () => {
    const folders = readdirSync(join(SRC, 'ops'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.sort()).toEqual([...OP_NAMES].sort());
    expect(Object.keys(OP_DEFINITIONS).sort()).toEqual([...OP_NAMES].sort());
  });

  test('the judging, the run pipeline, the budget, the renderers and the front doors switch on no op name (they ask the registry)', () => {
    const switching = /(?:\.op\s*[!=]==\s*|case\s+|\bop\s*[!=]==\s*)'(?:softmax|log_softmax|cross_entropy|masked_softmax)'/;
    const files = [
      join(SRC, 'core', 'judge.ts'),
      join(SRC, 'core', 'report.ts'),
      join(SRC, 'core', 'run.ts'),
      join(SRC, 'core', 'budget.ts'),
      join(SRC, 'core', 'library.ts'),
      join(SRC, 'core', 'library-arguments.ts'),
      ...['output', 'record', 'comparisons', 'input', 'check', 'cli'].flatMap((folder) => sourceFiles(join(SRC, folder))),
    ];
    const lines = files.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => switching.test(line)).map((line) => `${file}: ${line.trim()}`));
    expect(lines).toEqual([]);
  });
});

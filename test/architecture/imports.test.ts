import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/**
 * The layers of src/, lowest first: a module may import from its own layer (without a cycle) or a
 * lower one, never a higher one. The longest prefix names a file's layer.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['dtype.ts', 'tensor.ts', 'input-error.ts', 'printable.ts', 'progress.ts', 'numeric/', 'wasm/', 'types/'],
  ['methods/'],
  ['comparisons/'],
  ['reference/'],
  ['diagnosis/'],
  ['ops/'],
  ['parallel/'],
  ['core/', 'op.ts', 'example.ts'],
  ['input/'],
  ['io/'],
  ['check/', 'bench/'],
  ['output/'],
  ['record/'],
  ['hunt/'],
  ['core/library.ts', 'core/library-arguments.ts', 'core/library-hunt.ts', 'index.ts'],
  ['cli/'],
];

function layerOf(file: string): number {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach((prefixes, layer) => {
    for (const prefix of prefixes) {
      const matches = prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix;
      if (matches && (best === undefined || prefix.length > best.length)) best = { layer, length: prefix.length };
    }
  });
  if (best === undefined) throw new Error(`${file} is in no layer: add it to LAYERS`);
  return best.layer;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(folder, entry.name)) : entry.name.endsWith('.ts') ? [join(folder, entry.name)] : [],
  );
}

/** Every module a file imports, type imports, re-exports and import() included, as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const found = new Set<string>();
  for (const [, specifier] of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
    if (target.endsWith('.ts') && !target.startsWith('..')) found.add(target);
  }
  return [...found];
}

/** The strongly connected components of more than one module (Tarjan): each is an import cycle. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

const files = sourceFiles(SRC).map((file) => relative(SRC, file));
const graph = new Map(files.map((file) => [file, importsOf(file)] as const));

describe("src/'s imports", () => {
  test('are read: the judging imports the registry, and a type import counts', () => {
    expect(graph.get('core/judge.ts')).toContain('ops/index.ts');
    expect(graph.get('core/budget.ts')).toContain('core/over-budget.ts');
    expect(graph.get('ops/op-definition.ts')).toContain('comparisons/allowance.ts');
  });

  test('the cycle finder finds a cycle through type imports and none in a chain', () => {
    expect(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });

  test('form no cycle, type imports included', () => {
    expect(cyclesOf(graph)).toEqual([]);
  });

  test('never run from a lower layer to a higher one', () => {
    const upward = files.flatMap((file) => (graph.get(file) ?? []).filter((target) => layerOf(target) > layerOf(file)).map((target) => `${file} -> ${target}`));
    expect(upward).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/** One step in building a hostile fixture folder: a folder, a file, a symbolic link, or a FIFO. */
export type TreeStep =
  | { readonly kind: 'folder'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly text: string }
  | { readonly kind: 'link'; readonly path: string; readonly target: string }
  | { readonly kind: 'fifo'; readonly path: string };

const name = fc.constantFrom('a', 'b', 'c.json', 'd.json', '.e', 'node_modules');
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
/** Targets inside the folder, back up it (loops), out of it, and to nothing. */
const target = fc.oneof(path, fc.constantFrom('.', '..', '../..', '../../..', '/', '/etc/passwd', '/dev/zero', '/proc/self', 'missing.json', '/tmp'));

/**
 * Random steps building a folder of up to 12 entries: the names a fixture folder has, links of
 * every kind (in, up, out, nowhere), FIFOs; `fixture` is the text a fixture file holds.
 */
export function treeSteps(fixture: string): fc.Arbitrary<TreeStep[]> {
  const step = fc.oneof(
    path.map((p): TreeStep => ({ kind: 'folder', path: p })),
    fc.tuple(path, fc.constantFrom(fixture, '{"broken"', '')).map(([p, text]): TreeStep => ({ kind: 'file', path: p, text })),
    fc.tuple(path, target).map(([p, t]): TreeStep => ({ kind: 'link', path: p, target: t })),
    path.map((p): TreeStep => ({ kind: 'fifo', path: p })),
  );
  return fc.array(step, { minLength: 1, maxLength: 12 });
}

/**
 * Builds the steps in `root`, skipping any that cannot be made (a parent that is a file or a
 * link, a name taken). Never through a link: a step under `a -> /` must not write in /.
 */
export function buildTree(root: string, steps: readonly TreeStep[]): void {
  for (const step of steps) {
    const parts = step.path.split('/');
    if (!realFoldersUpTo(root, parts.slice(0, -1))) continue;
    const at = join(root, step.path);
    if (lstatOrUndefined(at) !== undefined) continue;
    try {
      if (step.kind === 'folder') mkdirSync(at);
      else if (step.kind === 'file') writeFileSync(at, step.text, { flag: 'wx' });
      else if (step.kind === 'link') symlinkSync(step.target, at);
      else spawnSync('mkfifo', [at]);
    } catch {
      // Not every random step fits the tree so far.
    }
  }
}

/** Makes the folders `parts` under `root`, each a real folder (no link, no file): false if one is not. */
function realFoldersUpTo(root: string, parts: readonly string[]): boolean {
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    const entry = lstatOrUndefined(at);
    if (entry === undefined) mkdirSync(at);
    else if (!entry.isDirectory()) return false;
  }
  return true;
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from '../input-error.js';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * The fixture files that `check <paths…>` names: files as given, folders searched recursively
 * for `*.json` (skipping `node_modules` and hidden folders), and glob patterns, which the shell
 * may have left unexpanded when quoted. A path that matches nothing is an input error, so a typo
 * cannot turn into an empty, passing suite. The list is sorted and free of repeats. Relative paths
 * and patterns are the working directory `cwd`'s, and so are the files found from them: each is
 * named as the user would (a folder's files under the folder as given), not made absolute.
 */
export async function collectFixturePaths(paths: readonly string[], cwd: string): Promise<string[]> {
  const found = new Set<string>();
  for (const path of paths) {
    for (const file of await expand(path, cwd)) found.add(file);
  }
  // Plain code-unit order: the same on every machine and locale.
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function expand(path: string, cwd: string): Promise<string[]> {
  const kind = statKind(resolve(cwd, path));
  if (kind === 'file') return [path];
  if (kind === 'directory') {
    const files = readdirSync(resolve(cwd, path), { recursive: true, encoding: 'utf8' })
      .filter((relative) => relative.endsWith('.json') && !relative.split(sep).some(isSkippedFolder))
      .map((relative) => join(path, relative))
      .filter((file) => statKind(resolve(cwd, file)) === 'file');
    if (files.length === 0) throw new InputError(`no *.json fixture under ${path}`);
    return files;
  }
  if (GLOB_CHARACTERS.test(path)) {
    // Loaded only for patterns: most runs name folders, and every import costs start-up time.
    const { glob } = await import('tinyglobby');
    const files = await glob(path, { cwd, onlyFiles: true, expandDirectories: false, absolute: isAbsolute(path) });
    if (files.length === 0) throw new InputError(`no fixture matches ${JSON.stringify(path)}`);
    return files;
  }
  throw new InputError(`cannot read ${path}: no such file or folder`);
}

function statKind(path: string): 'file' | 'directory' | 'other' | 'missing' {
  try {
    const stats = statSync(path);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

function isSkippedFolder(segment: string): boolean {
  return segment === 'node_modules' || (segment.startsWith('.') && segment.length > 1);
}

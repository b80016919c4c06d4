import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { InputError, quoted } from '../input-error.js';
import { printable } from '../printable.js';
import { parseNpy } from '../input/npy.js';
import { acceptanceOf } from '../input/array-acceptance.js';
import type { InputFiles } from '../input/resolve-input.js';
import type { Tensor } from '../tensor.js';
import type { Surroundings } from './surroundings.js';
import { readFailure } from './read-failure.js';
import { readBinaryFile } from './read-bounded.js';
import { realPathOf } from './file-status.js';

/**
 * The file system as a request reads it, seen from its surroundings: --input (stdin for `-`), .npy values,
 * and .npy files a document names. Relative paths are resolved against `io.cwd`; messages name
 * every path as it was given, made printable (a file name may hold a line break). Only regular
 * files and pipes are read (readFileBounded).
 *
 * With `read`, the real path of every file read is added to it (record refuses to write over one).
 */
export function inputFiles(io: Surroundings, read?: Set<string>): InputFiles {
  const note = (path: string): string => {
    read?.add(realPathOf(path));
    return path;
  };
  const beside = (documentPath: string, relativePath: string, field: string): Tensor =>
    readNpyBeside(note(resolve(io.cwd, documentPath)), relativePath, field, note);
  return {
    // Loaded only for --input: every module on the plain run's path adds to its start-up.
    readInput: async (path) => {
      if (path !== '-') note(resolve(io.cwd, path));
      return (await import('./read-input.js')).readInput(path, beside, io);
    },
    readNpy: (path, field) => readNpyFile(note(resolve(io.cwd, path)), field, path, true),
    npyBeside: (documentPath) => (relativePath, field) => beside(documentPath, relativePath, field),
  };
}

/** `pipes`: a pipe the user named (`--x`) is read; one a document names is not (readFileBounded). */
function readNpyFile(path: string, field: string, shown: string, pipes: boolean): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readBinaryFile(path, pipes);
  } catch (error) {
    throw new InputError(`${field}: cannot read ${printable(shown)}: ${readFailure(error)}`);
  }
  return parseNpy(bytes, `${field} (${printable(shown)})`, acceptanceOf(field));
}

/**
 * A .npy file named inside a document must stay inside the document's folder: no absolute path,
 * no `..` out of it, no symbolic link that leads out of it. A fixture from elsewhere cannot make
 * the tool read files it was not pointed at.
 */
function readNpyBeside(documentPath: string, relativePath: string, field: string, note: (path: string) => string): Tensor {
  // documentPath is absolute here: inputFiles resolves it against the surroundings' working directory.
  if (isAbsolute(relativePath)) throw new InputError(`${field} names ${quoted(relativePath)}: .npy files must be named relative to the document`);
  const folder = dirname(documentPath);
  const target = resolve(folder, relativePath);
  const outside = (from: string, to: string): boolean => {
    const path = relative(from, to);
    return path.startsWith('..') || isAbsolute(path);
  };
  if (outside(resolve(folder), target)) {
    throw new InputError(`${field} names ${quoted(relativePath)}, which is outside the document's folder`);
  }
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new InputError(`${field}: cannot read ${printable(relativePath)}: no such file`);
  }
  if (outside(realpathSync(folder), real)) {
    throw new InputError(`${field} names ${quoted(relativePath)}, which leads outside the document's folder through a link`);
  }
  return readNpyFile(note(real), field, relativePath, false);
}

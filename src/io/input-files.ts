import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { InputError, quoted } from '../input-error.js';
import { printable } from '../output/printable.js';
import { parseNpy } from '../input/npy.js';
import { acceptanceOf } from '../input/array-acceptance.js';
import type { InputFiles } from '../input/resolve-input.js';
import type { Tensor } from '../tensor.js';
import type { Surroundings } from './surroundings.js';
import { readFailure } from './read-failure.js';

/**
 * The file system as a request reads it, seen from its surroundings: --input (stdin for `-`), .npy values,
 * and .npy files a document names. Relative paths are resolved against `io.cwd`; messages name
 * every path as it was given, made printable (a file name may hold a line break).
 */
export function inputFiles(io: Surroundings): InputFiles {
  const beside = (documentPath: string, relativePath: string, field: string): Tensor =>
    readNpyBeside(resolve(io.cwd, documentPath), relativePath, field);
  return {
    // Loaded only for --input: every module on the plain run's path adds to its start-up.
    readInput: async (path) => (await import('./read-input.js')).readInput(path, beside, io),
    readNpy: (path, field) => readNpyFile(resolve(io.cwd, path), field, path),
    npyBeside: (documentPath) => (relativePath, field) => beside(documentPath, relativePath, field),
  };
}

function readNpyFile(path: string, field: string, shown: string): Tensor {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InputError(`${field}: cannot read ${printable(shown)}: ${readFailure(error)}`);
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `${field} (${printable(shown)})`, acceptanceOf(field));
}

/**
 * A .npy file named inside a document must stay inside the document's folder: no absolute path,
 * no `..` out of it, no symbolic link that leads out of it. A fixture from elsewhere cannot make
 * the tool read files it was not pointed at.
 */
function readNpyBeside(documentPath: string, relativePath: string, field: string): Tensor {
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
  return readNpyFile(real, field, relativePath);
}

import { closeSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../input-error.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  EACCES: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
};

/**
 * Writes `text` to `path` so that no reader ever sees a half-written file and an interrupted run
 * leaves the old file whole: the text goes to a temporary file in the same folder (same file
 * system, so the final step is atomic), is flushed to disk, then takes the name.
 *
 * Without `overwrite` an existing file is never replaced. The temporary file is linked to the
 * name rather than renamed over it: `link` fails if the name exists, even if it appeared a moment
 * ago, where a check-then-rename would let the file be clobbered in between.
 *
 * A relative `path` is the working directory `cwd`'s; messages name it as given.
 */
export function writeFileAtomic(path: string, text: string, overwrite: boolean, cwd: string): void {
  const target = resolve(cwd, path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(temporary, 'wx', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (overwrite) {
      renameSync(temporary, target);
    } else {
      linkSync(temporary, target);
      unlinkSync(temporary);
    }
    syncFolder(dirname(target));
  } catch (error) {
    removeQuietly(temporary);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw new InputError(`${path} exists already: add --force to overwrite it`);
    throw new InputError(`cannot write ${path}: ${REASONS[code] ?? (error as Error).message}`);
  }
}

/**
 * Fails early, before any work, where `writeFileAtomic` would fail at the end: `path` exists and
 * may not be replaced, is a folder, or has no folder to go in. `writeFileAtomic` checks again at
 * the moment of writing, where it counts. A relative `path` is the working directory `cwd`'s.
 */
export function checkOutputPath(path: string, overwrite: boolean, cwd: string): void {
  const folder = statOrUndefined(dirname(resolve(cwd, path)));
  if (folder === undefined) throw new InputError(`cannot write ${path}: ${REASONS.ENOENT}`);
  if (!folder.isDirectory()) throw new InputError(`cannot write ${path}: ${REASONS.ENOTDIR}`);
  const target = statOrUndefined(resolve(cwd, path));
  if (target?.isDirectory()) throw new InputError(`cannot write ${path}: ${REASONS.EISDIR}`);
  if (target !== undefined && !overwrite) throw new InputError(`${path} exists already: add --force to overwrite it`);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Makes the new name itself durable; some file systems refuse to open a folder, which is fine. */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The data is already flushed; only the directory entry's durability is best effort.
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never created.
  }
}

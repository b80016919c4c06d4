import { closeSync, fstatSync, fsyncSync, linkSync, openSync, realpathSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../input-error.js';
import { otherKind } from './file-kind.js';
import { systemCalls } from './system-calls.js';
import { WRITE_REASONS, writeFailure } from './write-failure.js';
import { statOrUndefined, lstatOrUndefined } from './file-status.js';

/**
 * Writes `text` to `path` whole or not at all: no reader ever sees a half-written file, and a
 * failed or interrupted write leaves the old file as it was. The text goes to a temporary file in
 * the same folder (same file system, so the final step is atomic), every byte of it checked
 * (a short write is continued, a failing one, ENOSPC or EIO, is an InputError naming the file),
 * is flushed to disk, then takes the name; on any failure the temporary file is removed.
 *
 * Without `overwrite` an existing file is never replaced. The temporary file is linked to the
 * name rather than renamed over it: `link` fails if the name exists, even if it appeared a moment
 * ago, where a check-then-rename would let the file be clobbered in between. With `overwrite`,
 * only a regular file is replaced (through a symbolic link, the file it names): a device such as
 * /dev/null, a pipe or a socket never is, even as root.
 *
 * A relative `path` is the working directory `cwd`'s; messages name it as given.
 */
export function writeFileAtomic(path: string, text: string, overwrite: boolean, cwd: string): void {
  const given = resolve(cwd, path);
  const existing = existingTarget(path, given, overwrite);
  // Through a link, the file it names is replaced, and the link stays.
  const target = existing === undefined ? given : realpathSync(given);
  let temporary: string | undefined;
  try {
    let fd: number;
    ({ fd, temporary } = openTemporary(target));
    try {
      writeAll(fd, text);
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
    temporary = undefined;
    syncFolder(dirname(target));
  } catch (error) {
    if (temporary !== undefined) removeQuietly(temporary);
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw new InputError(`${path} exists already: add --force to overwrite it`);
    throw new InputError(`cannot write ${path}: ${writeFailure(error)}`);
  }
}

/**
 * Fails early, before any work, where `writeFileAtomic` would fail at the end: `path` exists and
 * may not be replaced, is not a regular file, or has no folder to go in. `writeFileAtomic` checks
 * again at the moment of writing, where it counts. A relative `path` is the working directory `cwd`'s.
 */
export function checkOutputPath(path: string, overwrite: boolean, cwd: string): void {
  // '' resolves to the working directory itself: "it is a folder" would puzzle.
  if (path === '') throw new InputError('cannot write to an empty path: name a file');
  const folder = statOrUndefined(dirname(resolve(cwd, path)));
  if (folder === undefined) throw new InputError(`cannot write ${path}: ${WRITE_REASONS.ENOENT}`);
  if (!folder.isDirectory()) throw new InputError(`cannot write ${path}: ${WRITE_REASONS.ENOTDIR}`);
  existingTarget(path, resolve(cwd, path), overwrite);
}

/**
 * What is at the name now (following links), refused unless it is a regular file that may be
 * replaced; undefined when nothing is there.
 */
function existingTarget(path: string, absolute: string, overwrite: boolean): Stats | undefined {
  const target = statOrUndefined(absolute);
  if (target === undefined) {
    // A link to nothing: replacing it would write where the link's owner did not mean.
    if (lstatOrUndefined(absolute)?.isSymbolicLink()) throw new InputError(`cannot write ${path}: it is a symbolic link to nothing`);
    return undefined;
  }
  if (target.isDirectory()) throw new InputError(`cannot write ${path}: ${WRITE_REASONS.EISDIR}`);
  if (!target.isFile()) throw new InputError(`cannot write ${path}: it is ${otherKind(target)}, not a regular file (--force replaces regular files only)`);
  if (!overwrite) throw new InputError(`${path} exists already: add --force to overwrite it`);
  return target;
}

/** The longest file name Linux and macOS take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/**
 * Creates the temporary file beside `target`: `.NAME.PID.TIME.tmp`, its name cut (at a character
 * boundary) to keep the whole within NAME_MAX bytes, so that a target with a long name can be
 * written. `wx`: a name in use is never opened; the next one is tried.
 */
function openTemporary(target: string): { fd: number; temporary: string } {
  for (let attempt = 0; ; attempt++) {
    const suffix = `.${process.pid}.${Date.now()}${attempt === 0 ? '' : `-${attempt}`}.tmp`;
    const temporary = join(dirname(target), `.${cutToBytes(basename(target), NAME_MAX - 1 - Buffer.byteLength(suffix))}${suffix}`);
    try {
      return { fd: openSync(temporary, 'wx', 0o644), temporary };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 100) throw error;
    }
  }
}

/** `name` cut to at most `bytes` bytes of UTF-8, never inside a character. */
export function cutToBytes(name: string, bytes: number): string {
  if (Buffer.byteLength(name) <= bytes) return name;
  let kept = '';
  let size = 0;
  for (const character of name) {
    size += Buffer.byteLength(character);
    if (size > bytes) break;
    kept += character;
  }
  return kept;
}

/** The text is encoded a piece at a time: a report of hundreds of MB is never a second copy in memory. */
const PIECE_CHARS = 1 << 20;

/**
 * Writes all of `text` as UTF-8, continuing after a short write (a write may take fewer bytes than
 * asked, as on a nearly full disk, before the next fails with ENOSPC), then checks that the file
 * holds exactly the bytes written.
 */
function writeAll(fd: number, text: string): void {
  let written = 0;
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + PIECE_CHARS, text.length);
    // Never split a surrogate pair between two pieces: each half alone would be encoded as U+FFFD.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    const bytes = Buffer.from(text.slice(start, end), 'utf8');
    for (let at = 0; at < bytes.length; ) {
      const count = systemCalls.writeSync(fd, bytes, at, bytes.length - at);
      if (count <= 0) throw Object.assign(new Error('the device took no more bytes'), { code: 'EIO' });
      at += count;
    }
    written += bytes.length;
    start = end;
  }
  if (fstatSync(fd).size !== written) throw Object.assign(new Error('the file does not hold what was written'), { code: 'EIO' });
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
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

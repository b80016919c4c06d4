import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { FileRefusal, otherKind } from './file-kind.js';

/** How the caller words a file over its limit: `size` is known for a regular file, not for a pipe. */
export type TooLarge = (size: number | undefined) => string;

/**
 * The bytes of the file a user named, read whole, never more than `limit`: a regular file over it
 * is refused unread, a pipe (a FIFO, or `<(command)`, which is /dev/fd/N) once it passes it. Anything
 * else (a character or block device such as /dev/zero, a socket, a folder) is refused without
 * being opened: reading /dev/zero would never end, and opening some devices does things. Without
 * `pipes` (a file a document names, which the user did not name on purpose) a pipe is refused too:
 * one with no writer would wait forever.
 *
 * Errors are Node's own (ENOENT, EACCES, …) or a FileRefusal; readFailure words both.
 */
export function readFileBounded(path: string, limit: number, tooLarge: TooLarge, pipes = true): Uint8Array {
  refuseUnreadable(statSync(path), pipes);
  const fd = openSync(path, 'r');
  try {
    // The path may have changed between the stat and the open: what counts is what was opened.
    const opened = fstatSync(fd);
    refuseUnreadable(opened, pipes);
    if (opened.isFile() && opened.size > limit) throw new FileRefusal(tooLarge(opened.size));
    // Files under /proc and /sys say 0 and hold more: read those as a pipe is read.
    return opened.isFile() && opened.size > 0 ? readKnownSize(fd, opened.size) : readToEnd(fd, limit, tooLarge);
  } finally {
    closeSync(fd);
  }
}

/** The most a binary file (.npy, .npz, safetensors) may hold: 2 GiB, as Node's readFileSync allowed. */
export const MAX_BINARY_BYTES = 2 ** 31 - 1;

/** A .npy, .npz or safetensors file, as readFileBounded reads it, up to MAX_BINARY_BYTES. */
export function readBinaryFile(path: string, pipes = true): Uint8Array {
  return readFileBounded(path, MAX_BINARY_BYTES, () => 'it is over 2 GiB, more than Node reads into memory at once', pipes);
}

function refuseUnreadable(stats: Stats, pipes: boolean): void {
  if (stats.isFile() || (pipes && stats.isFIFO())) return;
  if (stats.isDirectory()) throw new FileRefusal('it is a directory');
  throw new FileRefusal(`it is ${otherKind(stats)}, not a file (only regular files${pipes ? ' and pipes' : ''} are read)`);
}

/** A regular file of `size` bytes; if it shrank meanwhile, what is there. */
function readKnownSize(fd: number, size: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const read = readSync(fd, bytes, filled, size - filled, null);
    if (read === 0) break;
    filled += read;
  }
  return bytes.subarray(0, filled);
}

const PIPE_CHUNK = 1 << 16;

/** Reads until the end, keeping no more than `limit` bytes: one byte past it is the refusal. */
function readToEnd(fd: number, limit: number, tooLarge: TooLarge): Uint8Array {
  let bytes = Buffer.allocUnsafe(Math.min(PIPE_CHUNK, limit + 1));
  let filled = 0;
  for (;;) {
    if (filled === bytes.length) {
      if (filled > limit) throw new FileRefusal(tooLarge(undefined));
      const grown = Buffer.allocUnsafe(Math.min(bytes.length * 2, limit + 1));
      bytes.copy(grown, 0, 0, filled);
      bytes = grown;
    }
    const read = readSync(fd, bytes, filled, bytes.length - filled, null);
    if (read === 0) return bytes.subarray(0, filled);
    filled += read;
  }
}

import type { Dirent, Stats } from 'node:fs';

/**
 * What a path names that is not a regular file, in words for a message ("a character device"),
 * or undefined for a regular file.
 */
export function otherKind(stats: Stats | Dirent): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * A file the tool will not read or write, and why, in words (`it is a character device, …`).
 * readFailure (read-failure.ts) hands the words on as they are.
 */
export class FileRefusal extends Error {
  override readonly name: string = 'FileRefusal';
}

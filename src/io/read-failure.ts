import { FileRefusal } from './file-kind.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'its symbolic links go round in a loop',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an input/output error on the device',
  ERR_FS_FILE_TOO_LARGE: 'it is over 2 GiB, more than Node reads into memory at once',
};

/** Why a file could not be read, in words, for the one-line error. */
export function readFailure(error: unknown): string {
  if (error instanceof FileRefusal) return error.message;
  return REASONS[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as Error).message;
}

/** Why a write failed (a report, a fixture, stdout), in words for the one-line error, by the error's code. */
export const WRITE_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: 'the file is too large for the file system',
  EIO: 'an input/output error on the device',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'its symbolic links go round in a loop',
};

/** Why a write failed, in words, for the one-line error. */
export function writeFailure(error: unknown): string {
  return WRITE_REASONS[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as Error).message;
}

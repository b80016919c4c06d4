import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Where an absolute `path` really is, every symbolic link resolved: two spellings of one file
 * (`fxlink/seed.json` through a link to `fixtures/`, and `fixtures/seed.json`) give one answer.
 * A file that does not exist yet is its folder's real path and its name, which is where a write
 * would put it; a folder that does not exist either is taken as written.
 */
export function realPathOf(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

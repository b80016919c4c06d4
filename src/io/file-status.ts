import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** What a path names, following links; undefined when nothing can be found there (or read). */
export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** What a path names itself, a link as a link; undefined when nothing is there. */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The path with every link resolved; undefined when some part of it does not exist. */
export function realPathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Where an absolute `path` really is, every symbolic link resolved: two spellings of one file
 * (`fxlink/seed.json` through a link to `fixtures/`, and `fixtures/seed.json`) give one answer.
 * A file that does not exist yet is its folder's real path and its name, which is where a write
 * would put it; a folder that does not exist either is taken as written.
 */
export function realPathOf(path: string): string {
  const absolute = resolve(path);
  const folder = realPathOrUndefined(dirname(absolute));
  return realPathOrUndefined(absolute) ?? (folder === undefined ? absolute : join(folder, basename(absolute)));
}

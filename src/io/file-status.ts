import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';

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

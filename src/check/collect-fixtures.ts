import { lstatSync, realpathSync, statfsSync, statSync, type Dirent, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../input-error.js';
import { otherKind } from '../io/file-kind.js';
import { readFailure } from '../io/read-failure.js';
import { systemCalls } from '../io/system-calls.js';
import { statOrUndefined, realPathOrUndefined } from '../io/file-status.js';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/** A file `check` found, or something in its way that the run reports as an ERROR line. */
export interface FixtureFile {
  /** As the user would name it: a folder's files under the folder as given. */
  readonly path: string;
  /** Where it really is (links resolved): each real file is listed once, and reports are kept off it. */
  readonly real?: string;
  /** Why it is not read: a link out of the folder or round in a loop, not a regular file, an unreadable folder. */
  readonly refused?: string;
}

/**
 * The fixture files that `check <paths…>` names: files as given, folders searched recursively
 * for `*.json` (skipping `node_modules` and hidden folders), and glob patterns, which the shell
 * may have left unexpanded when quoted. A path that matches nothing is an input error, so a typo
 * cannot turn into an empty, passing suite. The list is sorted, each real file in it once. Relative
 * paths and patterns are the working directory `cwd`'s, and so are the files found from them: each
 * is named as the user would (a folder's files under the folder as given), not made absolute.
 *
 * A fixture folder comes from a pull request as often as not, so what is in it is not trusted: only
 * its regular files are read, symbolic links are followed only within the folder given (a link out
 * of it, to /etc/shadow or /proc/self/environ, is refused and never read), a link back to a folder
 * above it (`up -> ..`) is refused as the loop it is, and a folder that cannot be read is reported,
 * not fatal. Each of these is an entry with `refused` set, which the run reports as an ERROR line.
 */
export async function collectFixturePaths(paths: readonly string[], cwd: string): Promise<FixtureFile[]> {
  const found = new Map<string, FixtureFile>();
  for (const path of paths) {
    for (const file of await expand(path, cwd)) {
      const key = file.refused === undefined && file.real !== undefined ? file.real : `refused ${file.path}`;
      if (!found.has(key)) found.set(key, file);
    }
  }
  // Plain code-unit order: the same on every machine and locale.
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function expand(path: string, cwd: string): Promise<FixtureFile[]> {
  const absolute = resolve(cwd, path);
  const stats = statOrUndefined(absolute);
  // Named on purpose: a file, or a pipe (`check <(gen-fixture)`), is read; a device is not.
  if (stats?.isFile() || stats?.isFIFO()) return [{ path, real: realpathSync(absolute) }];
  if (stats?.isDirectory()) {
    const files = walkFolder(path, absolute);
    if (files.length === 0) throw new InputError(`no *.json fixture under ${path}`);
    return files;
  }
  if (stats !== undefined) return [{ path, refused: notAFile(stats, '') }];
  if (GLOB_CHARACTERS.test(path)) {
    const files = await expandPattern(path, cwd);
    if (files.length === 0) throw new InputError(`no fixture matches ${JSON.stringify(path)}`);
    return files;
  }
  throw new InputError(`cannot read ${path}: no such file or folder`);
}

interface Folder {
  /** As the user would name it. */
  readonly shown: string;
  readonly real: string;
}

interface Link {
  readonly shown: string;
  /** The link's own absolute path (its folder real). */
  readonly at: string;
  /** The real path of the folder the link is in. */
  readonly folder: string;
}

/**
 * Every *.json under `shown` (absolute: `absolute`), each real file once. The folder's own
 * subfolders are walked first, without following links, so that a file is named by its real place
 * when a link also leads to it; then the links, each followed only if it stays inside the folder
 * given and leads to a folder not walked yet. Folders are walked from a list, not by recursion, so
 * that depth cannot overflow the stack.
 */
function walkFolder(shown: string, absolute: string): FixtureFile[] {
  const root = realpathSync(absolute);
  const files: FixtureFile[] = [];
  const walked = new Set<string>([root]);
  const folders: Folder[] = [{ shown, real: root }];
  const links: Link[] = [];
  let followed = 0;
  const refuse = (path: string, why: string): void => {
    files.push({ path, refused: why });
  };

  for (;;) {
    const folder = folders.pop();
    if (folder !== undefined) {
      for (const dirent of readFolder(folder, refuse)) {
        if (isSkipped(dirent.name)) continue;
        const next: Folder = { shown: join(folder.shown, dirent.name), real: join(folder.real, dirent.name) };
        const entry = typeOf(dirent, next.real);
        if (entry === undefined) continue;
        if (entry.isSymbolicLink()) links.push({ shown: next.shown, at: next.real, folder: folder.real });
        else if (entry.isDirectory()) {
          if (!isKernelFileSystem(next.real)) {
            walked.add(next.real);
            folders.push(next);
          }
        } else if (isFixtureName(dirent.name)) {
          if (entry.isFile()) files.push({ path: next.shown, real: next.real });
          else refuse(next.shown, notAFile(entry, ': only regular files are read from a folder'));
        }
      }
      continue;
    }
    // Links wait until the folder's own tree is walked; one may lead to more folders, and so more links.
    const link = links[followed++];
    if (link === undefined) break;
    let target: string;
    let stats: Stats;
    try {
      target = realpathSync(link.at);
      stats = statSync(target);
    } catch (error) {
      if (isFixtureName(link.shown)) refuse(link.shown, `a symbolic link that cannot be followed: ${brokenLink(error)}`);
      continue;
    }
    if (!stats.isDirectory() && !isFixtureName(link.shown)) continue;
    if (!isInside(root, target)) {
      refuse(link.shown, `a symbolic link that leads outside ${shown}, the folder given: not followed`);
    } else if (stats.isDirectory()) {
      if (isInside(target, link.folder)) refuse(link.shown, 'a symbolic link back to a folder above it, a loop: not followed');
      else if (!walked.has(target) && !isKernelFileSystem(target)) {
        walked.add(target);
        folders.push({ shown: link.shown, real: target });
      }
    } else if (stats.isFile()) {
      files.push({ path: link.shown, real: target });
    } else {
      refuse(link.shown, notAFile(stats, ': only regular files are read from a folder'));
    }
  }
  return files;
}

/**
 * What an entry is, from the folder's listing where the file system says (d_type), else from
 * lstat; undefined when it vanished meanwhile.
 */
function typeOf(dirent: Dirent, path: string): Dirent | Stats | undefined {
  const known = [dirent.isFile(), dirent.isDirectory(), dirent.isSymbolicLink(), dirent.isFIFO(), dirent.isSocket(), dirent.isCharacterDevice(), dirent.isBlockDevice()];
  if (known.some(Boolean)) return dirent;
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** A folder's entries in name order; one that cannot be read is refused (one that vanished meanwhile is let go). */
function readFolder(folder: Folder, refuse: (path: string, why: string) => void): Dirent[] {
  try {
    return systemCalls.readdirSync(folder.real, { withFileTypes: true, encoding: 'utf8' }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') refuse(folder.shown, `cannot read this folder: ${readFailure(error)}`);
    return [];
  }
}

/**
 * A glob pattern's matches: regular files, reached through no link (tinyglobby lists neither links
 * to files nor what is under links to folders when it does not follow them). Following them, one
 * link to `/` made every .json on the machine a match, each an ERROR line and an annotation; a
 * folder named instead of a pattern follows links within itself. What still matches outside the
 * pattern's own folder (the part before its first wildcard) or is not a regular file is refused.
 */
async function expandPattern(pattern: string, cwd: string): Promise<FixtureFile[]> {
  // Loaded only for patterns: most runs name folders, and every import costs start-up time.
  const { glob } = await import('tinyglobby');
  const matches = await glob(pattern, { cwd, onlyFiles: true, expandDirectories: false, absolute: isAbsolute(pattern), followSymbolicLinks: false });
  const base = patternFolder(pattern);
  const baseReal = realPathOrUndefined(resolve(cwd, base));
  // Through links (`up -> ..`) one file matches under several names: each real file once, by its shortest name.
  const byReal = new Map<string, FixtureFile>();
  for (const path of [...matches].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0))) {
    const absolute = resolve(cwd, path);
    const stats = statOrUndefined(absolute);
    const real = realPathOrUndefined(absolute);
    let file: FixtureFile;
    if (stats === undefined || real === undefined) file = { path, refused: 'a symbolic link that cannot be followed' };
    else if (baseReal === undefined || !isInside(baseReal, real)) file = { path, refused: `a symbolic link that leads outside ${base}, the pattern's folder: not followed` };
    else if (!stats.isFile()) file = { path, refused: notAFile(stats, ': only regular files are read from a pattern') };
    else file = { path, real };
    const key = real ?? absolute;
    if (!byReal.has(key)) byReal.set(key, file);
  }
  return [...byReal.values()];
}

/** The folder a pattern searches: its segments before the first one with a wildcard. */
function patternFolder(pattern: string): string {
  const segments = pattern.split('/');
  const fixed = segments.slice(0, segments.findIndex((segment) => GLOB_CHARACTERS.test(segment)));
  if (fixed.length === 0) return '.';
  return fixed.join('/') === '' ? '/' : fixed.join('/');
}

function isFixtureName(path: string): boolean {
  return path.endsWith('.json');
}

function isSkipped(name: string): boolean {
  return name === 'node_modules' || (name.startsWith('.') && name.length > 1);
}

/** Whether `path` is `folder` or inside it; both real, absolute paths. */
function isInside(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest === '' || (!rest.startsWith(`..${sep}`) && rest !== '..' && !isAbsolute(rest));
}

function notAFile(stats: Stats | Dirent, why: string): string {
  return `it is ${otherKind(stats)}, not a fixture file${why}`;
}

function brokenLink(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'what it names does not exist';
  return readFailure(error);
}

/**
 * The kernel's own file systems (/proc, /sys and the like) hold no fixtures, and walking them
 * means links to every process's root and working folder: `check /` leaves them out. Their
 * magic numbers are statfs(2)'s f_type (linux/magic.h). /dev is devtmpfs, which statfs reports as
 * tmpfs; it is walked, and its device files are not read.
 */
const KERNEL_FILE_SYSTEMS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x1cd1, // devpts
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
  0x6165676c, // pstore
  0xcafe4a11, // bpf
  0x62656570, // configfs
  0x65735543, // fusectl
  0x19800202, // mqueue
  0x42494e4d, // binfmt_misc
  0xde5e81e4, // efivarfs
  0xf97cff8c, // selinuxfs
]);

function isKernelFileSystem(folder: string): boolean {
  try {
    return KERNEL_FILE_SYSTEMS.has(Number(statfsSync(folder).type));
  } catch {
    return false;
  }
}



import { readFileSync } from 'node:fs';
import { InputError } from '../input/input-error.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/** The text of `--input`: a file, or stdin for `-`. */
export function readInputFile(path: string): { text: string; label: string } {
  const label = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot read --input ${label}: ${REASONS[code] ?? (error as Error).message}`);
  }
  if (text.trim() === '') throw new InputError(`--input ${label} is empty`);
  return { text, label };
}

import { readFile } from 'node:fs/promises';
import { InputError } from '../input/input-error.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * The text of `--input`: a file, or stdin for `-`. Stdin is read as a stream: a synchronous read
 * of fd 0 fails with EAGAIN when a pipe has no data yet.
 */
export async function readInputFile(path: string): Promise<{ text: string; label: string }> {
  const label = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = path === '-' ? await readStream(process.stdin) : await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot read --input ${label}: ${REASONS[code] ?? (error as Error).message}`);
  }
  if (text.trim() === '') throw new InputError(`--input ${label} is empty`);
  return { text, label };
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) text += chunk as string;
  return text;
}

import { readFile } from 'node:fs/promises';
import { InputError } from '../input/input-error.js';
import { readFailure } from './read-failure.js';

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
    throw new InputError(`cannot read --input ${label}: ${readFailure(error)}`);
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

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../input-error.js';
import { MAX_TEXT_BYTES, textSizeProblem } from '../input/text-size-limit.js';
import type { Surroundings } from './surroundings.js';
import { FileRefusal, otherKind } from './file-kind.js';
import { readFailure } from './read-failure.js';

/**
 * The text of `--input`: a file (relative to the working directory, named as given), or
 * stdin for `-`. Stdin is read as a stream: a synchronous read of fd 0 fails with EAGAIN when
 * a pipe has no data yet.
 */
export async function readInputFile(path: string, io: Surroundings): Promise<{ text: string; label: string }> {
  const label = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = path === '-' ? await readStream(io.stdin, label) : await readRegularOrStream(resolve(io.cwd, path), label);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read --input ${label}: ${readFailure(error)}`);
  }
  if (text.trim() === '') throw new InputError(`--input ${label} is empty`);
  return { text, label };
}

/**
 * A regular file's size is known before reading it: one over the limit is refused unread. A pipe
 * (`--input <(python dump.py)` is /dev/fd/63) has none and is read up to the limit. Anything else
 * (/dev/zero, a socket) is refused unopened, as readFileBounded refuses it.
 */
async function readRegularOrStream(path: string, label: string): Promise<string> {
  const info = await stat(path);
  if (info.isFIFO()) return readStream(createReadStream(path), label);
  if (info.isDirectory()) throw new FileRefusal('it is a directory');
  if (!info.isFile()) throw new FileRefusal(`it is ${otherKind(info)}, not a file (only regular files and pipes are read)`);
  if (info.size > MAX_TEXT_BYTES) throw new InputError(`--input ${label} ${textSizeProblem(info.size)}`);
  return readFile(path, 'utf8');
}

/** Reads until the end or the limit, whichever comes first; past the limit it stops reading. */
async function readStream(stream: NodeJS.ReadableStream, label: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_TEXT_BYTES) throw new InputError(`--input ${label} ${textSizeProblem(undefined)}`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

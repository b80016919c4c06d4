import { CHUNK_CHARS } from './json-text.js';

/** Where streamed text goes: the CLI's stdout (process.stdout for the real process), or a test's buffer. */
export interface JsonSink {
  write(text: string): unknown;
}

/** What of a Node stream `writeChunks` uses to wait for 'drain', found on the sink when it has it. */
interface DrainableSink {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly destroyed?: boolean;
}

/**
 * Writes `chunks` to `sink`, gathered into writes of about CHUNK_CHARS (64 kB) characters. When
 * `write` returns false (a Node stream whose buffer is full: a slow pipe) the next write waits
 * for 'drain', so the text never piles up in memory; a sink without events is written straight on.
 * Rejects if the stream fails or closes before the text is written.
 */
export async function writeChunks(sink: JsonSink, chunks: Iterable<string>): Promise<void> {
  let pending = '';
  for (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= CHUNK_CHARS) {
      await put(sink, pending);
      pending = '';
    }
  }
  if (pending.length > 0) await put(sink, pending);
}

async function put(sink: JsonSink, text: string): Promise<void> {
  if (sink.write(text) === false) await drained(sink);
}

function drained(sink: JsonSink): Promise<void> {
  if (!isDrainable(sink)) return Promise.resolve();
  if (sink.destroyed === true) return Promise.reject(new Error('the output was closed before the report was written'));
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      sink.removeListener('drain', onDrain);
      sink.removeListener('error', onError);
      sink.removeListener('close', onClose);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onDrain = () => settle();
    const onError = (error: unknown) => settle(error ?? new Error('the output failed'));
    const onClose = () => settle(new Error('the output was closed before the report was written'));
    sink.once('drain', onDrain);
    sink.once('error', onError);
    sink.once('close', onClose);
  });
}

function isDrainable(sink: JsonSink): sink is JsonSink & DrainableSink {
  const events = sink as Partial<DrainableSink>;
  return typeof events.once === 'function' && typeof events.removeListener === 'function';
}

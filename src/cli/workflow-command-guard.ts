import type { Io } from './io.js';

/**
 * The last guard under GitHub Actions: no line the tool writes to stdout or stderr can be read by
 * the runner as a workflow command (`::add-mask::`, `::stop-commands::`, `::set-output`, …) except
 * the `::error` annotations the tool writes itself, through `writeWorkflowCommand`. Text from files
 * is made printable where it is rendered; this is for whatever a renderer missed.
 *
 * How the runner reads a line (actions/runner, read through the search tool):
 * - src/Runner.Sdk/ProcessInvoker.cs reads the step's stdout and stderr alike with
 *   StreamReader.ReadLine, which ends a line at LF, at CR, and at CR LF; both streams go to
 *   OutputManager.OnDataReceived (src/Runner.Worker/Handlers/ScriptHandler.cs), which hands every
 *   line holding `##[` or `::` to ActionCommandManager.TryProcessCommand.
 * - ActionCommand.TryParseV2 (src/Runner.Common/ActionCommand.cs) calls `message.TrimStart()`
 *   ("the message needs to start with the keyword after trim leading space"), then requires the
 *   line to start with `::`. .NET's TrimStart() removes every Char.IsWhiteSpace character: tab to
 *   CR, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
 * - When that fails, the legacy ActionCommand.TryParse is still tried: it looks for `##[`
 *   ANYWHERE in the line (message.IndexOf("##[")), takes the name up to `]`, and runs the command
 *   when the name is registered (case-insensitively: add-mask, stop-commands, set-output, error,
 *   …, and the token after a stop-commands).
 *
 * So the guard escapes, as printable() spells escapes:
 * - the first `:` of a `::` that starts a line after leading characters the runner may trim
 *   (taken wider than .NET's whitespace: every control, zero-width and bidirectional character,
 *   U+FEFF, so that no runner version's trimming can reach a `::`), as `\u003a`;
 * - the `[` of every `##[`, wherever it is in a line, as `\u005b`.
 * Inside a JSON string both spellings are JSON escapes of the same character, so a JSON report on
 * stdout keeps its meaning; the tool's own text never holds either form. A chunk that ends in a
 * line's first `:` cannot wait for the next one: that `:` is escaped too.
 */
export function guardWorkflowCommands(io: Io): Io {
  return { ...io, stdout: guarded(io.stdout), stderr: guarded(io.stderr) };
}

/**
 * Writes one of the tool's own workflow commands (a line built with workflowCommand(), every part
 * escaped), past the guard when `stream` is a guarded one.
 */
export function writeWorkflowCommand(stream: Writable, line: string): void {
  const past = bypass.get(stream);
  if (past === undefined) stream.write(line);
  else past(line);
}

interface Writable {
  write(text: string): unknown;
}

/** For each guarded stream, a write past its guard. */
const bypass = new WeakMap<object, (line: string) => void>();

/** Characters TrimStart may trim, and more: whitespace, controls, zero-width and bidi characters, BOM. */
const LEAD = '[\\s\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]';
/** A line's first `:` followed by another, or by the end of the chunk; `^` only where a line starts the chunk. */
const COMMAND_AFTER_BREAK = new RegExp(`([\\r\\n]${LEAD}*):(?=:|$)`, 'g');
const COMMAND_AT_START = new RegExp(`^(${LEAD}*):(?=:|$)`);
const ONLY_LEAD = new RegExp(`^${LEAD}*$`);
const LEGACY = /##\[/g;

/**
 * `stream` behind the guard: its write() escapes as described above; everything else (isTTY,
 * 'drain' and 'error' events, destroyed) is the stream's own, so streamed reports and the
 * stream's error handling work as before.
 */
function guarded<T extends Writable>(stream: T): T {
  // Where the previous write left the current line: only trimmable characters so far (or nothing),
  // and how many `#` it ended with (0–2), so that `::` and `##[` split across writes are caught.
  let atLead = true;
  let hashes = 0;
  const write = (chunk: unknown, ...rest: unknown[]): unknown => {
    let text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const carried = '#'.repeat(hashes);
    text = (carried + text).replace(LEGACY, '##\\u005b').slice(carried.length);
    text = text.replace(COMMAND_AFTER_BREAK, '$1\\u003a');
    if (atLead) text = text.replace(COMMAND_AT_START, '$1\\u003a');
    const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    atLead = (lastBreak >= 0 || atLead) && ONLY_LEAD.test(text.slice(lastBreak + 1));
    let trailing = 0;
    while (trailing < text.length && text.charCodeAt(text.length - 1 - trailing) === 0x23) trailing++;
    hashes = Math.min(2, trailing === text.length ? hashes + trailing : trailing);
    return Reflect.apply(stream.write, stream, [text, ...rest]) as unknown;
  };
  const proxy = new Proxy(stream, {
    get(target, property) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  bypass.set(proxy, (line) => {
    stream.write(line);
    // The guard's reading of the line resumes after this one.
    atLead = /[\r\n]$/.test(line);
    hashes = 0;
  });
  return proxy;
}

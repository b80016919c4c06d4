import type { CheckRun } from '../check/run-check.js';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';
import { printable } from '../printable.js';

const MARK = { pass: '✅ PASS', fail: '❌ FAIL', error: '⚠️ ERROR' } as const;

export interface MarkdownOptions {
  /**
   * The most bytes (UTF-8) the report may take: rows past it are counted, not listed. GitHub
   * refuses a step summary over 1 MiB, and a suite of ten thousand fixtures would pass that.
   */
  readonly maxBytes?: number;
}

/**
 * A summary table in GitHub-flavoured Markdown, fit for `$GITHUB_STEP_SUMMARY`: a heading with the
 * counts, then one row per fixture with what went wrong, failures first so they are seen (and
 * kept when `maxBytes` cuts the list short). No table when there are no fixtures.
 */
export function renderCheckMarkdown(run: CheckRun, options: MarkdownOptions = {}): string {
  const heading = `### softmax-verify check — ${summaryLine(run)}`;
  if (run.outcomes.length === 0) return `${heading}\n`;
  const order = { error: 0, fail: 1, pass: 2 } as const;
  const rows = [...run.outcomes]
    .sort((a, b) => order[a.status] - order[b.status])
    .map((outcome) => {
      const shape = outcome.status === 'error' ? '' : formatShape(outcome.shape);
      const dtype = outcome.status === 'error' ? '' : outcome.dtype;
      // `<br>` joins the detail lines on purpose: a table cell holds no line break.
      const details = outcomeDetails(outcome).map(markdownText).join('<br>');
      return `| ${MARK[outcome.status]} | ${markdownText(outcome.name)} | ${shape} | ${dtype} | ${markdownText(outcome.path)} | ${details} |`;
    });
  const lines = [heading, '', '| result | fixture | shape | dtype | file | details |', '| --- | --- | --- | --- | --- | --- |'];
  // Room kept for the closing note on what was left out.
  let budget = (options.maxBytes ?? Infinity) - byteLength(lines.join('\n')) - 200;
  let listed = 0;
  for (const row of rows) {
    budget -= byteLength(row) + 1;
    if (budget < 0) break;
    lines.push(row);
    listed++;
  }
  if (listed < rows.length) {
    lines.push('', `${rows.length - listed} more fixtures not listed here, to keep within the size limit; \`--markdown FILE\` writes them all.`);
  }
  return [...lines, ''].join('\n');
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Text from a file or a user (a name, a path, an error quoting them) as GitHub-flavoured Markdown
 * shows it, inert, in a table cell: what it holds is shown, nothing in it acts.
 *
 * Escaped rather than put in code spans: the detail lines mix the tool's words with quoted text,
 * `<br>` must stay live between them, and HTML entities (which keep the text free of any `<`) are
 * not decoded inside a code span.
 * - printable() first: no CR or LF (a CR or a `<!--` once hid every row after it), no controls.
 * - `&`, `<`, `>` as entities: no raw HTML (`<img onerror>`, comments), no `<http://…>` autolink.
 * - A backslash before `\`, `` ` ``, `*`, `_`, `~`, `[`, `]` and `|`: no code span can open (so
 *   backticks cannot unbalance anything), no emphasis, link, image, reference definition or
 *   footnote; the cell's `|` stays in the cell; the text's own backslashes escape nothing of ours.
 * - GFM's extended autolinks (bare `http://…`, `ftp://…`, `www.…`, `a@b.c`): cmark-gfm finds the
 *   first two by the literal `://` and `www.` in the source, so `\:` before `//` and `\.` after
 *   `www` break them; an address it finds after parsing, in the text with its escapes removed, so
 *   each run of `@` goes into a code span of its own (no backtick in it, none around it unescaped),
 *   which splits the text; GitHub's @mention links skip code too. Checked with cmark-gfm
 *   0.29.0.gfm.6 (Debian's), tables, autolink and tagfilter on.
 */
export function markdownText(text: string): string {
  return printable(text).replace(MARKDOWN_ACTIVE, (c) => ENTITY[c] ?? (c.startsWith('@') ? `\`${c}\`` : `\\${c}`));
}

const MARKDOWN_ACTIVE = /[\\`*_~[\]|&<>]|@+|:(?=\/\/)|(?<=www)\./gi;
const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

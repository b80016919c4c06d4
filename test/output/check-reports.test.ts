import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../../src/check/run-check.js';
import { renderCheckJson } from '../../src/output/check-json.js';
import { escapeAttribute, escapeXml, renderCheckJunit } from '../../src/output/check-junit.js';
import { markdownText, renderCheckMarkdown } from '../../src/output/check-markdown.js';
import { renderOutcomeText } from '../../src/output/check-text.js';
import { PLAIN } from '../../src/output/render-text.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureText } from '../helpers/fixtures.js';
import { folderWith } from '../helpers/temp-dir.js';

const root = folderWith({
  'a.json': fixtureText('seed.json'),
  'b.json': 'not json <&>',
  'c.json': editedFixture('batch-4x7-dim-last.json', (doc) => {
    doc.name = 'tampered "<batch>" & co';
    doc.expected.grad[3][6] += 0.01;
  }),
});
const run = await runCheck(['a.json', 'b.json', 'c.json'].map((f) => join(root, f)), {});

describe('JUnit report', () => {
  const xml = renderCheckJunit(run);

  test('is valid XML', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  test('reads back with one testsuite, a testcase per fixture and the right counts', () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect([suite.tests, suite.failures, suite.errors]).toEqual(['3', '1', '1']);
    expect(suite.testcase.map((c: { name: string }) => c.name)).toEqual([
      'seed [9] float64',
      'b',
      'tampered "<batch>" & co [4, 7] float64',
    ]);
    expect(suite.testcase[1].error.message).toBe('invalid JSON at line 1, column 1: expected a value, found "n"');
    expect(suite.testcase[2].failure.message).toBe(
      'grad, expected vs exact: mismatched 1 / 28 (3.6%); worst [3, 6]: expected 0.0183858, exact 0.00838582, ' +
        '|a − b| 0.01 is 9.87e4 times the 1.01e-7 allowed (atol 1e-7 + rtol·|b| 8.39e-10 + rtol·s_i Σ s_j|g_j| 5.19e-10 + arithmetic 6.94e-17); ' +
        'likely: 1 element off (gradient[3, 6]), the rest within rounding: a race, or a stale or unwritten element: explains 1 of 1 failing element [isolated-elements]',
    );
    expect(suite.testcase[2].failure['#text']).toContain("\nexpected: 1 / 4 slices sum beyond what rounding allows; worst, the gradient's |Σ dx| in [3, :]");
  });

  test('escapes the characters XML cannot carry', () => {
    expect(escapeXml('a<b>&"c\'\u0001\n')).toBe('a&lt;b&gt;&amp;&quot;c&apos;\uFFFD\n');
    expect(escapeAttribute('line 1\nline 2')).toBe('line 1&#10;line 2');
    expect(XMLValidator.validate(`<a b="${escapeAttribute('\u0000\uD800x')}">${escapeXml('\u0007')}</a>`)).toBe(true);
  });
});

describe('JSON report', () => {
  test('carries a version, the counts and every fixture with its status', () => {
    const doc = JSON.parse(renderCheckJson(run, { name: 'softmax-verify', version: '1.2.3' }));
    expect(doc.format).toBe('softmax-verify.check/v1');
    expect(doc.summary).toMatchObject({ total: 3, passed: 1, failed: 1, errored: 1, notRun: 0 });
    expect(doc.fixtures.map((f: { status: string }) => f.status)).toEqual(['pass', 'error', 'fail']);
    expect(doc.fixtures[2].comparisons.filter((c: { passed: boolean }) => !c.passed)).toHaveLength(1);
    // Comparisons run softmax then grad; the fourth is grad, expected vs exact.
    const judged = doc.fixtures[2].comparisons[3];
    expect(judged).toMatchObject({ quantity: 'grad', actual: 'expected', expected: 'exact', mismatched: 1, failuresOmitted: 0 });
    expect(judged.greatestAbsoluteDifference.index).toEqual([3, 6]);
    expect(judged.failures).toHaveLength(1);
    expect(judged.failures[0].index).toEqual([3, 6]);
    expect(judged.failures[0].allowed).toBeCloseTo(1.01e-7, 9);
    expect(doc.fixtures[2].invariants.expected.flaggedSlices).toBe(1);
  });
});

describe('Markdown summary', () => {
  test('is a table with the failures first, the names HTML-escaped and pipes escaped', () => {
    const md = renderCheckMarkdown(run).split('\n');
    expect(md[0]).toMatch(/^### softmax-verify check — 3 fixtures: 1 passed, 1 failed, 1 errored in \d+\.\d\d s$/);
    expect(md[2]).toBe('| result | fixture | shape | dtype | file | details |');
    expect(md[4]).toMatch(/^\| ⚠️ ERROR \| b \|/);
    expect(md[5]).toMatch(/^\| ❌ FAIL \| tampered "&lt;batch&gt;" &amp; co \| \[4, 7\] \| float64 \| \S+c\.json \| grad, expected vs exact: .*\\\|a − b\\\| /);
    expect(md[6]).toMatch(/^\| ✅ PASS \| seed \| \[9\] \| float64 \|/);
  });

  test('within maxBytes, keeps the failures and counts the rows it leaves out', () => {
    const full = renderCheckMarkdown(run);
    const errorRow = full.split('\n')[4];
    // Room for the heading, the table header, the error row and the closing note, not the rest.
    const maxBytes = Buffer.byteLength(full.split('\n').slice(0, 5).join('\n')) + 210;
    const md = renderCheckMarkdown(run, { maxBytes }).split('\n');
    expect(md.slice(4)).toEqual([errorRow, '', '2 more fixtures not listed here, to keep within the size limit; `--markdown FILE` writes them all.', '']);
    expect(Buffer.byteLength(md.join('\n'))).toBeLessThanOrEqual(maxBytes);
  });

  test('has no table for a run with no fixtures', async () => {
    const empty = await runCheck([], {});
    expect(renderCheckMarkdown(empty)).toMatch(/^### softmax-verify check — 0 fixtures: 0 passed, 0 failed, 0 errored in \d+\.\d\d s\n$/);
  });
});

describe('markdownText', () => {
  test.each([
    ['evil\r\r<!--', 'evil\\\\u000d\\\\u000d&lt;!--'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['[link](http://evil.example)', '\\[link\\](http\\://evil.example)'],
    ['![img](http://evil.example/x.png)', '!\\[img\\](http\\://evil.example/x.png)'],
    ['[ref]: https://evil.example', '\\[ref\\]: https\\://evil.example'],
    ['<https://evil.example>', '&lt;https\\://evil.example&gt;'],
    ['WWW.evil.example www.x', 'WWW\\.evil.example www\\.x'],
    ['me@evil.example @@user', 'me`@`evil.example `@@`user'],
    ['`a` ``b``', '\\`a\\` \\`\\`b\\`\\`'],
    ['a|b\\|c\\', 'a\\|b\\\\\\|c\\\\'],
    ['*em* _u_ ~~s~~', '\\*em\\* \\_u\\_ \\~\\~s\\~\\~'],
    ['&amp; &#60;', '&amp;amp; &amp;#60;'],
    ['plain name 1.5 (x, y): ok', 'plain name 1.5 (x, y): ok'],
  ])('%j', (raw, escaped) => {
    expect(markdownText(raw)).toBe(escaped);
  });
});

describe('text lines', () => {
  test('name the fixture, its shape, dtype and verdict, then why it failed', () => {
    const lines = renderOutcomeText(run.outcomes[2], PLAIN).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FAIL {3}tampered "<batch>" & co {3}\[4, 7\] float64 +\S+c\.json$/);
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(['grad, expected vs exact', 'expected', 'likely']);
  });
});

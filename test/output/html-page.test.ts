/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { judge } from '../../src/core/judge.js';
import type { VerifyInput } from '../../src/core/report.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { runAccurateMethod } from '../../src/ops/softmax/pipelines.js';
import { renderCheckHtml, renderReportHtml, text } from '../../src/output/render-html.js';
import { JACOBIAN_LEFT_OUT } from '../helpers/left-out.js';

/**
 * A kernel whose gradient is off only in the last 4 of 16 slices, in their last 64 of 256 elements
 * (a tail block gone wrong): the page's map must show its failing region there and nowhere else.
 */
function tailBlockBug(): VerifyInput {
  const shape = [16, 256];
  const store = arithmeticFor('float32').store;
  const x = Float64Array.from({ length: 4096 }, (_, i) => store(3 * Math.sin(i * 0.7) + Math.cos(i * 0.13)));
  const g = Float64Array.from({ length: 4096 }, (_, i) => store(1 + Math.cos(i * 0.31)));
  const right = runAccurateMethod(x, g, sliceLayout(shape, 1), arithmeticFor('float32'));
  const grad = right.grad.map((v, i) => (Math.floor(i / 256) >= 12 && i % 256 >= 192 ? store(v + 0.01) : v));
  return { op: 'softmax', label: 'tail block <bug> & co', x: { shape, data: x }, g: { shape, data: g }, dim: -1, axis: 1, dtype: 'float32', expected: { forward: right.forward, grad } };
}

const report = judge(tailBlockBug(), { jacobianSkipped: JACOBIAN_LEFT_OUT });

describe('the HTML page, as text', () => {
  test('the failing comparison comes first, its map marks failing cells only in the planted block, and text from the input is escaped', () => {
    const html = renderReportHtml(report);
    // Nothing to run and nothing to fetch: it opens from a CI artifact as it is.
    expect(/<script|(?:src|href)="https?:/.test(html)).toBe(false);
    expect(html).toContain('<h1>softmax-verify: tail block &#60;bug&#62; &#38; co</h1>');
    // An offset in one block is no bug of the catalogue: the page names none.
    expect(html).not.toContain('class="likely"');
    const map = html.slice(html.indexOf('<svg id="map-0"'), html.indexOf('</svg>', html.indexOf('<svg id="map-0"')));
    // The map is 16 rows × 128 columns (256 elements pooled by two), 768 wide, 18 high a row.
    const failing = [...map.matchAll(/<rect x="([\d.]+)" y="([\d.]+)"[^>]*class="fail"/g)].map(([, x, y]) => [Number(x), Number(y)]);
    expect(failing).toHaveLength(4 * 32);
    expect(failing.every(([x, y]) => x >= 0.75 * 768 - 0.01 && y >= 12 * 18 - 0.01)).toBe(true);
  });

  test('a run failing only its sums says so, and a non-finite mismatch fills its own bar of the histogram', () => {
    const base: VerifyInput = { op: 'softmax', label: 'sums', x: { shape: [4], data: new Float64Array(4) }, g: { shape: [4], data: new Float64Array(4) }, dim: -1, axis: 0, dtype: 'float64', forwardOnly: true, expected: { forward: Float64Array.of(0.25000005, 0.25000005, 0.25000005, 0.25000005) } };
    const sums = renderReportHtml(judge(base));
    expect(sums).toContain(`<p class="verdict fail">FAIL: the expected values&#39; sums (1 / 1 slices)</p>`);
    const nan = renderReportHtml(judge({ ...base, expected: { forward: Float64Array.of(0.25, NaN, 0.25, 0.25) } }));
    expect(nan).toContain('<title>NaN·∞ ulps: 1</title>');
    expect(nan).toContain('<title>more ulps: 0</title>');
  });

  test('text from a file is made printable and cannot open a tag', () => {
    expect(text('a\u001b[31m<img src=x onerror=alert(1)>"')).toBe('a\\u001b[31m&#60;img src=x onerror=alert(1)&#62;&#34;');
  });
});

/** Debian's chromium on PATH (installed by .ci/run when missing), or the one SOFTMAX_VERIFY_CHROMIUM names. */
const CHROMIUM =
  process.env.SOFTMAX_VERIFY_CHROMIUM ??
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((folder) => join(folder, 'chromium'))
    .find((path) => existsSync(path)) ??
  'chromium (not on PATH)';

describe('the HTML page, in a real browser', () => {
  let browser: Browser;
  let folder: string;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium, or set SOFTMAX_VERIFY_CHROMIUM (docs/development.md)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    folder = mkdtempSync(join(tmpdir(), 'softmax-verify-html-'));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  /** The page opened from a file, as a CI artifact is, with what it logged as errors. */
  async function open(html: string) {
    const path = join(folder, `page-${Math.random().toString(36).slice(2)}.html`);
    writeFileSync(path, html);
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('requestfailed', (request) => errors.push(`request ${request.url()}`));
    await page.goto(`file://${path}`);
    return { page, errors };
  }

  test('loads with no error, and the red of the map is where the planted bug is', async () => {
    const { page, errors } = await open(renderReportHtml(report));
    const map = page.locator('#map-0');
    const png = (await map.screenshot()).toString('base64');
    // What the screenshot shows: the bounding box of its red pixels, as fractions of the map.
    const red = await page.evaluate(async (data) => {
      const image = new Image();
      image.src = `data:image/png;base64,${data}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [image.width, image.height];
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          const [r, g, b] = [pixels[4 * (y * image.width + x)], pixels[4 * (y * image.width + x) + 1], pixels[4 * (y * image.width + x) + 2]];
          if (r > 150 && g < 110 && b < 110) [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
        }
      }
      return { left: left / image.width, top: top / image.height, right: (right + 1) / image.width, bottom: (bottom + 1) / image.height };
    }, png);
    await page.close();
    expect(errors).toEqual([]);
    // Rows 12–15 of 16, columns 192–255 of 256: within a pixel or two of the border.
    expect(red.left).toBeCloseTo(0.75, 2);
    expect(red.top).toBeCloseTo(0.75, 1);
    expect(red.right).toBeGreaterThan(0.99);
    expect(red.bottom).toBeGreaterThan(0.99);
  }, 60_000);

  test("check's page: a row per fixture, and a map for the failing one", async () => {
    const failing = { path: 'fixtures/tail.json', name: 'tail', status: 'fail', shape: [16, 256], dtype: 'float32', report, seconds: 0.1 } as const;
    const passing = { path: 'fixtures/ok.json', name: 'ok', status: 'pass', shape: [16, 256], dtype: 'float32', report: judge({ ...tailBlockBug(), expected: undefined }), seconds: 0.1 } as const;
    const run = { outcomes: [passing, failing], counts: { passed: 1, failed: 1, errored: 0 }, seconds: 0.2, notRun: 0 };
    const { page, errors } = await open(renderCheckHtml(run as never));
    const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.className, tr.querySelectorAll('svg.map').length]));
    await page.close();
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      ['pass', 0],
      ['fail', 1],
    ]);
  }, 60_000);
});

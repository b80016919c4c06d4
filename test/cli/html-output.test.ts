import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { folderWith } from '../helpers/temp-dir.js';
import { ROOT, runMain } from '../helpers/run-cli.js';

const FORGOT = join(ROOT, 'test', 'data', 'dumps', 'torch-f32-savez-forgot.npz');

describe('--html', () => {
  test('the verifier writes the page beside its report: the verdict, the likely bug and a map per comparison', async () => {
    const folder = folderWith({});
    const run = await runMain(['--input', FORGOT, '--summary', '--html', 'report.html'], { cwd: folder });
    expect(run.code).toBe(1);
    const html = readFileSync(join(folder, 'report.html'), 'utf8');
    expect(html).toContain('<p class="verdict fail">FAIL: grad, expected vs exact (120 / 120); the expected values&#39; sums (4 / 4 slices)</p>');
    expect(html).toContain('<p class="note">expected: 4 / 4 slices sum beyond what rounding allows;');
    expect(html).toContain('<p class="likely">likely: the gradient is s ⊙ g (⟨s, g⟩ left out): explains 120 of 120 failing elements [grad-missing-inner-product]</p>');
    expect(html.match(/<svg id="map-\d+"/g)).toHaveLength(4);
  });

  test('an existing file is kept without --force, and an input (one a document names too) is never written over: one line, exit 2', async () => {
    const folder = folderWith({ 'taken.html': 'mine' });
    const kept = await runMain(['--input', FORGOT, '--html', 'taken.html'], { cwd: folder });
    expect([kept.code, kept.stderr, readFileSync(join(folder, 'taken.html'), 'utf8')]).toEqual([2, 'error: taken.html exists already: add --force to overwrite it\n', 'mine']);
    // Even with --force: the document, and a .npy file the document names.
    copyFileSync(join(ROOT, 'test', 'data', 'npy', 'f8-C-le-5.npy'), join(folder, 'xs.npy'));
    writeFileSync(join(folder, 'doc.json'), '{"x": "xs.npy"}');
    const npy = readFileSync(join(folder, 'xs.npy'));
    for (const target of ['doc.json', 'xs.npy']) {
      const over = await runMain(['--input', 'doc.json', '--html', target, '--force'], { cwd: folder });
      expect([over.code, over.stderr]).toEqual([2, `error: --html names ${target}, one of the run's inputs: write the page elsewhere\n`]);
    }
    expect([readFileSync(join(folder, 'doc.json'), 'utf8'), readFileSync(join(folder, 'xs.npy')).equals(npy)]).toEqual(['{"x": "xs.npy"}', true]);
  });

  test('check writes one page for the suite, a row per fixture', async () => {
    const folder = folderWith({});
    const run = await runMain(['check', join(ROOT, 'docs', 'examples', 'kernel-fixtures'), '--html', 'suite.html'], { cwd: folder });
    expect(run.code).toBe(2);
    const html = readFileSync(join(folder, 'suite.html'), 'utf8');
    // In the fixtures' order: batch-4x7-dim-last, batch-4x7-fused (one element off), masked, seed, truncated.
    expect(html.match(/<tr class="(pass|fail|error)">/g)).toEqual(['<tr class="pass">', '<tr class="fail">', '<tr class="pass">', '<tr class="pass">', '<tr class="error">']);
    expect(html.match(/<svg id="map-\d+"/g)).toEqual(['<svg id="map-1"']);
  });
});

#!/usr/bin/env node
// The README's picture of the --html page, made real: the verifier on a PyTorch-written dump whose
// backward leaves out ⟨s, g⟩, its page opened in Debian's chromium (or SOFTMAX_VERIFY_CHROMIUM),
// the top of it saved as docs/images/html-report.png. Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'softmax-verify-screenshot-'));
const page = join(folder, 'report.html');
const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'softmax-verify.js'), '--input', 'test/data/dumps/torch-f32-savez-forgot.npz', '--summary', '--html', page], { cwd: ROOT, encoding: 'utf8' });
if (run.status !== 1) throw new Error(`the verifier exited with ${run.status}: ${run.stderr}`);
const browser = await chromium.launch({ executablePath: process.env.SOFTMAX_VERIFY_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const tab = await browser.newPage({ viewport: { width: 900, height: 760 } });
await tab.goto(`file://${page}`);
await tab.screenshot({ path: join(ROOT, 'docs', 'images', 'html-report.png') });
await browser.close();
rmSync(folder, { recursive: true, force: true });
console.log('wrote docs/images/html-report.png');

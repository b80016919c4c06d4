import { describe, expect, test } from 'vitest';
import { terminalProgress } from '../../src/cli/terminal-progress.js';

describe('progress on a terminal', () => {
  const terminal = () => {
    const written: string[] = [];
    let now = 0;
    const progress = terminalProgress({ write: (text: string) => written.push(text), isTTY: true }, () => now)!;
    return { written, progress, at: (ms: number) => (now = ms) };
  };

  test('says nothing of a step under a second, nor when stderr is no terminal', () => {
    const { written, progress, at } = terminal();
    const step = progress.step('explicit Jacobian', 10);
    at(900);
    step.advance(9);
    step.end();
    expect(written).toEqual([]);
    expect(terminalProgress({ write: () => undefined })).toBeUndefined();
  });

  test('rewrites one line in place after a second, at most four times a second, and erases it at the end', () => {
    const { written, progress, at } = terminal();
    const step = progress.step('exact reference (BigNumber)', 200);
    at(1000);
    step.advance(50);
    at(1100);
    step.advance(60);
    at(2000);
    step.advance(100);
    step.end();
    expect(written).toEqual([
      '\r\x1b[Kexact reference (BigNumber): 25% (1.0 s, about 3.0 s left)',
      '\r\x1b[Kexact reference (BigNumber): 50% (2.0 s, about 2.0 s left)',
      '\r\x1b[K',
    ]);
  });
});

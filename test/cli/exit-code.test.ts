import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { exitCodeFor } from '../../src/cli/exit-code.js';
import { testIo } from '../helpers/run-cli.js';

describe('exitCodeFor', () => {
  test.each([
    [{ kind: 'verdict', passed: true } as const, 0],
    [{ kind: 'verdict', passed: false } as const, 1],
    [{ kind: 'info-shown' } as const, 0],
    [{ kind: 'bad-input' } as const, 2],
    [{ kind: 'internal' } as const, 3],
  ])('%j exits with %i', (outcome, code) => {
    expect(exitCodeFor(outcome)).toBe(code);
  });
});

describe('main, in process', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return {
      io: testIo({ stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }),
      out,
      err,
    };
  }

  test('returns 0 and writes the report for agreeing methods', async () => {
    const { io, out, err } = capture();
    expect(await main(['--x', '0,0', '--g', '1,0'], io)).toBe(0);
    expect(out.join('')).toContain('PASS: the explicit Jacobian and the closed form agree');
    expect(err).toEqual([]);
  });

  test('maps a failure that is not the input’s fault to exit code 3 with one line, no stack', async () => {
    const { io, err } = capture();
    const broken = {
      ...io,
      stdout: {
        write: () => {
          throw new Error('EPIPE: the reader went away');
        },
      },
    };
    expect(await main(['--x', '1,2', '--g', '1,0'], broken)).toBe(3);
    expect(err).toEqual([
      'softmax-verify: internal error: EPIPE: the reader went away. This is a bug in softmax-verify; please report it with the command that caused it.\n',
    ]);
  });
});

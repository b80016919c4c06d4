import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { FixtureOutcome } from '../../src/check/check-fixture.js';
import { runCheck } from '../../src/check/run-check.js';
import {
  annotationPath,
  errorAnnotation,
  escapeData,
  escapeProperty,
  workflowCommand,
} from '../../src/output/github-annotations.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureText } from '../helpers/fixtures.js';
import { folderWith } from '../helpers/temp-dir.js';

describe('workflow command escaping', () => {
  test('a message escapes %, CR and LF, and keeps : and ,', () => {
    expect(escapeData('100% off\r\nnext: a, b')).toBe('100%25 off%0D%0Anext: a, b');
  });

  test('a property value escapes : and , too', () => {
    expect(escapeProperty('C:\\a,b%\n')).toBe('C%3A\\a%2Cb%25%0A');
  });

  test('% is escaped first, so an escape already in the text survives as text', () => {
    expect(escapeData('%0A')).toBe('%250A');
    expect(escapeProperty('%3A')).toBe('%253A');
  });

  test('a whole line: a path holding , and :, a title with :, a message with % and a newline', () => {
    expect(workflowCommand('error', { file: 'data/a,b:c.json', title: 'softmax-verify: x failed' }, 'off by 5%\nsee the log')).toBe(
      '::error file=data/a%2Cb%3Ac.json,title=softmax-verify%3A x failed::off by 5%25%0Asee the log',
    );
    expect(workflowCommand('notice', {}, 'plain')).toBe('::notice::plain');
  });
});

describe('errorAnnotation', () => {
  const root = folderWith({
    'pass.json': fixtureText('seed.json'),
    'fail.json': editedFixture('batch-4x7-dim-last.json', (doc) => {
      doc.name = 'tampered';
      doc.expected.grad[3][6] += 0.01;
    }),
  });
  let pass: FixtureOutcome;
  let fail: FixtureOutcome;
  beforeAll(async () => {
    [pass, fail] = (await runCheck([join(root, 'pass.json'), join(root, 'fail.json')], {})).outcomes;
  });

  test('none for a pass', () => {
    expect(pass.status).toBe('pass');
    expect(errorAnnotation(pass, 'fixtures/pass.json')).toBeUndefined();
  });

  test("a failure: the text report's first reason, the likely bug, and how many more there are", () => {
    expect(errorAnnotation(fail, 'fixtures/fail.json')).toBe(
      '::error file=fixtures/fail.json,title=softmax-verify%3A tampered failed::' +
        'grad, expected vs exact: mismatched 1 / 28 (3.6%25); worst [3, 6]: expected 0.0183858, exact 0.00838582, ' +
        '|a − b| 0.01 is 9.87e4 times the 1.01e-7 allowed (atol 1e-7 + rtol·|b| 8.39e-10 + rtol·s_i Σ s_j|g_j| 5.19e-10 + arithmetic 6.94e-17)' +
        '; likely: 1 element off (gradient[3, 6]), the rest within rounding: a race, or a stale or unwritten element: explains 1 of 1 failing element [isolated-elements]' +
        ' (+1 more in the report)',
    );
  });

  test('a fixture that could not be checked: its message', () => {
    const outcome = { status: 'error', path: 'x', name: 'a,b', message: 'cannot read the file: EACCES', seconds: 0 } as const;
    expect(errorAnnotation(outcome, 'fixtures/a:b.json')).toBe(
      '::error file=fixtures/a%3Ab.json,title=softmax-verify%3A a%2Cb could not be checked::cannot read the file: EACCES',
    );
  });
});

describe('annotationPath', () => {
  test('outside GitHub Actions, or outside the workspace: the path as given', () => {
    expect(annotationPath('fixtures/a.json', '/repo', undefined)).toBe('fixtures/a.json');
    expect(annotationPath('fixtures/a.json', '/repo', '')).toBe('fixtures/a.json');
    expect(annotationPath('/elsewhere/a.json', '/repo', '/repo')).toBe('/elsewhere/a.json');
    expect(annotationPath('../a.json', '/repo', '/repo')).toBe('../a.json');
  });

  test('inside the workspace: relative to it, wherever the step runs', () => {
    expect(annotationPath('fixtures/a.json', '/repo', '/repo')).toBe('fixtures/a.json');
    expect(annotationPath('fixtures/a.json', '/repo/kernels', '/repo')).toBe('kernels/fixtures/a.json');
    expect(annotationPath('/repo/fixtures/a.json', '/tmp', '/repo')).toBe('fixtures/a.json');
    expect(annotationPath('./fixtures/../fixtures/a.json', '/repo', '/repo')).toBe('fixtures/a.json');
    expect(annotationPath('..weird/a.json', '/repo', '/repo')).toBe('..weird/a.json');
  });
});

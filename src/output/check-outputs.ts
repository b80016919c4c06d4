import { resolve } from 'node:path';
import type { FixtureFile } from '../check/collect-fixtures.js';
import { InputError } from '../input-error.js';
import { realPathOf } from '../io/file-status.js';

export type CheckReportFormat = 'text' | 'json' | 'junit' | 'markdown' | 'html';

/** A report file `check` was asked to write, and the flag that asked, for messages. */
export interface ReportFile {
  readonly flag: string;
  readonly path: string;
  readonly format: CheckReportFormat;
}

export interface ReportFlags {
  readonly format: CheckReportFormat;
  readonly output?: string;
  readonly junit?: string;
  readonly markdown?: string;
  readonly json?: string;
  readonly html?: string;
}

/**
 * The report files of one run: `--output` in `--format`, then `--junit`, `--markdown`, `--json`, `--html`.
 * Two that name one file are refused: one report would silently replace the other. One file is
 * one real path: `r.json`, `./r.json` and `link/r.json` through a link to `.` are the same.
 */
export function reportFiles(flags: ReportFlags, cwd: string): ReportFile[] {
  const asked: [string, string | undefined, CheckReportFormat][] = [
    ['--output', flags.output, flags.format],
    ['--junit', flags.junit, 'junit'],
    ['--markdown', flags.markdown, 'markdown'],
    ['--json', flags.json, 'json'],
    ['--html', flags.html, 'html'],
  ];
  const files: ReportFile[] = [];
  for (const [flag, path, format] of asked) {
    if (path === undefined) continue;
    const same = files.find((file) => realPathOf(resolve(cwd, file.path)) === realPathOf(resolve(cwd, path)));
    if (same !== undefined) throw new InputError(`${same.flag} and ${flag} both name ${path}: give each report its own file`);
    files.push({ flag, path, format });
  }
  return files;
}

/**
 * Refuses a report that would land on a fixture being checked: with --force it would replace the
 * fixture, and the next run would read the report as one. Decided on real paths, before any
 * fixture runs: `--junit fxlink/seed.json`, through a link to the fixtures' folder, is refused as
 * `--junit fixtures/seed.json` is.
 */
export function refuseReportsOverFixtures(reports: readonly ReportFile[], fixtures: readonly FixtureFile[], cwd: string): void {
  const inputs = new Set(fixtures.map((fixture) => fixture.real ?? realPathOf(resolve(cwd, fixture.path))));
  const clash = reports.find((report) => inputs.has(realPathOf(resolve(cwd, report.path))));
  if (clash !== undefined) {
    throw new InputError(`${clash.flag} names ${clash.path}, one of the fixtures being checked: write the report elsewhere`);
  }
}

import { resolve } from 'node:path';
import { InputError } from '../input-error.js';

export type CheckReportFormat = 'text' | 'json' | 'junit' | 'markdown';

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
}

/**
 * The report files of one run: `--output` in `--format`, then `--junit`, `--markdown`, `--json`.
 * Two that name one file are refused: one report would silently replace the other.
 */
export function reportFiles(flags: ReportFlags, cwd: string): ReportFile[] {
  const asked: [string, string | undefined, CheckReportFormat][] = [
    ['--output', flags.output, flags.format],
    ['--junit', flags.junit, 'junit'],
    ['--markdown', flags.markdown, 'markdown'],
    ['--json', flags.json, 'json'],
  ];
  const files: ReportFile[] = [];
  for (const [flag, path, format] of asked) {
    if (path === undefined) continue;
    // Compared resolved, so that `r.json` and `./r.json` are seen to be one file.
    const same = files.find((file) => resolve(cwd, file.path) === resolve(cwd, path));
    if (same !== undefined) throw new InputError(`${same.flag} and ${flag} both name ${path}: give each report its own file`);
    files.push({ flag, path, format });
  }
  return files;
}

/**
 * Refuses a report that would land on a fixture being checked: with --force it would replace the
 * fixture, and the next run would read the report as one.
 */
export function refuseReportsOverFixtures(reports: readonly ReportFile[], fixtures: readonly string[], cwd: string): void {
  const inputs = new Set(fixtures.map((fixture) => resolve(cwd, fixture)));
  const clash = reports.find((report) => inputs.has(resolve(cwd, report.path)));
  if (clash !== undefined) {
    throw new InputError(`${clash.flag} names ${clash.path}, one of the fixtures being checked: write the report elsewhere`);
  }
}

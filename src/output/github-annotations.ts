import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FixtureOutcome } from '../check/check-fixture.js';
import { outcomeHeadline } from './check-details.js';
import { printable } from '../printable.js';

/**
 * A workflow command's message: `%`, CR and LF escaped as GitHub's runner unescapes them (and as
 * @actions/core's escapeData does), so a line break cannot end the command and start another.
 */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: as a message, and `:` and `,` too, which end a value. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::command key=value,key=value::message`, every part escaped. */
export function workflowCommand(command: string, properties: Readonly<Record<string, string>>, message: string): string {
  const list = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(',');
  return `::${command}${list === '' ? '' : ` ${list}`}::${escapeData(message)}`;
}

/**
 * The `::error` line for a fixture that failed or could not be checked (none for a pass): titled
 * with its name, carrying the first line of what the text report says about it and the likely
 * bug when one is named, the count of the rest, and the file, which GitHub marks on the pull request. The name and the message are made
 * printable before they are escaped: the runner would turn %0A back into a line break, and GitHub
 * shows the annotation as the log does. The file stays as it is (escaped): GitHub must find it.
 */
export function errorAnnotation(outcome: FixtureOutcome, file: string): string | undefined {
  if (outcome.status === 'pass') return undefined;
  const name = printable(outcome.name);
  const title = outcome.status === 'fail' ? `softmax-verify: ${name} failed` : `softmax-verify: ${name} could not be checked`;
  const { line, more } = outcomeHeadline(outcome);
  const message = printable(more === 0 ? line : `${line} (+${more} more in the report)`);
  return workflowCommand('error', { file, title }, message);
}

/**
 * A fixture's path as the annotation names it, with forward slashes. GitHub reads a relative path
 * from the repository's root, GITHUB_WORKSPACE, not from the step's working directory: inside the
 * workspace the path is made relative to it (the same as given, when the step runs at the root),
 * so that a `working-directory:` step still marks the right file; elsewhere it stays as given.
 */
export function annotationPath(path: string, cwd: string, workspace: string | undefined): string {
  let shown = path;
  if (workspace !== undefined && workspace !== '') {
    const inWorkspace = relative(workspace, resolve(cwd, path));
    const outside = inWorkspace === '..' || inWorkspace.startsWith(`..${sep}`) || isAbsolute(inWorkspace);
    if (inWorkspace !== '' && !outside) shown = inWorkspace;
  }
  return shown.split(sep).join('/');
}

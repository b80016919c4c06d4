import { readFileSync } from 'node:fs';
import type { Tool } from '../output/render-json.js';

/** Where a command writes, and the environment it reads; the launcher passes the process's own. */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

/** Name and version, from the package.json two folders up from this file (dist/cli/ or src/cli/). */
export const TOOL: Tool = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Tool;
  return { name: pkg.name, version: pkg.version };
})();

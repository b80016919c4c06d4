import { readFileSync } from 'node:fs';

/** The tool's name and version, as reports and fixtures name their producer. */
export interface Tool {
  readonly name: string;
  readonly version: string;
}

/**
 * From the package.json two folders up from this file: dist/core/ when compiled, dist/bundle/ when
 * bundled into a chunk, both two levels below the package root.
 */
export const TOOL: Tool = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Tool;
  return { name: pkg.name, version: pkg.version };
})();

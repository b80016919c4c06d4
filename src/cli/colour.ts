import { PLAIN, type Palette } from '../output/render-text.js';

/**
 * The palette for stdout, by the usual precedence: `--no-color` wins, then `FORCE_COLOR`, then
 * `NO_COLOR` (which chalk itself ignores), then whether stdout is a terminal.
 *
 * chalk is imported only when colour is possible: most runs are piped (CI, scripts, tests) and
 * need none of it, and its import is a sixth of the start-up.
 */
export async function paletteForStdout(flagAllowsColour: boolean, env: NodeJS.ProcessEnv, isTTY: boolean): Promise<Palette> {
  if (!flagAllowsColour) return PLAIN;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '';
  if (!forced && ((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || !isTTY)) return PLAIN;
  // chalk reads FORCE_COLOR (FORCE_COLOR=0 means none) and the terminal's colour depth.
  const { Chalk, supportsColor } = await import('chalk');
  if (supportsColor === false || supportsColor.level === 0) return PLAIN;
  const chalk = new Chalk({ level: supportsColor.level });
  return { good: chalk.green, bad: chalk.red, warn: chalk.yellow, faint: chalk.dim, strong: chalk.bold };
}

import { Chalk, supportsColor } from 'chalk';
import type { Palette } from '../output/render-text.js';

/**
 * Whether to colour, by the usual precedence: `--no-color` wins, then `FORCE_COLOR` (which chalk
 * reads, together with whether stdout is a terminal), then `NO_COLOR`, which chalk ignores.
 * Returns chalk's colour level, 0 for none.
 */
export function colourLevel(flagAllowsColour: boolean, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (!flagAllowsColour) return 0;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '';
  if (!forced && env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  return supportsColor === false ? 0 : supportsColor.level;
}

export function paletteFor(level: 0 | 1 | 2 | 3): Palette {
  const chalk = new Chalk({ level });
  return {
    good: chalk.green,
    bad: chalk.red,
    warn: chalk.yellow,
    faint: chalk.dim,
    strong: chalk.bold,
  };
}

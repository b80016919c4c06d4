/** The report formats of each command, in their own module so that the program can list them
 * without loading the commands themselves. */
export const VERIFY_FORMATS = ['text', 'json'] as const;
export const CHECK_FORMATS = ['text', 'json', 'junit', 'markdown', 'html'] as const;
/** `--reference`: auto is double-double, which hands slices it cannot decide to BigNumber. */
export { REFERENCE_CHOICES } from '../core/run.js';

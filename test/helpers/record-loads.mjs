// Registered with `node --import`: every module the process loads is appended, as a URL, to the
// file named by LOADED_MODULES_FILE, so that a test can see what a run of the command loaded.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function load(url, context, nextLoad) {
      appendFileSync(${JSON.stringify(process.env.LOADED_MODULES_FILE)}, url + '\\n');
      return nextLoad(url, context);
    }
  `)}`,
);

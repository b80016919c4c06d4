// Registered with `node --import`: every module the process loads is appended, as a URL, to the
// file named by LOADED_MODULES_FILE, so that a test can see what a run of the command loaded: the
// ES modules as they load, and at exit the CommonJS ones (the command line's bundle is CommonJS:
// bin/load-cli.js), from require's cache.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.LOADED_MODULES_FILE;
register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function load(url, context, nextLoad) {
      appendFileSync(${JSON.stringify(log)}, url + '\\n');
      return nextLoad(url, context);
    }
  `)}`,
);
const { cache } = createRequire(import.meta.url);
process.on('exit', () => {
  appendFileSync(log, Object.keys(cache).map((path) => `${pathToFileURL(path).href}\n`).join(''));
});

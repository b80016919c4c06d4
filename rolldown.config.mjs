// Bundles the compiled CLI (dist/cli/main.js) with commander and chalk into a few files: Node
// spends more of a short run resolving and loading ~50 small modules than running them. What the
// plain run needs goes into one shared chunk, `core`: the modules dist/cli/main.js reaches through
// static imports, found by reading them. Everything reached only through a dynamic import()
// (check, record, the JSON/JUnit/Markdown renderers, the dump readers, glob matching, colour, the
// BigNumber engine, the worker threads) stays in chunks of its own, loaded only when used;
// test/bundle-chunks.test.ts holds the plain run to that.
// mathjs stays external: it is one file already, loaded only for the BigNumber engine.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defineConfig } from 'rolldown';

/** The compiled modules `entry` imports statically, itself included (tsc's output: relative specifiers, no type imports). */
function staticallyReachable(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const [, specifier] of code.matchAll(/^(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|^import\s*['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      if (specifier !== undefined) visit(resolve(dirname(file), specifier));
    }
  };
  visit(resolve(entry));
  return seen;
}

const CORE = staticallyReachable('dist/cli/main.js');

export default defineConfig({
  // The library's entry (index), and the Jacobian's worker threads' own, found next to the chunk
  // that starts them.
  input: { cli: 'dist/cli/main.js', index: 'dist/index.js', 'jacobian-worker': 'dist/parallel/jacobian-worker.js' },
  platform: 'node',
  external: [/^mathjs(\/|$)/, /^node:/],
  output: {
    dir: 'dist/bundle',
    cleanDir: true,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    codeSplitting: {
      groups: [{ name: 'core', test: (id) => CORE.has(id) }],
    },
  },
});

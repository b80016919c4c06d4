// Two builds into dist/bundle/, run in this order by scripts/build.mjs:
//
// - The library (index.js, the package's export) and the Jacobian's worker threads' own entry
//   (jacobian-worker.js, found next to the chunk that starts them, by the CLI's chunks too): ES
//   modules, as users import them.
// - The command line (cli.cjs and its *.cjs chunks): CommonJS, so that bin/softmax-verify.js can
//   compile its eager part with V8's code cache (bin/load-cli.js; Node 20 has none for ES modules),
//   and start without the ES module loader. Node spends more of a short run resolving, compiling
//   and loading modules than running them. What the plain run needs goes into one shared chunk,
//   `core`: the modules dist/cli/main.js reaches through static imports, found by reading them.
//   Everything reached only through a dynamic import() (check, record, the JSON/JUnit/Markdown
//   renderers, the dump readers, glob matching, colour, the BigNumber engine, the worker threads)
//   stays in chunks of its own, loaded only when used; test/bundle-chunks.test.ts holds the plain
//   run to that.
//
// Both bundle commander and chalk. mathjs stays external: it is one file already, loaded only for
// the BigNumber engine. The chunks stay at dist/bundle/, two levels below the package's root, as
// tsc's output is: core/tool.ts finds package.json from there. Both have the numeric tables baked
// in (src/numeric/baked-tables.ts), computed now by tsc's output of the code that computes them.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

const BAKED_TABLES = resolve('dist/numeric/baked-tables.js');
const { bakedTablesSource } = await import(pathToFileURL(resolve('dist/numeric/bake-tables.js')).href);
const bakedTables = { name: 'baked-tables', load: (id) => (id === BAKED_TABLES ? bakedTablesSource() : null) };

const shared = { platform: 'node', external: [/^mathjs(\/|$)/, /^node:/], plugins: [bakedTables] };

export default defineConfig([
  {
    ...shared,
    input: { index: 'dist/index.js', 'jacobian-worker': 'dist/parallel/jacobian-worker.js' },
    output: { dir: 'dist/bundle', cleanDir: true, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  },
  {
    ...shared,
    input: { cli: 'dist/cli/main.js' },
    output: {
      dir: 'dist/bundle',
      format: 'cjs',
      charset: 'ascii',
      comments: { legal: true, annotation: true, jsdoc: false },
      entryFileNames: '[name].cjs',
      // Content-hashed names: bin/load-cli.js takes a chunk's code cache by the chunk's name.
      chunkFileNames: '[name]-[hash].cjs',
      codeSplitting: {
        groups: [{ name: 'core', test: (id) => CORE.has(id) }],
      },
    },
  },
]);

// Loads the command line's bundle (dist/bundle/cli.cjs, built by `npm run build`) with V8's code
// cache: a chunk with a `<chunk>.v8cache` beside it (written by scripts/write-code-cache.mjs
// after a run of the built-in example) is compiled from that cache, so that the plain run neither
// parses the core chunk (some 400 kB) nor compiles the functions it calls. Node 20 has no code
// cache for modules of its own (module.enableCompileCache is Node 22's), so the chunks are
// CommonJS and compiled here through vm.Script, as Node compiles them otherwise. A cache made by
// another Node (V8 version or flags) is rejected by V8 and the chunk compiled from its text:
// slower, never different. V8 checks a cache against its text's length only: the build writes
// caches for chunks with a content hash in their names alone, so that none outlives its text.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle');
const MAIN = require.main;
const ENTRY = join(BUNDLE, 'cli.cjs');

/** The file holding a chunk's code cache. */
const cacheFileOf = (chunk) => `${chunk}.v8cache`;

/**
 * The CLI's exports (main, describeOutputFailure). `compiled`, when given, receives each chunk
 * compiled here with its vm.Script, for the build to write their caches.
 */
function loadCli(compiled) {
  const compile = Module.prototype._compile;
  // Only while the eager chunks load: the ones imported later (check, record...) compile as usual.
  Module.prototype._compile = function compileCached(content, filename) {
    if (dirname(filename) !== BUNDLE) return compile.call(this, content, filename);
    let cachedData;
    try {
      cachedData = readFileSync(cacheFileOf(filename));
    } catch {
      if (compiled === undefined) return compile.call(this, content, filename);
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    compiled?.push({ filename, script, cacheFile: cacheFileOf(filename) });
    const module = this;
    const require = (id) => module.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    require.main = MAIN;
    require.cache = Module._cache;
    require.extensions = Module._extensions;
    return script.runInThisContext({ displayErrors: true }).call(module.exports, module.exports, require, module, filename, dirname(filename));
  };
  try {
    return require(ENTRY);
  } finally {
    Module.prototype._compile = compile;
  }
}

module.exports = { loadCli, ENTRY };

// Bundles the compiled CLI (dist/cli/main.js) with commander and chalk into a few files: Node
// spends more of a short run resolving and loading ~50 small modules than running them. What the
// plain run needs goes into one shared chunk; check, record, the JSON/JUnit/Markdown renderers,
// the dump readers (.npz with fflate, safetensors), glob matching, colour and the BigNumber engine
// stay separate chunks, loaded only when used.
// mathjs stays external: it is one file already, loaded only for the BigNumber engine.
import { defineConfig } from 'rolldown';

const LAZY = /(bench-command|run-bench|render-bench|parallel-jacobian|jacobian-worker|jacobian-chunks|check-command|record-command|render-json|json-text|json-stream|check-json|check-junit|check-markdown|read-input-file|read-input|array-dump|npz|safetensors|bignumber-reference|atomic-write|fixture-json|collect-fixtures|run-check|shard|check-outputs|check-step-summary|github-annotations|build-fixture|colour|library|index)\.js$|node_modules\/(tinyglobby|fdir|picomatch|chalk|fflate)\//;

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
      groups: [{ name: 'core', test: (id) => id.includes('/dist/') && !LAZY.test(id) }],
    },
  },
});

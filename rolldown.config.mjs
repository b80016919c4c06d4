// Bundles the compiled CLI (dist/cli/main.js) with commander, chalk and tinyglobby into a few
// files: Node spends more of a short run resolving and loading ~40 small modules than running
// them. Lazily imported commands and renderers stay separate chunks, loaded only when used;
// mathjs stays external (it is already a single file, and loaded only for --reference bignumber).
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { cli: 'dist/cli/main.js' },
  platform: 'node',
  external: [/^mathjs(\/|$)/, /^node:/],
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
  },
});

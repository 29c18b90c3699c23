// The CLI as users run it. tsc writes one module per source file to dist/;
// Node's module loader then spends about 30 ms of every run resolving,
// reading and linking the ~80 that `analyze` needs (bench/results.md, step
// 22). This bundles them: dist/cli.js, tsc's entry, is replaced by one file
// with what every command loads, and each command's work (loaded only when it
// runs: test/cli-lazy.test.ts) becomes a chunk in dist/cli-chunks/. Packages
// stay where npm put them. The other modules in dist/ stay as tsc wrote them,
// for the tests and benchmarks that import them.
//
// The second reading thread (ingest/threaded-source.ts) starts
// `./read-worker.js` next to the module that starts it: that module lands in
// dist/cli-chunks/, so the worker is built there too, as an entry of its own.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'rolldown';

// Its input is tsc's dist/cli.js, which this bundle replaces: run alone after a build, it would bundle the bundle
// (its source maps would then name chunks, not modules: review 75, F4). `npm run build` runs tsc first.
if (readFileSync('dist/cli.js', 'utf8').includes('./cli-chunks/')) {
  throw new Error('dist/cli.js is already the bundle: run `npm run build`, which runs tsc before rolldown');
}

export default defineConfig({
  input: { cli: 'dist/cli.js', 'read-worker': 'dist/ingest/read-worker.js' },
  platform: 'node',
  // Node's own modules and the packages: loaded from node_modules as before.
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  output: {
    dir: 'dist',
    format: 'esm',
    sourcemap: true,
    entryFileNames: (chunk) => (chunk.name === 'cli' ? 'cli.js' : 'cli-chunks/[name].js'),
    chunkFileNames: 'cli-chunks/[name].js',
  },
});

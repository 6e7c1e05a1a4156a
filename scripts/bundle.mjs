// Bundles the compiled modules (dist/src) into a few files under dist/bundle, the package entry and the
// CLI's. Node loads each ES module separately (resolve, read, parse, link); with about 180 of them the
// imports took 80-100 ms of a fresh process, a bundle about 25 ms (bench/README.md, "Design measurements").
// Chunks are split so the library entry, the CLI and bench/load-child share one copy of every class.
// The packages bpfjit depends on stay external: binaryen is loaded only by the optimizing tier.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a content hash: clear the old ones.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['dist/src/index.js', 'dist/src/cli/main.js', 'dist/src/jit/index.js', 'dist/src/workers/worker.js'],
  outbase: 'dist/src',
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['binaryen', 'commander', 'tinybench'],
  sourcemap: true,
  logLevel: 'warning',
});

#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('bpfjit: not built yet; run `npm install` or `npm run build` first\n');
  process.exit(2);
}
// The command is an application, so it may set process-wide V8 flags: these make the first JIT
// loads fast (src/v8-flags.ts), and must be set before binaryen is imported.
const { useLowLatencyV8Flags } = await import(new URL('../dist/src/v8-flags.js', import.meta.url).href);
useLowLatencyV8Flags();
await import(entry.href);

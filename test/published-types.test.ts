// The published type declarations (dist/src/*.d.ts, built by `npm test`'s pretest) must compile in a
// project without @types/node: a browser or Deno user of the library has no Node types.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');

describe('published type declarations', () => {
  it('compile for a user with no Node types (types: [])', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-types-'));
    writeFileSync(join(dir, 'use.ts'), [
      "import { Vm, memory, type LoadedProgram } from 'bpfjit';",
      'const vm = new Vm();',
      "const prog: LoadedProgram = vm.load('r0 = 1\\nexit', { context: memory(0) });",
      'export const r0: bigint = prog.run();',
    ].join('\n'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        types: [], lib: ['ES2022', 'DOM'], skipLibCheck: false, paths: { bpfjit: [join(repo, 'dist', 'src', 'index.d.ts')] },
      },
      files: ['use.ts'],
    }));
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

/** The CLI and `.map` declarations: disasm prints them, asm says that bytecode cannot keep them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineFailure, scratch } from './cli-helpers.js';

const { dir, write } = scratch('bpfjit-cli-maps-');

const PROG = write('maps.s', `.map counts percpu_array key 4 value 8 entries 1
.map flows hash key 4 value 8 entries 1024
r1 = map_by_idx(flows) ll
r2 = map_value_by_idx(counts, 8) ll
r0 = 0
exit
`);

describe('disasm of a program with maps', () => {
  it('prints the .map lines first and names in lddw operands, in both syntaxes', () => {
    const llvm = cli('disasm', PROG);
    expect(llvm.err).toBe('');
    expect(llvm.out).toBe(readFileSync(PROG, 'utf8'));
    const ubpf = cli('disasm', PROG, '--syntax', 'ubpf');
    expect(ubpf.out).toBe(`.map counts percpu_array key 4 value 8 entries 1
.map flows hash key 4 value 8 entries 1024
lddw %r1, map_by_idx(flows)
lddw %r2, map_value_by_idx(counts, 8)
mov %r0, 0
exit
`);
  });
});

describe('asm of a program with maps', () => {
  it('writes the instructions and warns, in one stderr line, that the maps are not in the bytecode', () => {
    const bin = join(dir, 'maps.bin');
    const r = cli('asm', PROG, '-o', bin);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`bpfjit asm: warning: ${PROG} declares maps counts, flows, which bytecode cannot hold: the output has the instructions only\n`);
    expect(readFileSync(bin).length).toBe(6 * 8);
    expect(cli('disasm', bin).out).toBe('r1 = map_by_idx(1) ll\nr2 = map_value_by_idx(0, 8) ll\nr0 = 0\nexit\n');
  });

  it('says nothing for a file without maps, and documents the warning in --help', () => {
    const plain = write('plain.s', 'r0 = 0\nexit\n');
    expect(cli('asm', plain, '-o', join(dir, 'plain.bin')).err).toBe('');
    expect(cli('asm', '--help').out).toMatch(/Maps: bytecode has no room for the maps a file declares/);
  });

  it('refuses a bad declaration with file:line:column', () => {
    const bad = write('bad.s', 'exit\n.map counts array key 8 value 8 entries 1\n');
    expectOneLineFailure(cli('asm', bad, '-o', join(dir, 'bad.bin')), 2, /bad\.s:2:19: map 'counts': key 8 must be 4 .*\[E_ASM_MAP\]$/m);
    expectOneLineFailure(cli('disasm', bad), 2, /bad\.s:2:19: .*\[E_ASM_MAP\]$/m);
  });
});

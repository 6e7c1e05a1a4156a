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

/** Adds the input's first byte to hist[1] and counts the run in counts[0]; returns the new hist[1]. */
const COUNTER = write('counter.s', `.map counts percpu_array key 4 value 8 entries 2
.map hist hash key 4 value 8 entries 8
*(u32 *)(r10 - 4) = 0
r6 = *(u8 *)(r1 + 0)
r2 = r10
r2 += -4
r1 = map_by_idx(counts) ll
call 1
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 + 0) += r1
*(u32 *)(r10 - 4) = 1
*(u64 *)(r10 - 16) = r6
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
r1 = map_by_idx(hist) ll
call 2
out:
r0 = r6
exit
`);

describe('run, verify and dump-wasm of a program with maps', () => {
  it('run creates the declared maps and --dump-maps prints them: per CPU and summed, zero array elements counted', () => {
    const r = cli('run', COUNTER, '--mem-hex', '2a', '--dump-maps');
    expect(r.err).toBe('');
    expect(r.out).toBe(`0x2a
map 'counts' (percpu_array, 4-byte keys, 8-byte values, 2 entries, 1 zero element not shown):
key  cpu0  sum
0    1     1
map 'hist' (hash, 4-byte keys, 8-byte values, 8 entries):
key  value
1    42
`);
  });

  it('--json prints r0 and the maps as one object', () => {
    const r = cli('run', COUNTER, '--mem-hex', '07', '--dump-maps', '--json', '--engine', 'interp');
    const out = JSON.parse(r.out) as { r0: string; maps: Array<{ name: string; entries: unknown[] }> };
    expect(out.r0).toBe('0x7');
    expect(out.maps.map((m) => m.name)).toEqual(['counts', 'hist']);
    expect(out.maps[0]!.entries[0]).toEqual({ key: { hex: '00000000', number: '0' }, perCpu: [{ hex: '0100000000000000', number: '1' }], sum: '1' });
    expect(out.maps[1]!.entries).toEqual([{ key: { hex: '01000000', number: '1' }, value: { hex: '0700000000000000', number: '7' } }]);
  });

  it('--dump-maps prints an LPM trie\'s keys as prefixes', () => {
    const acl = write('acl.s', `.map acl lpm_trie key 8 value 4 entries 4 flags 1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 8) = 24
*(u32 *)(r10 - 4) = r6
*(u32 *)(r10 - 12) = 1
r2 = r10
r2 += -8
r3 = r10
r3 += -12
r4 = 0
r1 = map_by_idx(acl) ll
call 2
exit
`);
    const r = cli('run', acl, '--mem-hex', '0a010203', '--dump-maps');
    expect(r.err).toBe('');
    expect(r.out).toBe(`0x0
map 'acl' (lpm_trie, 8-byte keys, 4-byte values, 4 entries):
key          value
10.1.2.0/24  1
`);
    const json = JSON.parse(cli('run', acl, '--mem-hex', '0a010203', '--dump-maps', '--json').out) as { maps: Array<{ entries: unknown[] }> };
    expect(json.maps[0]!.entries).toEqual([{ key: { hex: '180000000a010200', prefix: '10.1.2.0/24' }, value: { hex: '01000000', number: '1' } }]);
  });

  it('--dump-maps names a queue without taking its values out', () => {
    const queue = write('queue.s', '.map jobs queue key 0 value 8 entries 4\nr0 = 0\nexit\n');
    expect(cli('run', queue, '--dump-maps').out).toBe("0x0\nmap 'jobs' (queue: its values cannot be listed without taking them out)\n");
    expect((JSON.parse(cli('run', queue, '--dump-maps', '--json').out) as { maps: Array<{ entries: unknown }> }).maps[0]!.entries).toBeNull();
  });

  it('verify and dump-wasm know the declared maps and the kernel\'s map helpers', () => {
    expect(cli('verify', COUNTER, '--type', 'memory:1').out).toMatch(/^verified: 20 instructions, memory\(1\)/);
    const wat = cli('dump-wasm', COUNTER, '--type', 'memory:1');
    expect(wat.err).toBe('');
    expect(wat.out).toContain('(import "maps" "hash_update"');
  });
});

describe('run of a program with a ring buffer', () => {
  const RING = write('ring.s', `.map events ringbuf key 0 value 0 entries 4096
mov %r2, %r1
lddw %r1, map_by_idx(events)
mov %r3, 2
mov %r4, 0
call 130
mov %r0, 0
exit
`);

  it('--dump-maps prints the records not consumed, in order, and --json lists them', () => {
    const r = cli('run', RING, '--mem-hex', '2a07', '--dump-maps');
    expect(r.err).toBe('');
    expect(r.out).toBe(`0x0
map 'events' (ringbuf, 4096 bytes, 1 record):
record  bytes  data
0       2      2a 07
`);
    const json = JSON.parse(cli('run', RING, '--mem-hex', '0102', '--dump-maps', '--json').out) as { maps: Array<{ records: string[] }> };
    expect(json.maps[0]!.records).toEqual(['0102']);
  });
});

describe('run of a program with a perf_event_array', () => {
  const PERF = write('perf.s', `.map events perf_event_array key 4 value 4 entries 1 buffer 4096
mov %r4, %r1
mov %r6, %r1
lddw %r2, map_by_idx(events)
lddw %r3, 0xffffffff
mov %r5, 2
mov %r1, %r6
call 25
exit
`);

  it('--dump-maps prints the records with their CPU, and --json lists them', () => {
    const r = cli('run', PERF, '--mem-hex', '2a07', '--dump-maps');
    expect(r.err).toBe('');
    expect(r.out).toBe(`0x0
map 'events' (perf_event_array, 1 buffers, 1 record):
cpu  bytes  data
0    2      2a 07
`);
    const json = JSON.parse(cli('run', PERF, '--mem-hex', '0102', '--dump-maps', '--json').out) as { maps: Array<{ records: unknown[] }> };
    expect(json.maps[0]!.records).toEqual([{ cpu: 0, data: '0102' }]);
  });
});

/**
 * The CLI and ELF objects: prog list, map list, verify, run (--section, --set, --events, --dump-maps),
 * disasm --source and demo, on test/fixtures/libbpf-style/writes.bpf.o (a program written as libbpf
 * users write one); malformed objects (test/fixtures/elf-bad) fail with one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineFailure, scratch } from './cli-helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const OBJ = join(FIXTURES, 'libbpf-style', 'writes.bpf.o');
const { dir, write } = scratch('bpfjit-cli-objects-');

/** struct write_event { u32 pid; u32 fd; u64 count; } */
function record(pid: number, count: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, pid, true);
  view.setBigUint64(8, BigInt(count), true);
  return bytes;
}
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('prog list and map list', () => {
  it('list the programs with section, type, instructions and maps', () => {
    const r = cli('prog', 'list', OBJ);
    expect(r.err).toBe('');
    expect(r.out).toBe(`name          section                              type        insns  maps
handle_write  tracepoint/syscalls/sys_enter_write  tracepoint  69     .bss, .rodata, size_hist, bytes_by_pid
size_filter   xdp                                  xdp         31     .bss, size_hist, .rodata
`);
    const json = JSON.parse(cli('prog', 'list', OBJ, '--json').out) as Array<{ name: string; insns: number; maps: string[] }>;
    expect(json.map((p) => [p.name, p.insns, p.maps.length])).toEqual([['handle_write', 69, 4], ['size_filter', 31, 3]]);
  });

  it('list the maps with their kind and a data map\'s variables', () => {
    const r = cli('map', 'list', OBJ);
    expect(r.out).toBe(`name          type   key  value  entries  flags  kind    variables
bytes_by_pid  hash   4    8      64       0x0    user
size_hist     array  4    8      16       0x0    user
.rodata       array  4    41     1        0x0    rodata  min_bytes, verbose, max_len, fmt
.bss          array  4    20     1        0x0    bss     seen, skipped, last_pid
`);
    const json = JSON.parse(cli('map', 'list', OBJ, '--json').out) as Array<{ name: string; variables?: Array<{ name: string; offset: number; type: string }> }>;
    const rodata = json.find((m) => m.name === '.rodata')!;
    expect(rodata.variables!.map((v) => [v.name, v.offset, v.type])).toEqual([
      ['min_bytes', 0, 'const volatile __u64'], ['verbose', 8, 'const volatile _Bool'], ['max_len', 12, 'const volatile __u32'], ['fmt', 16, 'const char[25]'],
    ]);
  });
});

describe('verify and run an object', () => {
  it('needs --section when the object has two programs, and names them', () => {
    expectOneLineFailure(cli('verify', OBJ), 2, /choose one with --section.*handle_write.*size_filter/);
    expectOneLineFailure(cli('run', OBJ, '--section', 'nope'), 2, /--section nope: .*no such section or program/);
  });

  it('verifies a program chosen by name or by section, on its section\'s context', () => {
    expect(cli('verify', OBJ, '--section', 'handle_write').out).toMatch(/^verified: 69 instructions, event\(16\): /);
    const xdp = cli('verify', OBJ, '--section', 'xdp');
    expect(xdp.code, xdp.err).toBe(0);
    expect(xdp.out).toMatch(/^verified: 31 instructions, xdp: /);
  });

  it('runs a tracing program on its event record, --set changing .rodata settings', () => {
    const rec = hexOf(record(42, 100));
    expect(cli('run', OBJ, '--section', 'handle_write', '--mem-hex', rec).out).toBe('0x7\n'); // slot of 100 is 6
    expect(cli('run', OBJ, '--section', 'handle_write', '--mem-hex', rec, '--set', 'min_bytes=0x100').out).toBe('0x0\n');
    expect(cli('run', OBJ, '--section', 'handle_write', '--mem-hex', rec, '--set', 'min_bytes=100', '--engine', 'interp').out).toBe('0x7\n');
    // No input: a zeroed record.
    expect(cli('run', OBJ, '--section', 'handle_write').out).toBe('0x1\n');
  });

  it('runs an xdp program on the packet given, with the kernel context around it', () => {
    const packet = '00'.repeat(100);
    expect(cli('run', OBJ, '--section', 'xdp', '--mem-hex', packet).out).toBe('0x2\n'); // XDP_PASS
    expect(cli('run', OBJ, '--section', 'xdp', '--mem-hex', packet, '--set', 'max_len=64').out).toBe('0x1\n'); // XDP_DROP
  });

  it('prints bpf_trace_printk text with a .rodata format on stderr', () => {
    const r = cli('run', OBJ, '--section', 'handle_write', '--mem-hex', hexOf(record(7, 33)), '--set', 'verbose=true');
    expect(r.out).toBe('0x6\n');
    expect(r.err).toBe('pid 7 wrote 33 bytes\n');
  });

  it('runs once per --events record and counts the r0 values', () => {
    const events = write('events.bin', new Uint8Array([...record(1, 100), ...record(2, 1000), ...record(3, 5), ...record(4, 120)]));
    const r = cli('run', OBJ, '--section', 'handle_write', '--events', events, '--set', 'min_bytes=10');
    expect(r.out).toBe('4 events\nr0 0x7: 2\nr0 0xa: 1\nr0 0x0: 1\n');
    const json = JSON.parse(cli('run', OBJ, '--section', 'handle_write', '--events', events, '--json').out) as unknown;
    expect(json).toEqual({ events: 4, r0: { '0x7': 2, '0xa': 1, '0x3': 1 } });
    expectOneLineFailure(cli('run', OBJ, '--section', 'handle_write', '--events', events, '--stride', '24'), 2, /--stride/);
    expectOneLineFailure(cli('run', OBJ, '--section', 'xdp', '--events', events), 2, /--stride/);
    expect(cli('run', OBJ, '--section', 'xdp', '--events', events, '--stride', '32', '--set', 'max_len=31').out).toBe('2 events\nr0 0x1: 2\n');
  });

  it('runs the --events records on worker threads with --workers, counting alike', () => {
    const events = write('events-w.bin', new Uint8Array([...record(1, 100), ...record(2, 1000), ...record(3, 5), ...record(4, 120)]));
    const r = cli('run', OBJ, '--section', 'handle_write', '--events', events, '--set', 'min_bytes=10', '--set', 'verbose=true', '--workers', '2');
    expect(r.out).toBe('4 events\nr0 0x7: 2\nr0 0xa: 1\nr0 0x0: 1\n');
    // bpf_trace_printk from the workers reaches stderr too (in whichever order the two CPUs wrote).
    expect(r.err.split('\n').filter(Boolean).sort()).toEqual(['pid 1 wrote 100 bytes', 'pid 2 wrote 1000 bytes', 'pid 4 wrote 120 bytes']);
    expectOneLineFailure(cli('run', OBJ, '--section', 'handle_write', '--workers', '2'), 2, /--events/);
    expectOneLineFailure(cli('run', OBJ, '--section', 'handle_write', '--events', events, '--workers', '0'), 2, /--workers/);
  });

  it('runs a plain program once per --events record too', () => {
    const prog = write('first.s', 'r0 = *(u8 *)(r1 + 0)\nexit\n');
    const events = write('bytes.bin', new Uint8Array([5, 0, 5, 0, 9, 0]));
    expect(cli('run', prog, '--events', events, '--stride', '2').out).toBe('3 events\nr0 0x5: 2\nr0 0x9: 1\n');
  });
});

describe('run --dump-maps of an object', () => {
  it('shows keys and values through BTF, data maps by variable, and a histogram map as a histogram', () => {
    const events = write('dump.bin', new Uint8Array([...record(42, 100), ...record(42, 80), ...record(9, 3)]));
    const r = cli('run', OBJ, '--section', 'handle_write', '--events', events, '--dump-maps');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`map 'bytes_by_pid' (hash, 4-byte keys, 8-byte values, 64 entries):
key  value
`);
    expect(r.out).toMatch(/^42 {3}180$/m);
    expect(r.out).toMatch(/^9 {4}3$/m);
    expect(r.out).toContain(`key  value
1    1
6    2
     value               : count    distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 1        |********************                    |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 2        |****************************************|
`);
    expect(r.out).toContain(`map '.bss' (bss, 20 bytes, 3 variables):
variable  value
seen      3
skipped   0
last_pid  9
`);
    expect(r.out).toContain('fmt        "pid %u wrote %llu bytes\\n"');
  });

  it('gives the same as JSON, with BTF-read values, variables and the histogram\'s counts', () => {
    const r = cli('run', OBJ, '--section', 'handle_write', '--mem-hex', hexOf(record(42, 100)), '--set', 'verbose=true', '--dump-maps', '--json');
    const out = JSON.parse(r.out) as { r0: string; maps: Array<Record<string, unknown>> };
    expect(out.r0).toBe('0x7');
    const byName = Object.fromEntries(out.maps.map((m) => [m['name'], m]));
    expect(byName['.rodata']!['variables']).toEqual({ min_bytes: 0, verbose: true, max_len: 1500, fmt: 'pid %u wrote %llu bytes\n' });
    expect(byName['.bss']!['variables']).toEqual({ seen: 1, skipped: 0, last_pid: 42 });
    expect(byName['bytes_by_pid']!['entries']).toEqual([{ key: { hex: '2a000000', number: '42', btf: 42 }, value: { hex: '6400000000000000', number: '100', btf: 100 } }]);
    expect(byName['size_hist']!['histogram']).toEqual(['0', '0', '0', '0', '0', '0', '1', ...Array(9).fill('0')]);
  });
});

describe('disasm, cfg and dump-wasm of an object', () => {
  it('interleaves the C source lines with --source', () => {
    const plain = cli('disasm', OBJ, '--section', 'size_filter');
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).not.toMatch(/^;/m);
    const r = cli('disasm', OBJ, '--section', 'size_filter', '--source');
    expect(r.out).toContain('; __sync_fetch_and_add(&seen, 1); @ writes.bpf.c:99\n');
    expect(r.out).toContain('; return len > max_len ? XDP_DROP : XDP_PASS; @ writes.bpf.c:101\nr1 = map_value_by_idx(.rodata, 12) ll\n');
    // The listing is the same instructions with comments between them.
    expect(r.out.split('\n').filter((l) => !l.startsWith(';'))).toEqual(plain.out.split('\n'));
    expectOneLineFailure(cli('disasm', write('x.s', 'r0 = 0\nexit\n'), '--source'), 2, /not an ELF object/);
  });

  it('draws the graph and prints the module of the chosen program', () => {
    expect(cli('cfg', OBJ, '--section', 'xdp').out).toMatch(/^digraph cfg \{/);
    expect(cli('dump-wasm', OBJ, '--section', 'size_filter').out).toMatch(/^\(module/);
  });
});

describe('bad arguments for objects', () => {
  it('refuses unknown variables and values --set cannot take, with one line', () => {
    expectOneLineFailure(cli('run', OBJ, '--section', 'xdp', '--set', 'nope=1'), 2, /no global variable 'nope'/);
    expectOneLineFailure(cli('run', OBJ, '--section', 'xdp', '--set', 'max_len=lots'), 2, /--set max_len: 'lots'/);
    expectOneLineFailure(cli('verify', OBJ, '--section', 'xdp', '--set', 'max_len'), 2, /NAME=VALUE/);
    expectOneLineFailure(cli('run', OBJ, '--section', 'xdp', '--set', 'max_len=0x100000000'), 2, /does not fit/);
    expectOneLineFailure(cli('run', write('y.s', 'r0 = 0\nexit\n'), '--set', 'a=1'), 2, /not an ELF object/);
  });
});

describe('malformed objects', () => {
  const BAD = join(FIXTURES, 'elf-bad');
  const manifest = JSON.parse(readFileSync(join(BAD, 'manifest.json'), 'utf8')) as Record<string, { code: string; section: string }>;

  // The library's test (test/elf-corpus.test.ts) checks each case's error; here, what the CLI prints.
  it('fail with exit 2 and one line naming the file, section and offset, for every file of the corpus', () => {
    const files = readdirSync(join(BAD, 'objects')).filter((f) => f.endsWith('.o'));
    expect(files.length).toBe(Object.keys(manifest).length);
    for (const f of files) {
      const path = join(BAD, 'objects', f);
      const { code, section } = manifest[f.slice(0, -2)]!;
      const r = cli('verify', path, '--section', 'handle_enter');
      expectOneLineFailure(r, 2);
      const where = section === '' ? 'ELF header' : `section ${section}`;
      expect(r.err.startsWith(`bpfjit: ${path}: ${where}, offset 0x`), `${f}: ${r.err}`).toBe(true);
      expect(r.err.endsWith(` [${code}]\n`), `${f}: ${r.err}`).toBe(true);
    }
  }, 30_000);
});

describe('demo', () => {
  it('lists the examples and runs biolatency, printing its histogram', () => {
    const list = cli('demo');
    expect(list.out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['biolatency', 'execsnoop', 'opensnoop', 'runqlat', 'dispatch']);
    const r = cli('demo', 'biolatency', '--events', '500', '--seed', '3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^ +usecs +: count +distribution\n/);
    const total = [...r.out.matchAll(/: (\d+) +\|/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(total).toBe(500);
    expect(cli('demo', 'biolatency', '--events', '500', '--seed', '3', '--engine', 'interp').out).toBe(r.out);
    expect(cli('demo', 'biolatency', '--events', '500', '--set', 'targ_ms=true').out).toMatch(/^ +msecs +: count/);
    expectOneLineFailure(cli('demo', 'nope'), 2, /no example 'nope'/);
  });
});

describe('the fixture\'s object', () => {
  const clang = spawnSync('clang', ['--version']).status === 0;
  it.skipIf(!clang)('rebuilds byte for byte from its C source (clang present)', () => {
    const r = spawnSync('bash', [join(FIXTURES, 'libbpf-style', 'build.sh'), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'writes.bpf.o')), readFileSync(OBJ))).toBe(0);
  });
});

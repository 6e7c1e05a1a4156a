/**
 * Objects compiled by clang (test/fixtures/elf) parse into the programs, maps and variables their C
 * sources declare, and load and run alike in every engine with the right map contents afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, ObjectError, Vm, loadObject, loadOptimizer, memory, parseObject, programInsnOf, sourceOf, type LoadOptions, type ObjectLoadOptions } from '../src/index.js';
import { kernelVersionOf } from '../src/elf/kconfig-defaults.js';
import { ENGINES } from './engines.js';
import { FIXTURES, fixture } from './elf-helpers.js';

beforeAll(async () => { await loadOptimizer(); });

const u32s = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer);
const u32 = (b: Uint8Array | undefined, at = 0): number => new DataView(b!.buffer, b!.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array | undefined, at = 0): bigint => new DataView(b!.buffer, b!.byteOffset).getBigUint64(at, true);

/** Loads fixture `name` into a new Vm with the engine options, every program on an 8-byte context. */
function load(name: string, engine: LoadOptions, options: ObjectLoadOptions = {}, vm = new Vm()) {
  return loadObject(vm, parseObject(fixture(name), { file: `${name}.o` }), { context: memory(8), ...engine, ...options });
}

describe('parsing clang objects', () => {
  it('finds programs by section and global function, typed by libbpf SEC() names', () => {
    const spec = parseObject(fixture('calls'));
    expect(spec.programs.map((p) => [p.name, p.section, p.type, p.kind, p.target])).toEqual([
      ['first', 'kprobe/do_sys_open', 'kprobe', 'kprobe', 'do_sys_open'],
      ['second', 'tc', 'sched_cls', 'tc', ''],
      ['looping', 'tc', 'sched_cls', 'tc', ''],
    ]);
    expect(spec.license).toBe('GPL');
  });

  it('maps each linked instruction back to its section and index', () => {
    const second = parseObject(fixture('calls')).programs[1]!;
    // second (tc, 7 slots), then twice (.text 4..12) which it calls, then what twice calls: weigh
    // (.text 0..3, through a relocation) and halve (.text 22..27, a call clang resolved itself).
    expect(second.origin).toEqual([
      { section: 'tc', sectionInsn: 0, programInsn: 0, count: 7 },
      { section: '.text', sectionInsn: 4, programInsn: 7, count: 9 },
      { section: '.text', sectionInsn: 0, programInsn: 16, count: 4 },
      { section: '.text', sectionInsn: 22, programInsn: 20, count: 6 },
    ]);
    expect(sourceOf(second, 8)).toEqual({ section: '.text', insn: 5 });
    expect(programInsnOf(second, '.text', 2)).toBe(18);
    expect(programInsnOf(second, '.text', 13)).toBeUndefined(); // add_step: not called by second
  });

  it('reads BTF map definitions, the legacy maps section and global data', () => {
    expect(parseObject(fixture('maps')).maps.map((m) => [m.name, m.kind, m.spec])).toEqual([
      ['counts', 'user', { type: 1, keySize: 4, valueSize: 8, maxEntries: 64, flags: 0, mapExtra: 0, name: 'counts' }],
      ['totals', 'user', { type: 2, keySize: 4, valueSize: 16, maxEntries: 2, flags: 0, mapExtra: 0, name: 'totals' }],
    ]);
    const legacy = parseObject(fixture('legacy'));
    expect(legacy.maps.map((m) => [m.name, m.spec])).toEqual([
      ['hits', { type: 2, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, name: 'hits' }],
      ['seen', { type: 1, keySize: 4, valueSize: 4, maxEntries: 16, flags: 1, name: 'seen' }],
    ]);
    expect([legacy.license, legacy.version]).toEqual(['Dual BSD/GPL', 0x050f00]);
    const globals = parseObject(fixture('globals'));
    expect(globals.maps.map((m) => [m.name, m.kind, m.readonly, m.spec.valueSize])).toEqual([
      ['.rodata', 'rodata', true, 8], ['.data', 'data', false, 24], ['.bss', 'bss', false, 8], ['.rodata.str1.1', 'rodata', true, 10],
    ]);
    expect(new TextDecoder().decode(globals.maps[3]!.initial)).toBe('value %d\n\0');
    expect(globals.variables.map((v) => [v.name, globals.maps[v.map]!.name, v.offset, v.size, v.signed])).toEqual([
      ['scale', '.rodata', 0, 4, false], ['offset', '.rodata', 4, 4, true], ['events', '.data', 0, 8, false],
      ['table', '.data', 8, 16, false], ['last', '.bss', 0, 8, false],
    ]);
    expect(globals.variables.every((v) => v.type > 0)).toBe(true);
  });

  it('numbers each program\'s maps in the order it uses them', () => {
    const p = parseObject(fixture('globals')).programs[0]!;
    expect(p.maps).toEqual([1, 0, 2, 3]); // .data, .rodata, .bss, .rodata.str1.1 as the code meets them
  });

  it('takes prog_array initialisers and .kconfig externs', () => {
    expect(parseObject(fixture('tailcall')).maps[0]!.slots).toEqual([[1, 'tail_a'], [3, 'tail_b']]);
    const k = parseObject(fixture('kconfig'));
    expect(k.kconfig.map((e) => [e.name, e.offset, e.size, e.form, e.weak])).toEqual([
      ['LINUX_KERNEL_VERSION', 0, 4, 'int', false], ['CONFIG_HZ', 4, 4, 'int', true], ['CONFIG_BPF_JIT', 8, 1, 'bool', true],
    ]);
    expect(k.maps.map((m) => [m.name, m.kind, m.readonly])).toEqual([['.kconfig', 'kconfig', true]]);
  });

  it('is inert data: a structured clone loads the same', () => {
    const spec = parseObject(fixture('calls'));
    const clone = structuredClone(spec);
    expect(clone).toEqual(spec);
    expect(loadObject(new Vm(), clone, { context: memory(8) }).program('first').run(u32s(3, 0))).toBe(22n);
  });
});

describe.each(ENGINES)('clang objects in %s', (_name, engine) => {
  it('BTF hash and array maps count what the program sees', () => {
    const obj = load('maps', engine);
    const prog = obj.program('count_keys');
    for (const [key, slot] of [[5, 0], [5, 1], [7, 0]] as const) expect(prog.run(u32s(key, slot))).toBe(0n);
    expect(u64(obj.map('counts').lookup(u32s(5)) as Uint8Array)).toBe(2n);
    expect(u64(obj.map('counts').lookup(u32s(7)) as Uint8Array)).toBe(1n);
    const t0 = obj.map('totals').lookup(u32s(0)) as Uint8Array;
    const t1 = obj.map('totals').lookup(u32s(1)) as Uint8Array;
    expect([u64(t0), u64(t0, 8), u64(t1), u64(t1, 8)]).toEqual([2n, 12n, 1n, 5n]);
  });

  it('legacy maps section', () => {
    const obj = load('legacy', engine);
    for (const v of [6, 10, 3]) obj.program('legacy_count').run(u32s(v, 0));
    expect(u64(obj.map('hits').lookup(u32s(2)) as Uint8Array)).toBe(2n);
    expect(u64(obj.map('hits').lookup(u32s(3)) as Uint8Array)).toBe(1n);
    expect(u32(obj.map('seen').lookup(u32s(10)) as Uint8Array)).toBe(2);
  });

  it('globals: .data, .bss, .rodata set before load, a .rodata.str1.1 format', () => {
    const lines: string[] = [];
    const vm = new Vm({ tracePrintk: (text) => lines.push(text) });
    const obj = load('globals', engine, { set: { scale: 5, offset: -2 } }, vm);
    expect(obj.program('use_globals').run(u32s(10, 0))).toBe(48n); // 10 * 5 - 2
    expect(obj.program('use_globals').run(u32s(3, 0))).toBe(13n);
    expect(lines).toEqual(['value 48\n', 'value 13\n']);
    const vars = obj.variables;
    expect([vars.get('events'), vars.get('last'), vars.get('scale'), vars.get('offset')]).toEqual([102n, 13n, 5, -2]);
    expect([...new Uint32Array((vars.get('table') as Uint8Array).slice().buffer)]).toEqual([10, 20, 31, 41]);
    vars.set('events', 0n);
    obj.program('use_globals').run(u32s(0, 0));
    expect(vars.get('events')).toBe(1n);
  });

  it('a .text subprogram called from two sections, and a bpf_loop callback', () => {
    const obj = load('calls', engine);
    expect(obj.program('first').run(u32s(3, 0))).toBe(22n); // weigh(3)
    expect(obj.program('second').run(u32s(3, 0))).toBe(53n); // 2 * weigh(3) + halve(3) + weigh(1)
    expect(obj.program('looping').run(u32s(2, 5))).toBe(20n); // 2 * (0 + 1 + 2 + 3 + 4)
  });

  it('a prog_array filled from __array(values, ...)', () => {
    const obj = load('tailcall', engine);
    const entry = obj.program('entry');
    expect([entry.run(u32s(1, 9)), entry.run(u32s(3, 9)), entry.run(u32s(2, 9))]).toEqual([1009n, 2009n, 7n]);
  });

  it('a map value with a struct bpf_spin_lock, found through BTF, updated under the lock', () => {
    const spec = parseObject(fixture('spinlock'));
    expect(spec.maps[0]!.spec.spinLockOffset).toBe(8);
    const obj = loadObject(new Vm(), spec, engine);
    const accounts = obj.map('accounts');
    accounts.update(u32s(1), new Uint8Array(16));
    const deposit = obj.program('deposit');
    for (const amount of [5, 7, 30]) expect(deposit.run(u32s(amount))).toBe(0n);
    const value = accounts.lookup(u32s(1)) as Uint8Array;
    expect([u64(value, 0), u32(value, 8), u32(value, 12)]).toEqual([42n, 0, 3]);
  });

  it('.kconfig externs answered by the host, weak ones 0 when unknown', () => {
    const answered = load('kconfig', engine, { kconfig: { LINUX_KERNEL_VERSION: 0x050f00, CONFIG_HZ: 250, CONFIG_BPF_JIT: 'y' } });
    expect(answered.program('versions').run(u32s(0, 0))).toBe(502501n);
    const weak = load('kconfig', engine, { kconfig: { LINUX_KERNEL_VERSION: 0x060100 } });
    expect(weak.program('versions').run(u32s(0, 0))).toBe(600000n);
  });
});

describe('loading objects', () => {
  it('answers LINUX_KERNEL_VERSION with the running kernel\'s version, as libbpf does', () => {
    const version = kernelVersionOf(release())!;
    expect(version).toBeGreaterThan(0x030000);
    expect(kernelVersionOf('6.1.0-18-amd64')).toBe(0x060100);
    expect(kernelVersionOf('5.15.300')).toBe(0x050fff);
    expect(load('kconfig', {}).program('versions').run(u32s(0, 0))).toBe(BigInt((version >> 16) * 100000));
  });

  it('refuses a strong .kconfig extern the host does not answer', () => {
    const spec = parseObject(fixture('kconfig'));
    const strong = { ...spec.kconfig[1]!, name: 'CONFIG_MISSING', weak: false };
    const withStrong = { ...spec, kconfig: [...spec.kconfig, strong] };
    expect(() => loadObject(new Vm(), withStrong, { context: memory(8) })).toThrow(InputError);
    expect(() => loadObject(new Vm(), withStrong, { context: memory(8) })).toThrow(/CONFIG_MISSING/);
  });

  it('loads only the programs named, and refuses unknown ones', () => {
    const obj = load('calls', {}, { programs: ['second'] });
    expect(Object.keys(obj.programs)).toEqual(['second']);
    expect(() => load('calls', {}, { programs: ['nope'] })).toThrow(/no program 'nope'/);
  });

  it('refuses .rodata writes after load, and unknown variables', () => {
    const obj = load('globals', {});
    expect(() => obj.variables.set('scale', 1)).toThrow(/read-only/);
    expect(() => load('globals', {}, { set: { nope: 1 } })).toThrow(/no global variable 'nope'/);
    expect(() => load('globals', {}, { set: { scale: 1n << 40n } })).toThrow(/does not fit/);
  });

  it('lists a program of a section libbpf does not know, and refuses it only when loaded', () => {
    const bytes = fixture('legacy');
    const text = new TextDecoder('latin1').decode(bytes).replaceAll('socket\0', 'sockex\0');
    const renamed = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const spec = parseObject(renamed);
    expect(spec.programs.map((p) => [p.name, p.section, p.type])).toEqual([['legacy_count', 'sockex', undefined]]);
    let err: unknown;
    try { loadObject(new Vm(), spec, { context: memory(8) }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ObjectError);
    expect(err).toMatchObject({ code: 'E_ELF', section: 'sockex', offset: 0 });
  });
});

describe('fixtures', () => {
  const clang = spawnSync('clang', ['--version']).status === 0;
  it.skipIf(!clang)('build.sh rebuilds the committed objects byte for byte (skipped without clang)', () => {
    const out = mkdtempSync(join(tmpdir(), 'bpfjit-elf-'));
    const run = spawnSync(join(FIXTURES, 'build.sh'), [out], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o'));
    expect(objects.length).toBe(7);
    for (const o of objects) expect(readFileSync(join(out, o)).equals(readFileSync(join(FIXTURES, o))), o).toBe(true);
  });
});

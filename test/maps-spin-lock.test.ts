// bpf_spin_lock (93) and bpf_spin_unlock (94): maps whose values hold a lock (spinLockOffset, and
// `spin_lock` in .map), the lock on the shared memory (the host's update leaves it alone, a lookup
// reads it as 0, a lock never released stops the run), programs in every engine, and the
// verifier's rules with the code and pc of each refusal.
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKED, ENGINES, fault } from './engines.js';
import { EngineMemory, InputError, Vm, createMap, mapOperations, memory } from '../src/index.js';
import { assembleUnit, disassemble } from '../src/asm/index.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { VerifyError } from '../src/verifier/refusal.js';
import { INCREMENT, LOCK, LOOKUP } from './maps-helpers.js';

beforeAll(() => loadOptimizer());

/** An array of 16-byte values: the lock at 4, a counter at 8. */
const SPEC = { type: 'array', keySize: 4, valueSize: 16, maxEntries: 2, spinLockOffset: 4, name: 'counters' } as const;

describe('maps with a bpf_spin_lock', () => {
  it('take spinLockOffset on hash and array maps, 4-aligned inside the value', () => {
    const mem = new EngineMemory();
    expect(createMap(mem, SPEC).spinLockOffset).toBe(4);
    expect(createMap(mem, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1, spinLockOffset: 0 }).spinLockOffset).toBe(0);
    expect(createMap(mem, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 }).spinLockOffset).toBeUndefined();
  });

  it.each([
    [{ spinLockOffset: 2 }, /spinLockOffset 2 must be a multiple of 4/],
    [{ spinLockOffset: 16 }, /inside the 16-byte value/],
    [{ type: 'percpu_array' }, /only hash and array maps/],
    [{ type: 'lru_hash' }, /only hash and array maps/],
    [{ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }, /only hash and array maps/],
  ])('refuse %o', (change, message) => {
    const spec = { ...SPEC, ...change };
    expect(() => createMap(new EngineMemory(), spec)).toThrow(InputError);
    expect(() => createMap(new EngineMemory(), spec)).toThrow(message);
  });

  it('round-trip through .map spin_lock and disassemble', () => {
    const text = '.map counters array key 4 value 16 entries 2 spin_lock 4\n.map events perf_event_array key 4 value 4 entries 2 buffer 8192\nexit';
    const unit = assembleUnit(text);
    expect(unit.maps).toEqual([
      { name: 'counters', type: 'array', keySize: 4, valueSize: 16, maxEntries: 2, flags: 0, spinLockOffset: 4 },
      { name: 'events', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, bufferSize: 8192 },
    ]);
    expect(disassemble(unit, 'ubpf')).toBe(text);
    expect(() => assembleUnit('.map c array key 4 value 16 entries 2 spin_lock 6\nexit')).toThrow(/spin_lock 6 must be a multiple of 4/);
  });

  it('keep the lock out of the host\'s updates and lookups (the kernel\'s copy_map_value)', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, SPEC);
    const ops = mapOperations(mem);
    const lock = BigInt(map.valueRegion.start + 4);
    expect(ops.spin_lock(lock)).toBe(0n);
    map.update(0, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    expect(mem.view.getUint32(Number(lock), true)).toBe(1);
    expect([...map.lookup(0)!]).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(ops.spin_unlock(lock)).toBe(0n);
    expect(ops.spin_unlock(lock)).toBe(-22n);
    // A new hash element's lock starts free, whatever the value written says.
    const hash = createMap(mem, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1, spinLockOffset: 4 });
    hash.update(1, Uint8Array.of(1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff));
    expect([...hash.lookup(1)!]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(mem.view.getUint32(hash.valueRegion.start + 4, true)).toBe(0);
  });
});

describe.each(ENGINES)('bpf_spin_lock in programs: %s', (_name, opts) => {
  it('locks, updates and unlocks; a lock never released stops the run at the call', () => {
    const vm = new Vm();
    const map = vm.createMap(SPEC);
    const p = vm.load(INCREMENT, { ...opts, context: memory(0), maps: [map] });
    for (let i = 1n; i <= 3n; i++) expect(p.run()).toBe(i);
    const lock = map.valueRegion.start + 4;
    expect(vm.runtime.mem.view.getUint32(lock, true)).toBe(0);
    expect(mapOperations(vm.runtime.mem).spin_lock(BigInt(lock))).toBe(0n);
    const e = fault(() => p.run());
    expect([e.code, e.pc]).toEqual(['E_RUN_HELPER', 10]);
  });
});

describe('bpf_spin_lock in checked programs', () => {
  it.each(CHECKED)('%s: a lock that is no map lock, misaligned, or unlocked when free, faults', (_name, opts) => {
    const vm = new Vm();
    const map = vm.createMap(SPEC);
    const load = (src: string) => vm.load(src, { ...opts, context: memory(0), maps: [map] });
    expect(fault(() => load(`${LOOKUP}\n${LOCK(94)}\nout:\nmov %r0, 0\nexit`).run()).pc).toBe(10);
    expect(fault(() => load(`${LOOKUP}\n${LOCK(93, '%r6', 5)}\nout:\nmov %r0, 0\nexit`).run()).code).toBe('E_RUN_MEMORY');
  });
});

describe('a checked run that fails holding a bpf_spin_lock', () => {
  it.each(CHECKED)('%s: lets it go, so the next run takes it at once', (_name, opts) => {
    const vm = new Vm();
    const map = vm.createMap(SPEC);
    // Locks element 0, then reads past its value (a fault) before the unlock.
    const faults = vm.load(`${LOOKUP}\n${LOCK()}\nldxdw %r0, [%r6+4096]\n${LOCK(94)}\nexit\nout:\nmov %r0, 0\nexit`, { ...opts, context: memory(0), maps: [map] });
    expect(fault(() => faults.run()).code).toBe('E_RUN_MEMORY');
    expect(vm.runtime.mem.view.getUint32(map.valueRegion.start + 4, true)).toBe(0);
    expect(vm.load(INCREMENT, { ...opts, context: memory(0), maps: [map] }).run()).toBe(1n);
  });
});

describe('the verifier\'s bpf_spin_lock rules', () => {
  function refusal(src: string, spec: object = SPEC): VerifyError {
    const vm = new Vm();
    try {
      vm.load(src, { context: memory(0), maps: [vm.createMap({ ...SPEC, ...spec })] });
    } catch (e) {
      expect(e).toBeInstanceOf(VerifyError);
      return e as VerifyError;
    }
    throw new Error('expected a refusal');
  }
  const at = (e: VerifyError): [string, number] => [e.code, e.pc];
  const body = (between: string, after = ''): string => `${LOOKUP}\n${LOCK()}\n${between}\n${LOCK(94)}\n${after}\nout:\nmov %r0, 0\nexit`;

  it('accepts lock, access beside the lock, unlock, on a hash map too', () => {
    const vm = new Vm();
    expect(() => vm.load(INCREMENT, { context: memory(0), maps: [vm.createMap(SPEC)] })).not.toThrow();
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 2, spinLockOffset: 4 });
    expect(() => vm.load(INCREMENT, { context: memory(0), maps: [hash] })).not.toThrow();
  });

  it('refuses a helper call while the lock is held (pc of the call)', () => {
    expect(at(refusal(body('call 5')))).toEqual(['E_VERIFY_SPIN_LOCK', 11]);
  });

  it('refuses a local call, an exit, and a second lock while it is held', () => {
    expect(at(refusal(`${LOOKUP}\n${LOCK()}\ncall local +5\n${LOCK(94)}\nout:\nmov %r0, 0\nexit\nmov %r0, 0\nexit`))).toEqual(['E_VERIFY_SPIN_LOCK', 11]);
    expect(at(refusal(`${LOOKUP}\n${LOCK()}\nmov %r0, 0\nexit\nout:\nmov %r0, 0\nexit`))).toEqual(['E_VERIFY_SPIN_LOCK', 12]);
    expect(at(refusal(body(LOCK())))).toEqual(['E_VERIFY_SPIN_LOCK', 13]);
  });

  it('refuses an exit on one path that skipped the unlock', () => {
    const src = `${LOOKUP}\n${LOCK()}\nldxdw %r7, [%r6+8]\njeq %r7, 0, skip\n${LOCK(94)}\nmov %r0, 0\nexit\nskip:\nmov %r0, 0\nexit\nout:\nmov %r0, 0\nexit`;
    expect(at(refusal(src))).toEqual(['E_VERIFY_SPIN_LOCK', 19]);
  });

  it('refuses unlock without a lock, and unlock of another element', () => {
    expect(at(refusal(`${LOOKUP}\n${LOCK(94)}\nout:\nmov %r0, 0\nexit`))).toEqual(['E_VERIFY_SPIN_LOCK', 10]);
    const other = `${LOOKUP}
stw [%r10-8], 1
mov %r2, %r10
add %r2, -8
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, out
mov %r8, %r0
${LOCK()}
${LOCK(94, '%r8')}
out:
mov %r0, 0
exit`;
    expect(at(refusal(other))).toEqual(['E_VERIFY_SPIN_LOCK', 21]);
  });

  it('refuses a lock pointer not at the lock\'s offset, and a map without a lock', () => {
    expect(at(refusal(`${LOOKUP}\n${LOCK(93, '%r6', 8)}\n${LOCK(94)}\nout:\nmov %r0, 0\nexit`))).toEqual(['E_VERIFY_SPIN_LOCK', 10]);
    expect(at(refusal(INCREMENT, { spinLockOffset: undefined }))).toEqual(['E_VERIFY_SPIN_LOCK', 10]);
    expect(at(refusal(`mov %r1, %r10\nadd %r1, -8\ncall 93\nmov %r0, 0\nexit`))).toEqual(['E_VERIFY_SPIN_LOCK', 2]);
  });

  it('refuses loads, stores and atomics that touch the lock\'s bytes', () => {
    for (const [insn, pc] of [['ldxw %r0, [%r6+4]', 8], ['stb [%r6+7], 1', 8], ['ldxdw %r0, [%r6]', 8], ['lock add [%r6+4], %r1', 9]] as const) {
      const src = `${LOOKUP}\n${insn.startsWith('lock') ? 'mov %r1, 1\n' : ''}${insn}\nout:\nmov %r0, 0\nexit`;
      expect(at(refusal(src)), insn).toEqual(['E_VERIFY_SPIN_LOCK', pc]);
    }
    const vm = new Vm();
    expect(() => vm.load(`${LOOKUP}\nldxw %r0, [%r6]\nldxdw %r0, [%r6+8]\nexit\nout:\nmov %r0, 0\nexit`, { context: memory(0), maps: [vm.createMap(SPEC)] })).not.toThrow();
  });

  it('has verified JIT code lock and unlock inside WebAssembly', () => {
    const vm = new Vm();
    const map = vm.createMap(SPEC);
    const p = vm.load(INCREMENT, { engine: 'jit', tier: 'baseline', context: memory(0), maps: [map] });
    const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [map], tier: 'baseline' });
    expect(wat).not.toContain('(import "env" "helper"');
    expect(wat).toContain('(import "maps" "spin_lock"');
    expect(wat).toContain('(import "maps" "spin_unlock"');
  });
});

// The verifier's tail-call rules: a prog_array only for tail_call and tail_call only with one, the
// context as r1, no ring buffer record held across it, none in a subprogram, r0 unknown after it.
import { describe, expect, it } from 'vitest';
import { Vm, memory, type LoadedProgram } from '../src/index.js';
import { VerifyError } from '../src/verifier/refusal.js';

function load(src: string): LoadedProgram {
  const vm = new Vm({ helpers: [{ id: 1000, name: 'any_map', impl: () => 0n, proto: { args: ['map'], ret: 'scalar' } }] });
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4, name: 'progs' });
  const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, name: 'table' });
  const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, name: 'events' });
  return vm.load(src, { context: memory(8), maps: [progs, hash, rb] });
}

function refusal(src: string): VerifyError {
  try {
    load(src);
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    return e as VerifyError;
  }
  throw new Error('expected the verifier to refuse the program');
}

const tail = (map = 0, r1 = ''): string => `${r1}lddw %r2, map_by_idx(${map})\nmov %r3, 0\ncall 12`;

describe('the verifier on tail calls', () => {
  it('accepts a tail call from the main program, subprograms or not', () => {
    expect(load(`${tail()}\nmov %r0, 0\nexit`).verification).toBeDefined();
    expect(load(`mov %r6, %r1\ncall local sub\nmov %r1, %r6\n${tail()}\nmov %r0, 0\nexit\nsub:\nmov %r0, 1\nexit`).verification).toBeDefined();
  });

  it('refuses a prog_array to every other helper', () => {
    const lookup = refusal('stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_idx(0)\ncall 1\nmov %r0, 0\nexit');
    expect([lookup.code, lookup.pc]).toEqual(['E_VERIFY_HELPER_ARG', 5]);
    const host = refusal('lddw %r1, map_by_idx(0)\ncall 1000\nexit');
    expect([host.code, host.pc]).toEqual(['E_VERIFY_HELPER_ARG', 2]);
    expect(host.message).toContain('prog_array');
  });

  it('refuses tail_call given another map, or something else than the context in r1', () => {
    const hash = refusal(`${tail(1)}\nmov %r0, 0\nexit`);
    expect([hash.code, hash.pc]).toEqual(['E_VERIFY_HELPER_ARG', 3]);
    const ctx = refusal(`${tail(0, 'mov %r1, %r10\n')}\nmov %r0, 0\nexit`);
    expect([ctx.code, ctx.pc]).toEqual(['E_VERIFY_HELPER_ARG', 4]);
  });

  it('refuses a tail call while a ring buffer record is held (it would leak)', () => {
    const e = refusal(`mov %r6, %r1
lddw %r1, map_by_idx(2)
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r7, %r0
${tail(0, 'mov %r1, %r6\n')}
mov %r1, %r7
mov %r2, 0
call 133
out:
mov %r0, 0
exit`);
    expect([e.code, e.pc]).toEqual(['E_VERIFY_REF_LEAK', 12]);
  });

  it('refuses a tail call in a subprogram', () => {
    const e = refusal(`call local sub\nmov %r0, 0\nexit\nsub:\n${tail()}\nmov %r0, 0\nexit`);
    expect([e.code, e.pc]).toEqual(['E_VERIFY_TAIL_CALL', 6]);
  });

  it('refuses a tail call in a callback', () => {
    // Refused as a callback's call, before its arguments (the context, spilled in the caller's frame, reads as a scalar here).
    const e = refusal(`stxdw [%r10-8], %r1
mov %r1, 3
lddw %r2, code_addr(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 1
exit
cb:
ldxdw %r1, [%r2]
${tail()}
mov %r0, 1
exit`);
    expect([e.code, e.pc]).toEqual(['E_VERIFY_TAIL_CALL', 14]);
  });

  it('leaves r0 unknown after a tail call that falls through', () => {
    const e = refusal(`${tail()}\nexit`);
    expect([e.code, e.pc]).toEqual(['E_VERIFY_UNINIT_REGISTER', 4]);
  });
});

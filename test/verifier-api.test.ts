/**
 * The verifier's API: messages, stats, log levels, facts for the JIT, helper prototypes from a
 * registry or a map, context descriptors, and rules the structural checks would otherwise catch first.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { InputError, ProgramError } from '../src/errors.js';
import type { Insn } from '../src/isa/insn.js';
import { buildProgram, type Program } from '../src/program/program.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import {
  CONFORMANCE_PROTOS, VerifyError, event, memory, packet, structContext, verify, type HelperProto, type VerifyOptions,
} from '../src/verifier/index.js';

const load = (text: string): Program => buildProgram(assemble(text));

function check(text: string, options: Partial<VerifyOptions> = {}) {
  return verify(load(text), { context: memory(64), helpers: CONFORMANCE_PROTOS, ...options });
}

function refusal(text: string, options: Partial<VerifyOptions> = {}): VerifyError {
  const r = check(text, options);
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
}

/** The same program with one instruction replaced, without building it again. */
function patched(program: Program, insn: Insn): Program {
  const swap = (i: Insn): Insn => (i.pc === insn.pc ? insn : i);
  return {
    ...program,
    insns: program.insns.map(swap),
    insnAt: program.insnAt.map((i) => i && swap(i)),
    functions: program.functions.map((fn) => ({
      ...fn, blocks: fn.blocks.map((b) => ({ ...b, insns: b.insns.map(swap) })),
    })),
  };
}

describe("termination 'budget'", () => {
  // Walks r1 to the end of the 64-byte region until it reads 0: bounded by the data, not a counter.
  const WALK = ['r0 = 0', 'r3 = r1', 'r3 += r2', 'if r1 >= r3 goto +5', 'r4 = *(u8 *)(r1 + 0)', 'if r4 == 0 goto +3',
    'r0 += 1', 'r1 += 1', 'if r1 < r3 goto -6', 'exit'].join('\n');

  it('proves a loop bounded by the data safe, in a few rounds, and says runs need the budget', () => {
    // memory(64) fixes the length: proving the loop ends takes 64 rounds.
    const proven = check(WALK);
    expect(proven.ok && proven.facts.needsBudget).toBe(undefined);
    const wide = { context: memory(1 << 20) };
    expect(refusal(WALK, wide).code).toBe('E_VERIFY_LOOP');
    const r = check(WALK, { ...wide, termination: 'budget' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.facts.needsBudget).toBe(true);
    expect(r.facts.insns[4]!.inBounds).toBe(true);
    // r1 walks by constants, and the test before each round keeps it inside: widening converges.
    expect(r.stats.insnsProcessed).toBeLessThan(400);
  });

  it('widens a counter until the loop test bounds it', () => {
    // 300,000 rounds summing the bytes at r1 + (r7 & 63): too many to follow, so r7 and the sum widen.
    const count = ['r0 = 0', 'r7 = 0', 'r4 = r7', 'r4 &= 63', 'r5 = r1', 'r5 += r4', 'r6 = *(u8 *)(r5 + 0)', 'r0 += r6',
      'r7 += 1', 'if r7 < 300000 goto -8', 'exit'].join('\n');
    expect(refusal(count, {}).code).toBe('E_VERIFY_LOOP');
    const r = check(count, { termination: 'budget' });
    expect(r.ok && r.facts.needsBudget).toBe(true);
  });

  it('still refuses what is unsafe, and keeps short loops exact', () => {
    expect(refusal(WALK.replace('(r1 + 0)', '(r1 + 1)'), { termination: 'budget' }).code).toBe('E_VERIFY_MEM_ACCESS');
    const short = check('r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 4 goto -3\nexit', { termination: 'budget' });
    expect(short.ok && short.facts.needsBudget).toBe(undefined);
    expect(() => check('r0 = 0\nexit', { termination: 'never' as 'prove' })).toThrow(InputError);
  });
});

describe('refusals', () => {
  it('name the pc, the instruction, the rule and the register state', () => {
    const e = refusal('r0 = 0\nr2 = *(u32 *)(r1 + 62)\nexit', { context: event(64) });
    expect(e).toBeInstanceOf(VerifyError);
    expect(e).toBeInstanceOf(ProgramError);
    expect(e.code).toBe('E_VERIFY_CTX_ACCESS');
    expect(e.pc).toBe(1);
    expect(e.message).toBe('pc 1: r2 = *(u32 *)(r1 + 62): read of 4 bytes at ctx+62 is outside the 64-byte context (r1=ctx(off=0))');
    expect(e.rule).toBe('read of 4 bytes at ctx+62 is outside the 64-byte context');
  });

  it('show bounds of the scalars involved', () => {
    const e = refusal('r2 = *(u8 *)(r1 + 0)\nr1 += r2\nr0 = *(u8 *)(r1 + 0)\nexit', { context: memory(16) });
    expect(e.message).toBe('pc 2: r0 = *(u8 *)(r1 + 0): read of 1 byte at mem+[0, 255] is outside the 16-byte memory region (r1=mem(size=16,off=0,var=scalar(umax=255)))');
  });

  it('count pcs in slots, so an lddw takes two', () => {
    const e = refusal('r3 = 0x1234 ll\nr0 = *(u64 *)(r10 - 8)\nexit');
    expect(e.pc).toBe(2);
    expect(e.code).toBe('E_VERIFY_UNINIT_STACK');
  });

  it('catch writes to r10 in programs patched after they were built', () => {
    const program = load('r1 = r10\nr0 = 0\nexit');
    const bad: Insn = { ...program.insns[0]!, dst: 10, src: 1 } as Insn;
    const r = verify(patched(program, bad), { context: memory(0), helpers: CONFORMANCE_PROTOS });
    expect(r.ok ? 'accepted' : [r.error.code, r.error.pc]).toEqual(['E_VERIFY_WRITE_R10', 0]);
  });

  it('catch uninitialized reads in programs patched after they were built', () => {
    const program = load('r1 = 1\nr0 = r1\nexit');
    const bad: Insn = { ...program.insns[1]!, src: 7 } as Insn;
    const r = verify(patched(program, bad), { context: memory(0), helpers: CONFORMANCE_PROTOS });
    expect(r.ok ? 'accepted' : [r.error.code, r.error.pc]).toEqual(['E_VERIFY_UNINIT_REGISTER', 1]);
  });

  it('refuse uninitialized reads and writes to r10 as the verifier, before exploring', () => {
    const uninit = refusal('r0 = r5\nexit');
    expect(uninit).toBeInstanceOf(VerifyError);
    expect([uninit.code, uninit.pc, uninit.rule]).toEqual(['E_VERIFY_UNINIT_REGISTER', 0, 'r5 is not initialized']);
    expect(uninit.message).toBe('pc 0: r0 = r5: r5 is not initialized');
    const r10 = refusal('r0 = 0\nr10 = 0\nexit');
    expect([r10.code, r10.pc, r10.message]).toEqual(['E_VERIFY_WRITE_R10', 1, 'pc 1: r10 = 0: r10 is the read-only frame pointer']);
    const r = check('r0 = r5\nexit', { logLevel: 1 });
    expect(r.stats.insnsProcessed).toBe(0);
    expect(r.log).toContain('pc 0: r0 = r5: r5 is not initialized');
  });

  it('refuse a read not initialized on every path, at the read', () => {
    const e = refusal('r0 = 0\nif r1 == 0 goto +1\nr3 = 1\nr0 = r3\nexit');
    expect([e.code, e.pc]).toEqual(['E_VERIFY_UNINIT_REGISTER', 3]);
  });

  it('refuse a read that the back edge of a loop leaves uninitialized, at the read, before exploring', () => {
    // The first way into the loop has r3 set; the call on the way round clobbers it.
    const e = refusal('r3 = 1\nr0 = r3\ncall 5\nif r0 != 0 goto -3\nexit', { logLevel: 1 });
    expect([e.code, e.pc, e.rule]).toEqual(['E_VERIFY_UNINIT_REGISTER', 1, 'r3 is not initialized']);
    expect(check('r3 = 1\nr0 = r3\ncall 5\nif r0 != 0 goto -3\nexit').stats.insnsProcessed).toBe(0);
  });

  it('check the options before refusing', () => {
    expect(() => check('r0 = r5\nexit', { budget: 0 })).toThrow(InputError);
  });

  it('name the repeating state of an infinite loop', () => {
    const e = refusal('r0 = 0\nr1 = 5\nif r1 == 6 goto +1\ngoto -2\nexit');
    expect(e.message).toBe('pc 2: if r1 == 6 goto +1: infinite loop: the state at this loop head repeats exactly, so nothing the verifier can see ever ends the loop (r0=0, r1=5)');
  });

  it('refuse a loop that never converges within the default budget of 1,000,000 instructions', () => {
    const r = check('r0 = 0\nr1 = 0\nr1 += 1\nr0 += r1\nif r1 != 0 goto -3\nexit');
    expect(r.ok ? 'accepted' : [r.error.code, r.error.pc]).toEqual(['E_VERIFY_LOOP', 2]);
    expect(r.stats.insnsProcessed).toBe(1_000_000);
  });
});

describe('stats and log', () => {
  const text = 'r2 = *(u8 *)(r1 + 0)\nif r2 > 3 goto +2\nr0 = *(u64 *)(r10 - 8)\nexit\nr0 = 0\nexit';

  it('count processed instructions and stored states', () => {
    const r = check('r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 100 goto -3\nexit');
    expect(r.ok).toBe(true);
    expect(r.stats.insnsProcessed).toBe(2 + 3 * 100 + 1);
    expect(r.stats.statesStored).toBeGreaterThan(0);
    expect(r.stats.peakStates).toBeLessThanOrEqual(r.stats.statesStored);
    expect(typeof r.stats.timeMs).toBe('number');
  });

  it('level 0 logs nothing', () => {
    expect(check(text, { context: memory(8) }).log).toBe('');
  });

  it('level 1 shows the path to the refusal', () => {
    const r = check(text, { context: memory(8), logLevel: 1 });
    expect(r.log.split('\n')).toEqual([
      'path to the refused instruction (3 instructions):',
      '0: r2 = *(u8 *)(r1 + 0)',
      '1: if r2 > 3 goto +2',
      '2: r0 = *(u64 *)(r10 - 8)',
      'pc 2: r0 = *(u64 *)(r10 - 8): read of 8 bytes at fp-8: stack byte fp-8 is not initialized',
    ]);
  });

  it('level 2 shows the state before every processed instruction', () => {
    const r = check('r2 = *(u8 *)(r1 + 0)\nif r2 > 3 goto +1\nr2 = 9\nr1 += r2\nr0 = *(u8 *)(r1 + 0)\nexit', { context: memory(256), logLevel: 2 });
    expect(r.log.split('\n')).toEqual([
      '0: r2 = *(u8 *)(r1 + 0) ; R1=mem(size=256,off=0) R2=256 R10=fp0',
      '1: if r2 > 3 goto +1 ; R1=mem(size=256,off=0) R2=scalar(umax=255) R10=fp0',
      '2: r2 = 9 ; R1=mem(size=256,off=0) R2=scalar(umax=3) R10=fp0',
      '3: r1 += r2 ; R1=mem(size=256,off=0) R2=9 R10=fp0',
      '4: r0 = *(u8 *)(r1 + 0) ; R1=mem(size=256,off=9) R2=9 R10=fp0',
      '5: exit ; R0=scalar(umax=255) R1=mem(size=256,off=9) R2=9 R10=fp0',
      'from 1 to 3:',
      '3: r1 += r2 ; R1=mem(size=256,off=0) R2=scalar(umin=4,umax=255) R10=fp0',
      '4: r0 = *(u8 *)(r1 + 0) ; R1=mem(size=256,off=0,var=scalar(umin=4,umax=255)) R2=scalar(umin=4,umax=255) R10=fp0',
      '5: exit ; R0=scalar(umax=255) R1=mem(size=256,off=0,var=scalar(umin=4,umax=255)) R2=scalar(umin=4,umax=255) R10=fp0',
    ]);
  });

  it('stores a path\'s state at most once every four instructions outside loop heads, as the kernel spaces them', () => {
    const tests = Array.from({ length: 16 }, (_, i) => [`if r2 == ${i} goto +0`, 'r3 += 1']).flat();
    const r = check(['r2 = *(u8 *)(r1 + 0)', 'r3 = 0', ...tests, 'r0 = r3', 'exit'].join('\n'), { context: memory(8) });
    expect(r.ok).toBe(true);
    expect(r.stats.statesStored).toBeGreaterThan(0);
    expect(r.stats.statesStored).toBeLessThanOrEqual(Math.ceil(r.stats.insnsProcessed / 4));
  });

  it('prunes a path whose only difference is a value that no longer matters', () => {
    // A path stores its state only after two jumps and four instructions (explore.ts): the first
    // path reaches pc 10 with both, the second is pruned there.
    const body = ['r2 = *(u8 *)(r1 + 0)', 'if r2 > 3 goto +8', 'r2 = 9', 'r3 = 1', ...Array<string>(5).fill('r3 += 1'), 'goto +0', 'r0 = r2', 'exit'];
    const r = check(body.join('\n'), { context: memory(8), logLevel: 2 });
    expect(r.log.split('\n').slice(-2)).toEqual(['from 1 to 10:', '10: safe (a stored state subsumes this one)']);
    expect(r.stats.statesPruned).toBe(1);
  });
});

describe('facts for the JIT', () => {
  it('say which divisors are non-zero and which signed divisions cannot overflow', () => {
    const r = check([
      'r2 = *(u8 *)(r1 + 0)', 'r3 = 100', 'r3 /= r2', 'r2 |= 1', 'r3 /= r2', 'r4 = -7', 'r4 s/= r2', 'r5 = 9',
      'r5 s%= -1', 'r0 = r3', 'exit',
    ].join('\n'));
    if (!r.ok) throw r.error;
    const f = r.facts.insns;
    expect(f[2]).toEqual({ divisorNonZero: false });
    expect(f[4]).toEqual({ divisorNonZero: true });
    expect(f[6]).toEqual({ divisorNonZero: true, noSignedOverflow: true });
    expect(f[8]).toEqual({ divisorNonZero: true, noSignedOverflow: true });
  });

  it('mark in-bounds accesses with the kinds of memory they touch', () => {
    const r = check('r2 = *(u8 *)(r1 + 0)\n*(u64 *)(r10 - 8) = r2\nr0 = *(u64 *)(r10 - 8)\nexit');
    if (!r.ok) throw r.error;
    expect(r.facts.insns[0]).toEqual({ inBounds: true, memory: ['mem'] });
    expect(r.facts.insns[1]).toEqual({ inBounds: true, memory: ['stack'] });
  });

  it('merge kinds when one access sees several', () => {
    const r = check('r3 = r10\nr3 += -8\n*(u64 *)(r10 - 8) = 0\nr2 = *(u8 *)(r1 + 0)\nif r2 > 5 goto +1\nr3 = r1\nr0 = *(u64 *)(r3 + 0)\nexit');
    if (!r.ok) throw r.error;
    expect(r.facts.insns[6]).toEqual({ inBounds: true, memory: ['stack', 'mem'] });
  });

  it('say whether shift counts are in range and compares fit 32 bits', () => {
    const r = check('r2 = *(u8 *)(r1 + 0)\nr3 = r2\nr3 &= 63\nr0 = 1\nr0 <<= r3\nr0 <<= r2\nif r2 > 7 goto +0\nr4 = *(u64 *)(r1 + 0)\nif r4 > 7 goto +0\nexit');
    if (!r.ok) throw r.error;
    expect(r.facts.insns[4]).toEqual({ shiftInRange: true });
    expect(r.facts.insns[5]).toEqual({ shiftInRange: false });
    expect(r.facts.insns[6]).toEqual({ fits32: true });
    expect(r.facts.insns[8]).toEqual({ fits32: false });
  });

  it('give constant map addresses and callx targets', () => {
    const protos = new Map<number, HelperProto>([[2, { args: [], ret: 'scalar' }]]);
    const r = verify(load('r1 = map_value_by_idx(1, 8) ll\nr0 = *(u64 *)(r1 + 0)\nr2 = 2\ncallx r2\nexit'), {
      context: memory(0), helpers: protos, maps: [{ keySize: 4, valueSize: 8 }, { keySize: 4, valueSize: 32 }],
    });
    if (!r.ok) throw r.error;
    expect(r.facts.insns[0]).toEqual({ constPointer: { kind: 'map_value', map: 1, off: 8 } });
    expect(r.facts.insns[1]).toBeUndefined();
    expect(r.facts.insns[2]).toEqual({ inBounds: true, memory: ['map_value'] });
    expect(r.facts.insns[4]).toEqual({ callTarget: 2 });
  });

  it('leave unreached instructions undefined', () => {
    const r = check('r0 = 0\nif r0 == 0 goto +1\nr0 = 1\nexit');
    if (!r.ok) throw r.error;
    expect(r.facts.insns.map((f) => f !== undefined)).toEqual([true, true, false, true]);
  });

  it('report each function stack depth and the deepest chain (rounded to 16 bytes a frame)', () => {
    const r = check('*(u64 *)(r10 - 24) = 0\ncall fn\nexit\nfn:\n*(u32 *)(r10 - 100) = 0\nr0 = 0\nexit');
    if (!r.ok) throw r.error;
    expect(r.facts.stackDepth).toEqual([24, 100]);
    expect(r.facts.maxStackDepth).toBe(32 + 112);
  });
});

describe('helpers', () => {
  const program = load('r1 = 1\ncall 7\nexit');

  it('take prototypes from a registry', () => {
    const registry = new HelperRegistry([{ id: 7, name: 'seven', impl: () => 7n, proto: { args: ['scalar'], ret: 'scalar' } }]);
    expect(verify(program, { context: memory(0), helpers: registry }).ok).toBe(true);
  });

  it('refuse registered helpers without a prototype', () => {
    const registry = new HelperRegistry([{ id: 7, name: 'seven', impl: () => 7n }]);
    const r = verify(program, { context: memory(0), helpers: registry });
    expect(r.ok ? 'accepted' : r.error.message).toBe('pc 1: call 7: helper seven#7 has no prototype, so verified programs cannot call it');
  });

  it('name the helper and the argument that is wrong', () => {
    const registry = new HelperRegistry([{ id: 7, name: 'seven', impl: () => 7n, proto: { args: ['scalar'], ret: 'scalar' } }]);
    const r = verify(load('r1 = r10\ncall 7\nexit'), { context: memory(0), helpers: registry });
    expect(r.ok ? 'accepted' : r.error.message).toBe('pc 1: call 7: helper seven#7 argument 1 (r1) must be a scalar, not fp0 (r1=fp0)');
  });

  it('cover the conformance suite helpers', () => {
    expect([...CONFORMANCE_PROTOS.keys()]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('context descriptors', () => {
  it('describe r1 and r2', () => {
    expect(memory(16).r1).toEqual({ kind: 'memory', size: 16, readOnly: false });
    expect(memory(16).r2).toBe('size');
    expect(event(8).r1.kind).toBe('struct');
    expect(packet().r1.size).toBe(16);
  });

  it('refuse malformed user-defined structs', () => {
    expect(() => structContext('bad', 8, [{ name: 'a', offset: 4, size: 8 }])).toThrow(InputError);
    expect(() => structContext('bad', 16, [{ name: 'a', offset: 0, size: 8 }, { name: 'b', offset: 4, size: 4 }])).toThrow(/overlaps/);
    expect(() => structContext('bad', 16, [{ name: 'p', offset: 0, size: 2, load: 'packet' }])).toThrow(/4 or 8 bytes/);
    expect(() => memory(-1)).toThrow(InputError);
  });

  it('user-defined structs can hand out packet pointers', () => {
    const ctx = structContext('skb', 24, [
      { name: 'len', offset: 0, size: 4, readOnly: true },
      { name: 'data', offset: 8, size: 8, load: 'packet' },
      { name: 'end', offset: 16, size: 8, load: 'packet_end' },
    ], { ret: { min: 0n, max: 1n } });
    const text = 'r2 = *(u64 *)(r1 + 8)\nr3 = *(u64 *)(r1 + 16)\nr4 = r2\nr4 += 2\nr0 = 0\nif r4 > r3 goto +2\nr0 = *(u16 *)(r2 + 0)\nr0 &= 1\nexit';
    expect(verify(load(text), { context: ctx, helpers: CONFORMANCE_PROTOS }).ok).toBe(true);
  });
});

// The runtime rules both engines obey (src/runtime/executable.ts): entry state, memory regions, budget,
// local calls, helpers, batch runs, and the error code and pc of every way a run can stop. Every case
// runs once per engine; engine-specific behaviour is tested in interp-semantics.test.ts and jit-*.test.ts.
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfRuntimeError, InputError, ProgramError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import { compileJit } from '../src/jit/index.js';
import { createMap } from '../src/maps/map.js';
import type { Program } from '../src/program/program.js';
import { buildProgram } from '../src/program/program.js';
import type { ExecOptions, Executable, Runtime } from '../src/runtime/executable.js';
import { HelperFault, HelperRegistry, type HelperSpec } from '../src/runtime/helpers.js';
import { EngineMemory, GUARD_GAP, INTERNAL_START, NULL_GUARD, STACK_PER_CPU } from '../src/runtime/memory.js';

type Engine = (program: Program, rt: Runtime, options?: ExecOptions) => Executable;

const engines: [string, Engine][] = [['interp', createInterpreter], ['jit', compileJit]];

/** Runs and returns the runtime error (failing the test when there is none). */
function failure(run: () => unknown): BpfRuntimeError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(BpfRuntimeError);
    return e as BpfRuntimeError;
  }
  throw new Error('expected the run to fail');
}

const ctxOf = (rt: Runtime, bytes: number[] | Uint8Array): number => {
  const at = rt.mem.alloc(bytes.length);
  rt.mem.write(at, Uint8Array.from(bytes));
  return at;
};

const helper = (id: number, impl: HelperSpec['impl'], extra: Partial<HelperSpec> = {}): HelperSpec =>
  ({ id, name: `h${id}`, impl, ...extra });

/** main calls f1, f1 calls f2, ... fn returns n. */
function callChain(n: number): string {
  const lines = ['mov %r6, 66', 'call local f1', 'add %r0, %r6', 'exit'];
  for (let k = 1; k <= n; k++) {
    lines.push(`f${k}:`, 'mov %r6, 0', 'stxdw [%r10-8], %r6');
    lines.push(k < n ? `call local f${k + 1}` : `mov %r0, ${n}`, 'exit');
  }
  return lines.join('\n');
}

describe.each(engines)('%s', (_name, create) => {
  function setup(asm: string, options: ExecOptions = {}, helpers: HelperSpec[] = [], cpus = 1): { exe: Executable; rt: Runtime } {
    const rt: Runtime = { mem: new EngineMemory({ cpus }), helpers: new HelperRegistry(helpers) };
    return { exe: create(buildProgram(assemble(asm, 'ubpf')), rt, options), rt };
  }

  describe('entry state', () => {
    it('passes r1 = context, r2 = length, r10 = top of the CPU stack', () => {
      const { exe, rt } = setup('mov %r0, %r2\nexit', {}, [], 2);
      expect(exe.run(ctxOf(rt, new Array(77).fill(0)), 77)).toBe(77n);
      expect(rt.mem.cpus).toBe(2);
      const r1 = setup('mov %r0, %r1\nexit');
      const at = ctxOf(r1.rt, [1, 2, 3]) + 1;
      expect(r1.exe.run(at, 0)).toBe(BigInt(at));
      const fp = setup('mov %r0, %r10\nexit', {}, [], 2);
      expect(fp.exe.run(0, 0, 1)).toBe(BigInt(fp.rt.mem.frameTop(1)));
      expect(fp.exe.run(0, 0, 0)).toBe(BigInt(fp.rt.mem.frameTop(0)));
    });
    it('starts r3-r5 and r6-r9 at zero', () => {
      const asm = 'mov %r0, %r3\nor %r0, %r4\nor %r0, %r5\nor %r0, %r6\nor %r0, %r7\nor %r0, %r8\nor %r0, %r9\nexit';
      // Reading them is the verifier's refusal; an unverified program reads them as 0.
      expect(setup(asm).exe.run(0x12345, 99)).toBe(0n);
      expect(setup(`mov %r3, 1\nmov %r9, 2\n${asm}`).exe.run(0, 0)).toBe(3n);
    });
    it('run returns all 64 bits unsigned, runU32 the low 32 unsigned', () => {
      const { exe } = setup('lddw %r0, 0xfedcba9887654321\nexit');
      expect(exe.run(0, 0)).toBe(0xfedcba9887654321n);
      expect(exe.runU32(0, 0)).toBe(0x87654321);
    });
    it('refuses bad arguments with InputError', () => {
      const { exe } = setup('mov %r0, 0\nexit');
      expect(() => exe.run(-1, 0)).toThrow(InputError);
      expect(() => exe.run(0.5, 0)).toThrow(InputError);
      expect(() => exe.runU32(0, 2 ** 32)).toThrow(InputError);
      expect(() => exe.run(0, 0, 1)).toThrow(InputError);
    });
  });

  describe('memory regions (checked mode)', () => {
    it('faults outside the context with E_RUN_MEMORY at the pc', () => {
      const { exe, rt } = setup('mov %r0, 0\nldxw %r0, [%r1+60]\nldxw %r0, [%r1+61]\nexit');
      const ctx = ctxOf(rt, new Array(64).fill(1));
      expect(failure(() => exe.run(ctx, 64))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 2 });
      expect(exe.run(ctx, 65)).toBe(0x010101n); // byte 64 is the next (zeroed) allocation
    });
    it('faults before any effect: a partly outside store writes nothing', () => {
      const { exe, rt } = setup('mov %r0, 0\nstdw [%r1+60], -1\nexit');
      const ctx = ctxOf(rt, new Array(72).fill(0));
      expect(failure(() => exe.run(ctx, 64)).pc).toBe(1);
      expect([...rt.mem.read(ctx + 56, 16)].every((b) => b === 0)).toBe(true);
    });
    it('checks computed pointers against every region', () => {
      const asm = 'ldxb %r2, [%r1]\nadd %r2, %r1\nldxb %r0, [%r2]\nexit';
      const { exe, rt } = setup(asm);
      const ctx = ctxOf(rt, [3, 0, 0, 9]);
      expect(exe.run(ctx, 4)).toBe(9n);
      rt.mem.write(ctx, Uint8Array.of(4));
      expect(failure(() => exe.run(ctx, 4))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 2 });
    });
    it('null and wrapped pointers fault', () => {
      expect(failure(() => setup('ldxb %r0, [%r1]\nexit').exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
      const wrap = setup('lddw %r2, 0xffffffffffffffff\nldxb %r0, [%r2+1]\nexit');
      expect(failure(() => wrap.exe.run(0, 0)).pc).toBe(2);
      const high = setup('lddw %r2, 0x100000000\nadd %r2, %r1\nldxb %r0, [%r2]\nexit');
      const ctx = ctxOf(high.rt, [1]);
      expect(failure(() => high.exe.run(ctx, 1)).pc).toBe(3);
    });
    it('allows the stack frames in use and nothing past them', () => {
      expect(setup('stb [%r10-512], 7\nldxb %r0, [%r10-512]\nexit').exe.run(0, 0)).toBe(7n);
      expect(failure(() => setup('ldxb %r0, [%r10-513]\nexit').exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
      expect(failure(() => setup(`ldxb %r0, [%r10-${STACK_PER_CPU}]\nexit`).exe.run(0, 0)).code).toBe('E_RUN_MEMORY');
      expect(failure(() => setup('ldxdw %r0, [%r10-4]\nexit').exe.run(0, 0)).code).toBe('E_RUN_MEMORY');
      expect(failure(() => setup('mov %r2, %r10\nldxb %r0, [%r2]\nexit').exe.run(0, 0)).pc).toBe(1);
    });
    it('lets a callee reach its callers\' frames, and its own, but not the frames below it', () => {
      // The caller stores 5 at the bottom of its frame; the callee reads it through its r10 + 0..511.
      const callee = 'stdw [%r10-512], 5\ncall local f\nexit\nf:\nstb [%r10-512], 1\nldxdw %r0, [%r10+0]\nexit';
      expect(setup(callee).exe.run(0, 0)).toBe(5n);
      const below = 'call local f\nexit\nf:\nldxb %r0, [%r10-513]\nexit';
      expect(failure(() => setup(below).exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 2 });
      // Once the callee returned, its frame is no longer in use.
      const after = 'call local f\nldxb %r0, [%r10-600]\nexit\nf:\nstb [%r10-88], 1\nmov %r0, 0\nexit';
      expect(failure(() => setup(after).exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
    });
    it('faults alike on the guard gaps around the stack and the context', () => {
      const { exe, rt } = setup('mov %r0, 0\nldxb %r0, [%r1-1]\nexit');
      const ctx = ctxOf(rt, [1, 2]);
      expect(failure(() => exe.run(ctx, 2))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
      // Past the top of the stack lies a gap, not the first heap allocation.
      const top = setup('ldxb %r0, [%r10+8]\nexit');
      ctxOf(top.rt, [9]);
      expect(failure(() => top.exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
      expect(rt.mem.heapStart - rt.mem.frameTop(0)).toBeGreaterThanOrEqual(GUARD_GAP);
    });
    it('gives each CPU its own stack', () => {
      const { exe } = setup('ldxdw %r0, [%r10-8]\nstdw [%r10-8], 5\nexit', {}, [], 2);
      expect(exe.run(0, 0, 0)).toBe(0n);
      expect(exe.run(0, 0, 1)).toBe(0n);
      expect(exe.run(0, 0, 1)).toBe(5n);
    });
    it('allows extra regions given in the options, and only those', () => {
      const mem = new EngineMemory();
      const rt: Runtime = { mem, helpers: new HelperRegistry() };
      const extra = mem.alloc(16);
      mem.view.setUint32(extra + 12, 0xabcd, true);
      const program = buildProgram(assemble(`lddw %r2, ${extra}\nldxw %r0, [%r2+12]\nexit`, 'ubpf'));
      expect(create(program, rt, { regions: [{ start: extra, end: extra + 16 }] }).run(0, 0)).toBe(0xabcdn);
      expect(failure(() => create(program, rt).run(0, 0)).code).toBe('E_RUN_MEMORY');
      expect(failure(() => create(program, rt, { regions: [{ start: extra, end: extra + 15 }] }).run(0, 0)).pc).toBe(2);
      expect(() => create(program, rt, { regions: [{ start: 10, end: 5 }] })).toThrow(InputError);
    });
    it('counts the part of an extra region past the memory end once the memory grows', () => {
      const mem = new EngineMemory();
      const rt: Runtime = { mem, helpers: new HelperRegistry() };
      const end = mem.buffer.byteLength;
      const program = buildProgram(assemble(`lddw %r2, ${end - 8}\nldxdw %r0, [%r2+8]\nexit`, 'ubpf'));
      const exe = create(program, rt, { regions: [{ start: end - 8, end: end + 4096 }] });
      expect(failure(() => exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 2 });
      mem.alloc(end - mem.heapEnd + 65536);
      mem.view.setBigUint64(end, 77n, true);
      expect(exe.run(0, 0)).toBe(77n);
    });
    it('sees memory that grew after the engine was created, and refuses a context past the memory end', () => {
      const { exe, rt } = setup('ldxb %r0, [%r1+1000]\nexit');
      const big = rt.mem.alloc(8 << 20);
      rt.mem.bytes[big + 1000] = 42;
      expect(exe.run(big, 8 << 20)).toBe(42n);
      const end = rt.mem.buffer.byteLength;
      expect(() => exe.run(end - 500, 4000)).toThrow(InputError);
      expect(() => exe.run(end - 500, 500)).not.toThrow(InputError);
    });
    it('refuses contexts outside the heap: the null guard, the JIT\'s data and the stacks', () => {
      const { exe, rt } = setup('mov %r0, 0\nexit');
      for (const addr of [8, INTERNAL_START, NULL_GUARD, rt.mem.frameTop(0) - 64, rt.mem.heapStart - 1]) {
        expect(() => exe.run(addr, 1)).toThrow(InputError);
      }
      expect(() => exe.run(0, 1)).toThrow(InputError);
      expect(exe.run(0, 0)).toBe(0n);
      expect(exe.run(rt.mem.heapStart, 0)).toBe(0n);
    });
    it('faults on a misaligned atomic access, before any effect', () => {
      const { exe, rt } = setup('mov %r2, 1\nlock add [%r1+2], %r2\nmov %r0, 0\nexit');
      const ctx = ctxOf(rt, new Array(16).fill(0));
      expect(failure(() => exe.run(ctx, 16))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
      expect([...rt.mem.read(ctx, 16)].every((b) => b === 0)).toBe(true);
      expect(failure(() => setup('mov %r0, 0\nmov %r2, 1\nlock add32 [%r10-6], %r2\nexit').exe.run(0, 0)).pc).toBe(2);
      expect(setup('mov %r2, 1\nstw [%r10-4], 0\nlock fetch add32 [%r10-4], %r2\nldxw %r0, [%r10-4]\nexit').exe.run(0, 0)).toBe(1n);
    });
  });

  describe('budget', () => {
    // 2 + 3 * 10 + 1 = 33 instructions; the loop block is entered by falling through from a mov.
    const loop = 'mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit';
    it('runs when the budget covers every block entered', () => {
      expect(setup(loop, { budget: 33 }).exe.run(0, 0)).toBe(10n);
    });
    it('stops with E_RUN_BUDGET at the first pc of the block that exceeds it', () => {
      const at = (budget: number): BpfRuntimeError => failure(() => setup(loop, { budget }).exe.run(0, 0));
      expect(at(32)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 5 });
      expect(at(31)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 2 });
      expect(at(4)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 2 });
      expect(at(1)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 0 });
      expect(at(0)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 0 });
    });
    it('charges a callee block on entry, and counts lddw as one instruction', () => {
      const call = 'mov %r0, 0\ncall local f\nexit\nf:\nlddw %r0, 0x100000000\nexit';
      expect(setup(call, { budget: 5 }).exe.run(0, 0)).toBe(0x100000000n);
      expect(failure(() => setup(call, { budget: 4 }).exe.run(0, 0))).toMatchObject({ code: 'E_RUN_BUDGET', pc: 3 });
    });
    it('charges the block a local call returns into when it starts a new block', () => {
      // blocks: [mov, call] 2, f 2, back 2 (entered on return, then by the jump) twice, exit 1 = 9
      const asm = 'mov %r6, 2\ncall local f\nback:\nsub %r6, 1\njne %r6, 0, back\nexit\nf:\nmov %r0, 1\nexit';
      const at = (budget: number): BpfRuntimeError => failure(() => setup(asm, { budget }).exe.run(0, 0));
      expect(setup(asm, { budget: 9 }).exe.run(0, 0)).toBe(1n);
      expect(at(8)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 4 });
      expect(at(5)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 2 });
      expect(at(3)).toMatchObject({ code: 'E_RUN_BUDGET', pc: 5 });
    });
    it('charges loop-free code exactly when the budget is below its longest path', () => {
      const asm = 'jeq %r2, 0, short\nmov %r0, 1\nmov %r0, 2\nmov %r0, 3\nexit\nshort:\nmov %r0, 9\nexit';
      const five = setup(asm, { budget: 5 });
      expect(five.exe.run(ctxOf(five.rt, [0]), 1)).toBe(3n);
      const four = setup(asm, { budget: 4 });
      expect(failure(() => four.exe.run(ctxOf(four.rt, [0]), 1))).toMatchObject({ code: 'E_RUN_BUDGET', pc: 1 });
      expect(setup(asm, { budget: 4 }).exe.run(0, 0)).toBe(9n);
    });
    it('stops an endless loop, and each run gets the whole budget again', () => {
      expect(failure(() => setup('mov %r0, 0\nl:\nja l\nexit', { budget: 1000 }).exe.run(0, 0)).code).toBe('E_RUN_BUDGET');
      const { exe } = setup(loop, { budget: 33 });
      for (let k = 0; k < 3; k++) expect(exe.run(0, 0)).toBe(10n);
    });
    it('refuses a budget that is not a non-negative integer', () => {
      expect(() => setup('mov %r0, 0\nexit', { budget: -1 })).toThrow(InputError);
      expect(() => setup('mov %r0, 0\nexit', { budget: 1.5 })).toThrow(InputError);
    });
  });

  describe('local calls', () => {
    it('give each callee its own 512-byte frame and restore r6-r9 and r10', () => {
      const asm = 'mov %r6, 1\nmov %r9, 9\nstxdw [%r10-8], %r9\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n' +
        'f:\nmov %r6, 100\nmov %r9, 100\nstxdw [%r10-8], %r6\nmov %r0, %r10\nexit';
      const { exe, rt } = setup(asm);
      expect(exe.run(0, 0)).toBe(BigInt(rt.mem.frameTop(0) - 512) + 9n + 1n);
    });
    it('pass r1-r5 to the callee', () => {
      const asm = 'mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall local f\nexit\n' +
        'f:\nmov %r0, %r1\nmul %r0, 10\nadd %r0, %r2\nmul %r0, 10\nadd %r0, %r3\nmul %r0, 10\nadd %r0, %r4\nmul %r0, 10\nadd %r0, %r5\nexit';
      expect(setup(asm).exe.run(0, 0)).toBe(12345n);
    });
    it('allow 8 frames; a ninth stops the run with E_RUN_CALL_DEPTH at the call', () => {
      expect(setup(callChain(7)).exe.run(0, 0)).toBe(7n + 66n);
      const err = failure(() => setup(callChain(8)).exe.run(0, 0));
      expect(err).toMatchObject({ code: 'E_RUN_CALL_DEPTH', pc: 4 + 6 * 4 + 2 }); // the call in f7
    });
    it('check the depth only on the path that goes too deep', () => {
      const asm = callChain(8).replace('call local f1', 'mov %r0, 0\njeq %r2, 0, skip\ncall local f1\nskip:');
      const { exe, rt } = setup(asm);
      expect(exe.run(0, 0)).toBe(66n);
      expect(failure(() => exe.run(ctxOf(rt, [0]), 1)).code).toBe('E_RUN_CALL_DEPTH');
    });
  });

  describe('helpers', () => {
    it('r0 = helper(r1..r5) and r1-r5 keep their values', () => {
      const seen: bigint[][] = [];
      const record = (id: number): HelperSpec => helper(id, (a, b, c, d, e) => {
        seen.push([a, b, c, d, e]);
        return a * 10000n + b * 1000n + c * 100n + d * 10n + e;
      });
      const asm = 'mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, -5\ncall 7\nmov %r6, %r0\ncall 8\nexit';
      expect(setup(asm, {}, [record(7), record(8)]).exe.run(0, 0)).toBe(12340n - 5n);
      expect(seen).toEqual([[1n, 2n, 3n, 4n, 2n ** 64n - 5n], [1n, 2n, 3n, 4n, 2n ** 64n - 5n]]);
    });
    it('returns a helper result above 2^63 intact', () => {
      expect(setup('call 1\nexit', {}, [helper(1, () => 2n ** 64n - 2n)]).exe.run(0, 0)).toBe(2n ** 64n - 2n);
    });
    it('a static call to an unregistered helper is refused when the engine is created', () => {
      const program = buildProgram(assemble('mov %r0, 0\ncall 99\nexit', 'ubpf'));
      const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
      expect(() => create(program, rt)).toThrow(ProgramError);
      expect(() => create(program, rt)).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_HELPER', pc: 1 }));
    });
    it('an lddw naming a map loads the address of the map given at that index; one not given is refused when the engine is created', () => {
      const program = buildProgram(assemble('lddw %r0, map_by_fd(1)\nexit', 'ubpf'));
      const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
      const spec = { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 } as const;
      const maps = [createMap(rt.mem, spec), createMap(rt.mem, spec)];
      expect(create(program, rt, { maps }).run(0, 0)).toBe(BigInt(maps[1]!.address));
      expect(() => create(program, rt, { maps: maps.slice(0, 1) })).toThrow(expect.objectContaining({ code: 'E_PROGRAM_MAP', pc: 0 }));
      const value = buildProgram(assemble('lddw %r0, map_value_by_idx(0, 4)\nexit', 'ubpf'));
      const one = createMap(rt.mem, { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
      expect(create(value, rt, { maps: [one] }).run(0, 0)).toBe(BigInt(one.valueRegion.start + 4));
      expect(() => create(value, rt, { maps })).toThrow(expect.objectContaining({ code: 'E_PROGRAM_MAP', pc: 0 }));
    });
    it('callx calls by id; an unknown or impossible id is E_RUN_UNKNOWN_HELPER', () => {
      const { exe } = setup('mov %r1, 4\nmov %r2, 2\ncall %r1\nexit', {}, [helper(4, (a) => a + 1n)]);
      expect(exe.run(0, 0)).toBe(5n);
      const bad = setup('mov %r1, 3\ncall %r1\nexit', {}, [helper(4, () => 0n)]);
      expect(failure(() => bad.exe.run(0, 0))).toMatchObject({ code: 'E_RUN_UNKNOWN_HELPER', pc: 1 });
      const huge = setup('lddw %r1, 0x100000004\ncall %r1\nexit', {}, [helper(4, () => 0n)]);
      expect(failure(() => huge.exe.run(0, 0))).toMatchObject({ code: 'E_RUN_UNKNOWN_HELPER', pc: 2 });
    });
    it('maps helper failures to runtime errors at the call pc', () => {
      const throwing = (e: unknown): HelperSpec => helper(1, () => { throw e; });
      const at = (spec: HelperSpec): BpfRuntimeError => failure(() => setup('mov %r0, 0\ncall 1\nexit', {}, [spec]).exe.run(0, 0));
      expect(at(throwing(new HelperFault('bad pointer')))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
      expect(at(throwing(new TypeError('oops')))).toMatchObject({ code: 'E_RUN_HELPER', pc: 1 });
      expect(at(throwing('a string'))).toMatchObject({ code: 'E_RUN_HELPER', pc: 1 });
      expect(at(helper(1, () => 5 as unknown as bigint))).toMatchObject({ code: 'E_RUN_HELPER', pc: 1 });
      expect(() => setup('call 1\nexit', {}, [throwing(new InputError('x'))]).exe.run(0, 0)).toThrow(InputError);
    });
    it('an unwindOnZero helper returning 0 ends the whole run with r0 = 0, even from a callee', () => {
      const asm = 'mov %r0, 7\ncall local f\nmov %r0, 9\nexit\nf:\nmov %r1, 0\ncall 5\nmov %r0, 8\nexit';
      const helpers = conformanceHelpers();
      expect(setup(asm, {}, helpers).exe.run(0, 0)).toBe(0n);
      expect(setup(asm.replace('mov %r1, 0', 'mov %r1, 3'), {}, helpers).exe.run(0, 0)).toBe(9n);
      expect(setup('mov %r1, 0\nmov %r2, 5\ncall %r2\nmov %r0, 4\nexit', {}, helpers).exe.run(0, 0)).toBe(0n);
    });
    it('a helper may run the same program again', () => {
      const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
      let exe: Executable | undefined;
      rt.helpers.register(helper(1, (a) => (a === 0n ? 100n : exe!.run(0, 0) + a)));
      exe = create(buildProgram(assemble('mov %r6, %r2\nmov %r1, %r2\ncall 1\nadd %r0, %r6\nexit', 'ubpf')), rt);
      expect(exe.run(ctxOf(rt, [1, 2, 3, 4, 5]), 5)).toBe(100n + 5n + 5n);
    });
    it('a nested run that unwinds does not unwind the outer run', () => {
      const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry(conformanceHelpers()) };
      let exe: Executable | undefined;
      rt.helpers.register(helper(9, () => exe!.run(0, 0) + 1n));
      // With r2 = 0 the program unwinds at once; otherwise it runs itself (which unwinds) and goes on.
      const asm = 'jne %r2, 0, outer\nmov %r1, 0\ncall 5\nexit\nouter:\ncall 9\nmov %r6, %r0\nmov %r1, 1\ncall 5\nmov %r0, %r6\nadd %r0, 10\nexit';
      exe = create(buildProgram(assemble(asm, 'ubpf')), rt);
      expect(exe.run(ctxOf(rt, [0]), 1)).toBe(11n);
    });
  });

  describe('conformance helpers', () => {
    const helpers = conformanceHelpers();
    it('gather_bytes, sqrti and no_op', () => {
      const gather = 'mov %r1, 0x101\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 0\nexit';
      expect(setup(gather, {}, helpers).exe.run(0, 0)).toBe(0x0102030405n);
      expect(setup('lddw %r1, 0xfffffffffffffffe\ncall 3\nexit', {}, helpers).exe.run(0, 0)).toBe(0xffffffffn);
      expect(setup('mov %r1, 1000001\ncall 3\nexit', {}, helpers).exe.run(0, 0)).toBe(1000n);
      expect(setup('mov %r0, 3\ncall 2\nexit', {}, helpers).exe.run(0, 0)).toBe(0n);
    });
    it('memfrob sees the run\'s regions: it xors the buffer with 42, and a bad pointer faults at the call', () => {
      const { exe, rt } = setup('mov %r2, 4\ncall 1\nexit', {}, helpers);
      const ctx = ctxOf(rt, [1, 2, 3, 4, 5]);
      expect(exe.run(ctx, 5)).toBe(0n);
      expect([...rt.mem.read(ctx, 5)]).toEqual([1 ^ 42, 2 ^ 42, 3 ^ 42, 4 ^ 42, 5]);
      expect(failure(() => exe.run(ctx, 3))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
    });
    it('helpers see the stack frames in use, as the program does', () => {
      const below = 'mov %r1, %r10\nadd %r1, -600\nmov %r2, 4\ncall 1\nexit';
      expect(failure(() => setup(below, {}, helpers).exe.run(0, 0))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 3 });
      // From a callee, its caller's frame is in use: memfrob xors the caller's bytes with 42.
      const caller = 'stw [%r10-4], 0\ncall local f\nldxw %r0, [%r10-4]\nexit\nf:\nmov %r1, %r10\nadd %r1, 508\nmov %r2, 4\ncall 1\nexit';
      expect(setup(caller, {}, helpers).exe.run(0, 0)).toBe(0x2a2a2a2an);
    });
    it('strcmp_ext compares NUL-terminated strings and faults past the regions', () => {
      const { exe, rt } = setup('mov %r6, %r1\nadd %r1, 4\nmov %r2, %r1\nadd %r2, 4\ncall 4\nexit', {}, helpers);
      const text = (s: string): number[] => [...Buffer.from(s, 'latin1')];
      const ctx = ctxOf(rt, [...text('xxxxabc\0abd\0')]);
      expect(BigInt.asIntN(64, exe.run(ctx, 12))).toBe(BigInt('c'.charCodeAt(0) - 'd'.charCodeAt(0)));
      expect(failure(() => exe.run(ctx, 10))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 4 });
    });
  });

  describe('runBatch', () => {
    it('runs once per event and stores each r0 as a little-endian u64', () => {
      const { exe, rt } = setup('ldxb %r0, [%r1+1]\nlsh %r0, 40\nadd %r0, %r2\nexit');
      const base = ctxOf(rt, Array.from({ length: 40 }, (_, k) => k));
      const results = rt.mem.alloc(8 * 5);
      exe.runBatch(base, 8, 3, 5, results);
      for (let k = 0; k < 5; k++) {
        expect(rt.mem.view.getBigUint64(results + 8 * k, true)).toBe((BigInt(8 * k + 1) << 40n) + 3n);
      }
      expect(() => exe.runBatch(base, 8, 3, 5, rt.mem.buffer.byteLength)).toThrow(InputError);
      expect(() => exe.runBatch(base, -8, 3, 5, results)).toThrow(InputError);
    });
    it('runs nothing for no events', () => {
      // The program writes its context: a run would change the byte.
      const { exe, rt } = setup('stb [%r1], 9\nmov %r0, 7\nexit');
      const base = ctxOf(rt, [1]);
      const results = rt.mem.alloc(8);
      rt.mem.view.setBigUint64(results, 0x1234n, true);
      exe.runBatch(base, 1, 1, 0, results);
      expect(rt.mem.view.getUint8(base)).toBe(1);
      expect(rt.mem.view.getBigUint64(results, true)).toBe(0x1234n);
    });
    it('checks each event against its own context, and stops at the first error', () => {
      const { exe, rt } = setup('ldxb %r0, [%r1+2]\nexit');
      const base = ctxOf(rt, [1, 2, 3, 4, 5, 6, 7, 8]);
      const results = rt.mem.alloc(8 * 4);
      exe.runBatch(base, 2, 3, 3, results);
      expect([0, 1, 2].map((k) => rt.mem.view.getBigUint64(results + 8 * k, true))).toEqual([3n, 5n, 7n]);
      expect(failure(() => exe.runBatch(base, 2, 2, 3, results))).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
    });
    it('an unwinding event ends that event only', () => {
      const { exe, rt } = setup('ldxb %r1, [%r1]\nmov %r6, %r1\ncall 5\nmov %r0, %r6\nexit', {}, conformanceHelpers());
      const base = ctxOf(rt, [4, 0, 6]);
      const results = rt.mem.alloc(8 * 3);
      exe.runBatch(base, 1, 1, 3, results);
      expect([0, 1, 2].map((k) => rt.mem.view.getBigUint64(results + 8 * k, true))).toEqual([4n, 0n, 6n]);
    });
    it('refuses events past the memory end and results outside the heap, before running any', () => {
      const { exe, rt } = setup('stb [%r1], 9\nmov %r0, %r2\nexit');
      const end = rt.mem.buffer.byteLength;
      const results = rt.mem.alloc(16);
      rt.mem.bytes[end - 16] = 1;
      expect(() => exe.runBatch(end - 16, 8, 9, 2, results)).toThrow(InputError);
      expect(rt.mem.bytes[end - 16]).toBe(1);
      const base = ctxOf(rt, [1, 2]);
      for (const bad of [INTERNAL_START, rt.mem.frameTop(0) - 16]) expect(() => exe.runBatch(base, 1, 1, 2, bad)).toThrow(InputError);
    });
  });
});

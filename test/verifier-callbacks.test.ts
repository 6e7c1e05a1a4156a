// The verifier's callback rules (bpf_loop, for_each_map_elem), the engines' runtime checks of
// callbacks in checked mode, and lddw code_addr in both assembly syntaxes.
import { describe, expect, it } from 'vitest';
import { Vm, memory } from '../src/index.js';
import { ProgramError } from '../src/errors.js';
import { assembleBytes, disassemble, assemble } from '../src/asm/index.js';
import { CHECKED, fault } from './engines.js';

/** The code and pc load refuses the program with. */
function refusal(text: string, vm = new Vm()): { code: string; pc: number } {
  try {
    vm.load(text, { context: memory(0) });
  } catch (e) {
    expect(e).toBeInstanceOf(ProgramError);
    const { code, pc } = e as ProgramError;
    return { code, pc };
  }
  throw new Error('expected a refusal');
}

/** bpf_loop(4, cb, r3, 0) with this callback body and r3 set up by `ctx`. */
const withCallback = (body: string, ctx = 'mov %r3, 0'): string => `
mov %r1, 4
lddw %r2, code_addr(cb)
${ctx}
mov %r4, 0
call 181
exit
cb:
${body}`;

describe('verifier: callbacks', () => {
  it('accepts a callback returning 0 or 1', () => {
    expect(() => new Vm().load(withCallback('mov %r0, 1\nexit'), { context: memory(0) })).not.toThrow();
  });

  it('refuses a callback that may return other than 0 or 1, at its exit', () => {
    expect(refusal(withCallback('mov %r0, 2\nexit'))).toEqual({ code: 'E_VERIFY_CALLBACK', pc: 8 });
    expect(refusal(withCallback('mov %r0, %r1\nexit'))).toEqual({ code: 'E_VERIFY_CALLBACK', pc: 8 });
    expect(refusal(withCallback('mov %r0, %r10\nexit'))).toEqual({ code: 'E_VERIFY_CALLBACK', pc: 8 });
  });

  it('refuses a context that is neither a stack pointer nor 0', () => {
    expect(refusal(withCallback('mov %r0, 0\nexit', 'mov %r3, 5'))).toEqual({ code: 'E_VERIFY_HELPER_ARG', pc: 5 });
    expect(refusal(withCallback('mov %r0, 0\nexit', 'lddw %r3, 0x1000'))).toEqual({ code: 'E_VERIFY_HELPER_ARG', pc: 6 });
  });

  it('refuses a callback that is not a code address', () => {
    const text = withCallback('mov %r0, 0\nexit').replace('lddw %r2, code_addr(cb)', 'mov %r2, 7\nmov %r0, 0');
    expect(refusal(text)).toEqual({ code: 'E_VERIFY_CALLBACK', pc: 5 });
    expect(refusal(withCallback('mov %r0, 0\nexit').replace('call 181', 'mov %r5, 181\ncallx %r5'))).toEqual({ code: 'E_VERIFY_CALLX', pc: 6 });
  });

  it('refuses a code address that is not the start of a subprogram', () => {
    // Into the entry function: the entry then falls into the "callback" without an exit.
    const mid = 'mov %r1, 4\nlddw %r2, code_addr(mid)\nmov %r3, 0\nmov %r4, 0\ncall 181\nmid:\nmov %r0, 0\nexit';
    expect(refusal(mid)).toEqual({ code: 'E_FALLS_OFF_END', pc: 5 });
    expect(refusal(mid.replace('code_addr(mid)', 'code_addr(-2)'))).toEqual({ code: 'E_RECURSION', pc: 1 });
    expect(refusal(mid.replace('code_addr(mid)', 'code_addr(+40)'))).toEqual({ code: 'E_CALL_TARGET', pc: 1 });
    expect(refusal(mid.replace('code_addr(mid)', 'code_addr(+0)'))).toEqual({ code: 'E_JUMP_INTO_LDDW', pc: 1 });
  });

  it('treats the frame the context points into as changed by the callback', () => {
    // A pointer spilled next to the context: the callback could overwrite it through ctx - 8.
    const spilled = `
mov %r6, %r10
add %r6, -24
stxdw [%r10-16], %r6
stdw [%r10-24], 0
stdw [%r10-8], 0
mov %r1, 1
lddw %r2, code_addr(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r1, [%r10-16]
ldxdw %r0, [%r1]
exit
cb:
stdw [%r2-8], 12345
mov %r0, 0
exit`;
    expect(refusal(spilled)).toEqual({ code: 'E_VERIFY_INVALID_DEREF', pc: 13 });
    // Bytes the callback writes but that were not written before: it may never run.
    const unwritten = withCallback('stdw [%r2], 1\nmov %r0, 0\nexit', 'mov %r3, %r10\nadd %r3, -8')
      .replace('call 181\nexit', 'call 181\nldxdw %r0, [%r10-8]\nexit');
    expect(refusal(unwritten)).toMatchObject({ code: 'E_VERIFY_UNINIT_STACK' });
    // Written before: the caller reads what some iteration left, a scalar.
    const written = unwritten.replace('mov %r1, 4', 'stdw [%r10-8], 0\nmov %r1, 4');
    expect(new Vm().load(written, { context: memory(0) }).run()).toBe(1n);
  });

  it('gives for_each_map_elem\'s callback a read-only key and a writable value of the map\'s sizes', () => {
    const vm = new Vm();
    const maps = [vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 2 })];
    const forEach = (body: string): string => `
lddw %r1, map_by_idx(0)
lddw %r2, code_addr(cb)
mov %r3, 0
mov %r4, 0
call 164
exit
cb:
${body}
mov %r0, 0
exit`;
    const verify = (text: string): unknown => vm.load(text, { context: memory(0), maps });
    expect(() => verify(forEach('ldxw %r6, [%r2]\nstxdw [%r3], %r6'))).not.toThrow();
    expect(() => verify(forEach('stw [%r2], 1'))).toThrow(expect.objectContaining({ code: 'E_VERIFY_MEM_ACCESS', pc: 8 }));
    expect(() => verify(forEach('ldxdw %r6, [%r2]'))).toThrow(expect.objectContaining({ code: 'E_VERIFY_MEM_ACCESS', pc: 8 }));
    expect(() => verify(forEach('ldxdw %r6, [%r3+4]'))).toThrow(expect.objectContaining({ code: 'E_VERIFY_MEM_ACCESS', pc: 8 }));
  });

  it('counts the callback\'s frames (two for for_each_map_elem) towards the call depth', () => {
    expect(() => new Vm().load(nested(7), { context: memory(0) })).not.toThrow();
    expect(refusal(nested(8))).toEqual({ code: 'E_VERIFY_CALL_DEPTH', pc: pcOfCall(nested(8), 8) });
    const vm = new Vm();
    const maps = [vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 })];
    expect(() => vm.load(nested(6, true), { context: memory(0), maps })).not.toThrow();
    const err = (() => {
      try {
        vm.load(nested(7, true), { context: memory(0), maps });
      } catch (e) {
        return e as ProgramError;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'E_VERIFY_CALL_DEPTH', pc: pcOfCall(nested(7, true), 7) });
  });
});

/**
 * `depth` bpf_loop calls nested in callbacks, each looping twice: 2^depth innermost calls; with
 * `forEach` the innermost is a for_each_map_elem over map 0.
 */
function nested(depth: number, forEach = false): string {
  const lines: string[] = [];
  for (let k = 0; k <= depth; k++) {
    if (k > 0) lines.push(`cb${k}:`);
    if (k < depth) {
      const last = forEach && k === depth - 1;
      lines.push(last ? 'lddw %r1, map_by_idx(0)' : 'mov %r1, 2', `lddw %r2, code_addr(cb${k + 1})`, 'mov %r3, 0', 'mov %r4, 0', last ? 'call 164' : 'call 181');
      lines.push(k === 0 ? 'exit' : 'mov %r0, 0\nexit');
    } else {
      lines.push('mov %r0, 0', 'exit');
    }
  }
  return lines.join('\n');
}

describe.each(CHECKED)('callbacks in checked mode: %s', (_name, opts) => {
  it('runs nested callbacks to the frame limit and stops at the call past it', () => {
    expect(new Vm().load(nested(7), { ...opts, context: memory(0) }).run()).toBe(2n);
    const err = fault(() => new Vm().load(nested(8), { ...opts, context: memory(0) }).run());
    expect(err.code).toBe('E_RUN_CALL_DEPTH');
    expect(err.pc).toBe(pcOfCall(nested(8), 8));
  });

  it('stops for_each_map_elem one frame earlier: its key takes a frame', () => {
    const vm = new Vm();
    const maps = [vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 })];
    expect(vm.load(nested(6, true), { ...opts, context: memory(0), maps }).run()).toBe(2n);
    const err = fault(() => vm.load(nested(7, true), { ...opts, context: memory(0), maps }).run());
    expect(err).toMatchObject({ code: 'E_RUN_CALL_DEPTH', pc: pcOfCall(nested(7, true), 7) });
  });

  it('stops at a value in r2 that is no callback\'s code address', () => {
    const text = withCallback('mov %r0, 0\nexit').replace('lddw %r2, code_addr(cb)', 'lddw %r2, code_addr(cb)\nadd %r2, 1');
    const err = fault(() => new Vm().load(text, { ...opts, context: memory(0) }).run());
    expect(err).toMatchObject({ code: 'E_RUN_CALLBACK', pc: 6 });
  });

  it('charges the callback\'s instructions to the budget, stopping where the other engine stops', () => {
    const text = withCallback('mov %r0, 0\nexit').replace('mov %r1, 4', 'mov %r1, 1000');
    expect(new Vm().load(text, { ...opts, context: memory(0), budget: 6 + 2 * 1000 }).run()).toBe(1000n);
    const err = fault(() => new Vm().load(text, { ...opts, context: memory(0), budget: 6 + 2 * 1000 - 1 }).run());
    expect(err).toMatchObject({ code: 'E_RUN_BUDGET', pc: 7 });
  });
});

/** The pc of the `call 181` made at nesting level `level` (0 = the entry's) in nested(). */
function pcOfCall(text: string, level: number): number {
  const insns = assemble(text);
  return insns.filter((i) => i.kind === 'call')[level - 1]!.pc;
}

describe('lddw code_addr in assembly', () => {
  const text = withCallback('mov %r0, 0\nexit');
  const bytes = assembleBytes(text);

  it('round-trips through both syntaxes, with labels and with offsets', () => {
    for (const syntax of ['llvm', 'ubpf'] as const) {
      for (const labels of [true, false]) {
        const listing = disassemble(assemble(text), syntax, { labels });
        expect(assembleBytes(listing, syntax)).toEqual(bytes);
      }
    }
    expect(disassemble(assemble(text), 'llvm', { labels: true })).toContain('r2 = code_addr(fn7) ll');
    expect(disassemble(assemble(text), 'ubpf')).toContain('lddw %r2, code_addr(+5)');
  });

  it('encodes the kernel\'s BPF_PSEUDO_FUNC: src 4, imm relative to the next slot', () => {
    expect(bytes[1 * 8 + 1]! >> 4).toBe(4);
    expect(new DataView(bytes.buffer).getInt32(1 * 8 + 4, true)).toBe(7 - 1 - 1);
  });

  it('refuses an unknown label or a map name where a code address goes', () => {
    expect(() => assemble(text.replace('code_addr(cb)', 'code_addr(nowhere)'))).toThrow(expect.objectContaining({ code: 'E_ASM_LABEL' }));
  });
});

// CO-RE on clang's output (test/fixtures/core): programs compiled against their own idea of the
// host's structs run right on the host's layout, in every engine, once relocated against the host's BTF.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory } from '../src/index.js';
import { ObjectError } from '../src/errors.js';
import { VerifyError } from '../src/verifier/index.js';
import { parseBtf } from '../src/btf/parse.js';
import { CORE_KINDS, parseBtfExt, type CoreRelo } from '../src/btf/ext.js';
import fc from 'fast-check';
import { applyCoreRelocations, coreFailures, CORE_POISON_HELPER } from '../src/btf/core.js';
import { buildProgram } from '../src/program/program.js';
import { decode } from '../src/isa/decode.js';
import { loadOptimizer } from '../src/jit/index.js';
import { ENGINES, CHECKED, fault } from './engines.js';

beforeAll(() => loadOptimizer());

const dir = new URL('./fixtures/core/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const local = parseBtf(read('core.btf'));
const host = parseBtf(read('target.btf'));
const ext = parseBtfExt(read('core.btf.ext'), local);

/** A fixture program relocated against `target`. */
function relocated(name: string, target = host) {
  const relos = ext.coreRelos.get(`prog/${name}`) ?? [];
  const { insns, results } = applyCoreRelocations(decode(read(`core.${name}.bin`)), relos, local, target, `prog/${name}`);
  return { program: buildProgram(insns, { coreFailures: coreFailures(results) }), results };
}

/**
 * The host's `struct event` (target.c): u64 ts @0, char comm[12] @8, u64 pid @24, then in the u32 at
 * 32: level:7 (bits 0-6), pad:9, delta:6 (bits 16-21, signed). 40 bytes.
 */
function hostEvent(f: { ts: bigint; pid: bigint; level?: number; delta?: number }): Uint8Array {
  const bytes = new Uint8Array(40);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, f.ts, true);
  bytes.set(new TextEncoder().encode('comm'), 8);
  view.setBigUint64(24, f.pid, true);
  view.setUint32(32, ((f.level ?? 0) & 0x7f) | (0x1ff << 7) | (((f.delta ?? 0) & 0x3f) << 16), true);
  return bytes;
}

/** The program's own `struct event___local` (core.c): u32 pid @0, u64 ts @8, u32 extra @16. */
function localEvent(pid: number, ts: bigint, extra: number): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, pid, true);
  view.setBigUint64(8, ts, true);
  view.setUint32(16, extra, true);
  return bytes;
}

describe('field offsets and sizes', () => {
  const { program, results } = relocated('read_event');

  it('moves both reads to the host offsets and widens the pid load to the host u64', () => {
    expect(results.map((r) => [r.kind, r.local, r.target])).toEqual([
      ['field_byte_offset', 8n, 0n], // ts
      ['field_byte_offset', 0n, 24n], // pid
    ]);
    expect(program.insns[0]).toMatchObject({ kind: 'ldx', size: 8, off: 0 });
    expect(program.insns[1]).toMatchObject({ kind: 'ldx', size: 8, off: 24 });
  });

  it.each(ENGINES)('reads a host-laid-out event in %s', (_, opts) => {
    const vm = new Vm();
    const event = hostEvent({ ts: 0x1_0000_0005n, pid: 1000n });
    // The C returns an int: only r0's low 32 bits are the result.
    expect(BigInt.asUintN(32, vm.load(program, { ...opts, context: memory(40) }).run(event))).toBe(1000n * 3n + 5n);
  });

  it('relocated against its own BTF, changes nothing and reads its own layout', () => {
    const self = relocated('read_event', local);
    expect(self.results.every((r) => r.target === r.local)).toBe(true);
    expect(new Vm().load(self.program, { context: memory(24) }).run(localEvent(7, 100n, 0))).toBe(121n);
  });
});

describe('field existence', () => {
  it.each(ENGINES)('the host has no extra field: the program takes its fallback branch in %s', (_, opts) => {
    const { program, results } = relocated('fallback');
    expect(results.find((r) => r.kind === 'field_exists')?.target).toBe(0n);
    // The guarded read is poisoned, and never reached.
    expect(program.insnAt[3]).toMatchObject({ kind: 'call', imm: CORE_POISON_HELPER });
    expect(new Vm().load(program, { ...opts, context: memory(40) }).run(hostEvent({ ts: 1n, pid: 2n }))).toBe(7n);
  });

  it('against its own BTF the field exists and is read', () => {
    const { program } = relocated('fallback', local);
    expect(new Vm().load(program, { context: memory(24) }).run(localEvent(1, 2n, 99))).toBe(99n);
  });
});

describe('a missing field on a reached path', () => {
  const { program, results } = relocated('missing');

  it('poisons the read and the verifier refuses it, naming the relocation', () => {
    expect(results[0]).toMatchObject({ kind: 'field_byte_offset', target: undefined });
    let error: unknown;
    try {
      new Vm().load(program, { context: memory(40) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ code: 'E_VERIFY_CORE', pc: 0 });
    expect((error as VerifyError).message).toContain("no field 'extra'");
  });

  it.each(CHECKED)('faults where the poisoned read runs in %s', (_, opts) => {
    const e = fault(() => new Vm().load(program, { ...opts, context: memory(40) }).run(hostEvent({ ts: 1n, pid: 2n })));
    expect(e).toMatchObject({ code: 'E_RUN_UNKNOWN_HELPER', pc: 0 });
    expect(e.message).toContain('CO-RE relocation failed');
  });
});

describe('enum values, type sizes, bitfields', () => {
  it.each(ENGINES)('reads the host value of an enumerator and whether another exists in %s', (_, opts) => {
    const { program, results } = relocated('enum_value');
    // STATE_RUNNING is 5 on the host; STATE_GONE does not exist there (lddw forms).
    expect(results.map((r) => [r.kind, r.target])).toEqual([['enumval_exists', 1n], ['enumval_exists', 0n], ['enumval_value', 5n]]);
    expect(new Vm().load(program, { ...opts, context: memory(0) }).run()).toBe(500n);
  });

  it('reads the local values against its own BTF', () => {
    expect(new Vm().load(relocated('enum_value', local).program, { context: memory(0) }).run()).toBe(101n);
  });

  it.each(ENGINES)('reads the host size of the struct in %s', (_, opts) => {
    expect(new Vm().load(relocated('type_size').program, { ...opts, context: memory(0) }).run()).toBe(401n);
  });

  it.each(ENGINES)('reads host bitfields where they moved, signed and unsigned, in %s', (_, opts) => {
    const { program } = relocated('bitfields');
    const run = (level: number, delta: number): bigint =>
      BigInt.asIntN(64, new Vm().load(program, { ...opts, context: memory(40) }).run(hostEvent({ ts: 0n, pid: 0n, level, delta })));
    expect(run(5, -3)).toBe(-3n * 16n + 5n);
    expect(run(127, 31)).toBe(31n * 16n + 127n);
    expect(run(0, -32)).toBe(-32n * 16n);
  });
});

describe('relocation errors', () => {
  const insns = decode(read('core.read_event.bin'));
  const relo = (over: Partial<CoreRelo>): CoreRelo => ({ ...ext.coreRelos.get('prog/read_event')![0]!, ...over });
  const error = (relos: CoreRelo[]): ObjectError => {
    try {
      applyCoreRelocations(insns, relos, local, host, 'prog/read_event');
    } catch (e) {
      expect(e).toBeInstanceOf(ObjectError);
      return e as ObjectError;
    }
    throw new Error('expected an ObjectError');
  };

  it('refuses an instruction that does not hold the local value', () => {
    expect(error([relo({ insn: 1 })])).toMatchObject({ code: 'E_CORE', section: 'prog/read_event', offset: 8 });
  });

  it('refuses an access path the local type does not have', () => {
    expect(error([relo({ access: '0:9', path: [0, 9] })])).toMatchObject({ code: 'E_CORE', offset: 0 });
  });

  it('refuses an instruction CO-RE cannot patch', () => {
    expect(error([relo({ insn: 4 })])).toMatchObject({ code: 'E_CORE', offset: 32 });
  });

  it('gives results or an ObjectError for any relocation, never anything else', () => {
    const relos = fc.record({
      insn: fc.integer({ min: -1, max: 6 }), typeId: fc.nat(local.types.length - 1),
      path: fc.array(fc.nat(6), { minLength: 1, maxLength: 4 }), kind: fc.constantFrom(...CORE_KINDS),
    }).map((r): CoreRelo => ({ ...r, access: r.path.join(':') }));
    fc.assert(fc.property(fc.array(relos, { maxLength: 4 }), fc.boolean(), (list, toHost) => {
      try {
        const { insns: out, results } = applyCoreRelocations(insns, list, local, toHost ? host : local, 'prog/read_event');
        expect(results).toHaveLength(list.length);
        expect(out.reduce((n, i) => n + (i.kind === 'lddw' ? 2 : 1), 0)).toBe(5);
      } catch (e) {
        expect(e).toBeInstanceOf(ObjectError);
      }
    }), { numRuns: 1000 });
  });
});

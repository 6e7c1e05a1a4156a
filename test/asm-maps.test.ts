/** `.map` declarations and map names in lddw sources: both syntaxes, errors with positions, round trips. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, assembleUnit, disassemble, type Syntax } from '../src/asm/index.js';
import { AsmError, InputError } from '../src/errors.js';
import { decodeSlots } from '../src/isa/decode.js';
import type { RawSlot } from '../src/isa/insn.js';
import type { MapSpec } from '../src/maps/spec.js';
import { decodeProgramFileUnit, loadProgramFile, toProgram } from '../src/source.js';
import { scratch } from './cli-helpers.js';

const COUNTS: MapSpec = { name: 'counts', type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 };
const FLOWS: MapSpec = { name: 'flows', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, flags: 0x40 };

const UBPF = `.map counts percpu_array key 4 value 8 entries 1
.map flows hash key 4 value 8 entries 1024 flags 0x40
lddw %r1, map_by_idx(counts)
lddw %r2, map_value_by_idx(flows, 8)
lddw %r3, map_by_fd(flows)
lddw %r4, map_value_by_fd(counts, 16)
lddw %r5, map_by_idx(1)
exit`;
const LLVM = `.map counts percpu_array key 4 value 8 entries 1
.map flows hash key 4 value 8 entries 1024 flags 0x40
r1 = map_by_idx(counts) ll
r2 = map_value_by_idx(flows, 8) ll
r3 = map_by_fd(flows) ll
r4 = map_value_by_fd(counts, 16) ll
r5 = map_by_idx(1) ll
exit`;

/** [src, imm, nextImm] of each lddw in UBPF/LLVM. */
const EXPECTED_LDDW = [[5, 0, 0], [6, 1, 8], [1, 1, 0], [2, 0, 16], [5, 1, 0]];

describe('.map declarations', () => {
  it.each([['ubpf', UBPF], ['llvm', LLVM]] as const)('%s: declares maps and resolves names to indexes', (syntax, text) => {
    for (const given of [syntax, undefined]) {
      const unit = assembleUnit(text, given);
      expect(unit.maps).toEqual([COUNTS, FLOWS]);
      expect(unit.insns.filter((i) => i.kind === 'lddw').map((i) => [i.src, i.imm, i.kind === 'lddw' ? i.nextImm : 0])).toEqual(EXPECTED_LDDW);
      expect(assemble(text, given)).toEqual(unit.insns);
    }
  });

  it('takes clauses in any order, upper-case type names, and declarations after their use', () => {
    const unit = assembleUnit('r1 = map_by_idx(late) ll\nexit\n.map late LRU_HASH entries 8 flags 64 value 2 key 3');
    expect(unit.maps).toEqual([{ name: 'late', type: 'lru_hash', keySize: 3, valueSize: 2, maxEntries: 8, flags: 64 }]);
    expect(unit.insns[0]).toMatchObject({ kind: 'lddw', src: 5, imm: 0 });
  });

  it('gives the maps in declaration order and none for a text without declarations', () => {
    expect(assembleUnit('mov %r0, 0\nexit').maps).toEqual([]);
    const unit = assembleUnit('.map b array key 4 value 4 entries 2\n.map a array key 4 value 4 entries 2\nlddw %r1, map_by_idx(a)\nexit');
    expect(unit.maps.map((m) => m.name)).toEqual(['b', 'a']);
    expect(unit.insns[0]!.imm).toBe(1);
  });
});

/** [syntax, text, code, line, column]. */
const ERRORS: ReadonlyArray<readonly [Syntax, string, string, number, number]> = [
  ['ubpf', '.map c hash key 4 value 8 entries 1\nexit\n.map c array key 4 value 8 entries 1', 'E_ASM_MAP', 3, 6],
  ['llvm', '.map c frob key 4 value 8 entries 1\nexit', 'E_ASM_MAP', 1, 8],
  ['llvm', '.map c user_ringbuf key 4 value 8 entries 4096\nexit', 'E_ASM_MAP', 1, 8],
  ['llvm', '.map c ringbuf key 4 value 0 entries 4096\nexit', 'E_ASM_MAP', 1, 16],
  ['ubpf', '.map c array key 8 value 8 entries 1\nexit', 'E_ASM_MAP', 1, 14],
  ['ubpf', '.map c hash key 4 value 8 entries 0\nexit', 'E_ASM_MAP', 1, 27],
  ['ubpf', '.map c hash key 4 value 0 entries 1\nexit', 'E_ASM_MAP', 1, 19],
  ['llvm', '.map c array key 4 value 8 entries 1 flags 0x40\nexit', 'E_ASM_MAP', 1, 38],
  ['llvm', '.map abcdefghijklmnop hash key 4 value 8 entries 1\nexit', 'E_ASM_MAP', 1, 6],
  ['llvm', '.map c$ hash key 4 value 8 entries 1\nexit', 'E_ASM_MAP', 1, 6],
  ['ubpf', 'exit\n.map c hash key 4 value 8', 'E_ASM_MAP', 2, 26],
  ['ubpf', '.map c hash key 4 key 4 value 8 entries 1\nexit', 'E_ASM_SYNTAX', 1, 19],
  ['ubpf', '.map c hash size 4\nexit', 'E_ASM_SYNTAX', 1, 13],
  ['ubpf', '.map c hash key -4 value 8 entries 1\nexit', 'E_ASM_RANGE', 1, 17],
  ['llvm', '.map c hash key 4 value 8 entries 0x100000000\nexit', 'E_ASM_RANGE', 1, 35],
  ['llvm', '.map c hash key 4 value 8 entries 1 flags\nexit', 'E_ASM_OPERANDS', 1, 42],
  ['ubpf', '.map\nexit', 'E_ASM_SYNTAX', 1, 5],
  ['ubpf', '.map 7 hash key 4 value 8 entries 1\nexit', 'E_ASM_SYNTAX', 1, 6],
  ['ubpf', '.map c\nexit', 'E_ASM_SYNTAX', 1, 7],
  ['ubpf', 'lddw %r1, map_by_idx(nope)\nexit', 'E_ASM_MAP', 1, 22],
  ['llvm', '.map c hash key 4 value 8 entries 1\nr1 = map_value_by_fd(d, 4) ll\nexit', 'E_ASM_MAP', 2, 22],
  ['ubpf', '.map x hash key 4 value 8 entries 1\nlddw %r1, variable_addr(x)\nexit', 'E_ASM_OPERANDS', 2, 25],
];

describe('.map errors', () => {
  it.each(ERRORS)('%s: %j -> %s at %i:%i', (syntax, text, code, line, column) => {
    let error: unknown;
    try {
      assembleUnit(text, syntax);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AsmError);
    const e = error as AsmError;
    expect({ code: e.code, line: e.line, column: e.column }, e.message).toEqual({ code, line, column });
  });

  it('speaks the directive\'s words and names the map', () => {
    expect(() => assembleUnit('.map c array key 8 value 8 entries 1\nexit')).toThrow("map 'c': key 8 must be 4");
    expect(() => assembleUnit('exit\n.map c hash key 4 value 8')).toThrow("map 'c' needs 'entries N'");
    expect(() => assembleUnit('.map c hash key 4 value 8 entries 1\n.map c hash key 4 value 8 entries 1\nexit')).toThrow('already declared on line 1');
    expect(() => assembleUnit('lddw %r1, map_by_idx(nope)\nexit')).toThrow("unknown map 'nope'");
  });
});

const NAME = fc.stringMatching(/^[A-Za-z_.][A-Za-z0-9_.]{0,14}$/);
const TYPES = ['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash'] as const;

const spec = (name: string): fc.Arbitrary<MapSpec> => fc.constantFrom(...TYPES).chain((type) => fc.record({
  name: fc.constant(name), type: fc.constant(type),
  keySize: type.endsWith('array') ? fc.constant(4) : fc.integer({ min: 1, max: 512 }),
  valueSize: fc.integer({ min: 1, max: 4096 }),
  maxEntries: fc.integer({ min: 1, max: 0xffffffff }),
  flags: type.endsWith('array') ? fc.constant(0) : fc.constantFrom(0, 0x40, ...(type.startsWith('lru') ? [] : [1, 0x41])),
}));

const maps = fc.uniqueArray(NAME, { maxLength: 5 }).chain((names) => fc.tuple(...names.map(spec)));

/** An lddw naming a map source, maybe with an index past the declared maps, then a mov. */
const lddw = (count: number): fc.Arbitrary<RawSlot[]> => fc.record({
  src: fc.constantFrom(1, 2, 5, 6), dst: fc.integer({ min: 0, max: 9 }),
  imm: fc.integer({ min: 0, max: count + 1 }), next: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
}).map(({ src, dst, imm, next }) => [
  { opcode: 0x18, dst, src, off: 0, imm },
  { opcode: 0, dst: 0, src: 0, off: 0, imm: src === 2 || src === 6 ? next : 0 },
  { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: next },
]);

const EXIT: RawSlot = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

describe('maps round-trip through disassemble and assembleUnit', () => {
  it.each(['ubpf', 'llvm'] as const)('%s', (syntax) => {
    const unit = maps.chain((specs) => fc.tuple(fc.constant(specs), fc.array(lddw(specs.length), { maxLength: 6 })));
    fc.assert(fc.property(unit, fc.boolean(), ([specs, uses], labels) => {
      const insns = decodeSlots([...uses.flat(), EXIT]);
      const text = disassemble(insns, syntax, { maps: specs, labels });
      // Declared maps print by name; only indexes past them stay numbers.
      for (const [, n] of text.matchAll(/map_(?:value_)?by_(?:idx|fd)\((\d+)/g)) expect(Number(n)).toBeGreaterThanOrEqual(specs.length);
      const back = assembleUnit(text);
      expect(back.insns, text).toEqual(insns);
      expect(back.maps, text).toEqual(specs);
      expect(disassemble(back, syntax, { labels })).toBe(text);
    }), { numRuns: 200 });
  });

  it('prints numbers without maps, and names maps that have none', () => {
    const insns = assemble('lddw %r1, map_by_idx(1)\nexit');
    expect(disassemble(insns, 'ubpf')).toBe('lddw %r1, map_by_idx(1)\nexit');
    const unnamed = { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 };
    const text = disassemble(insns, 'llvm', { maps: [{ ...unnamed, name: 'map1' }, unnamed] });
    expect(text).toBe('.map map1 array key 4 value 8 entries 1\n.map map1_ array key 4 value 8 entries 1\nr1 = map_by_idx(map1_) ll\nexit');
    expect(assembleUnit(text).maps.map((m) => m.name)).toEqual(['map1', 'map1_']);
  });
});

describe('programs carry the declared maps', () => {
  it('toProgram and disassemble of the program', () => {
    const program = toProgram(LLVM);
    expect(program.maps).toEqual([COUNTS, FLOWS]);
    expect(disassemble(program, 'llvm')).toBe(LLVM.replace('map_by_idx(1)', 'map_by_idx(flows)'));
    expect(toProgram('exit', { maps: [COUNTS] }).maps).toEqual([COUNTS]);
    expect(() => toProgram(LLVM, { maps: [COUNTS] })).toThrow(InputError);
  });

  it('program files: .s and .data text have them, bytecode has none', () => {
    const { dir, write } = scratch('bpfjit-asm-maps-');
    const s = write('p.s', UBPF);
    expect(loadProgramFile(s).program.maps).toEqual([COUNTS, FLOWS]);
    expect(decodeProgramFileUnit(s).maps).toEqual([COUNTS, FLOWS]);
    const data = write('p.data', `-- asm\n${UBPF}\n-- result\n0x0\n`);
    expect(loadProgramFile(data).program.maps).toEqual([COUNTS, FLOWS]);
    const bin = join(dir, 'p.bin');
    writeFileSync(bin, Uint8Array.of(0x95, 0, 0, 0, 0, 0, 0, 0));
    expect(loadProgramFile(bin).program.maps).toEqual([]);
    expect(decodeProgramFileUnit(bin).maps).toEqual([]);
  });
});

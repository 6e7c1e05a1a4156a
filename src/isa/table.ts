/**
 * The opcode table: every instruction form of RFC 9669 (cpu v1-v4, atomics, local calls, callx, the
 * legacy packet loads).
 * Decoder, encoder, assemblers, disassemblers, interpreter, JIT and verifier all read this table;
 * there is no second list of opcodes anywhere.
 *
 * A row is one opcode byte, narrowed by a `key` field where several forms share that byte
 * (sdiv/smod by off, movsx by off, byte swaps by imm, atomics by imm, call modes by src).
 */
import { AluCode, AtomicCode, Cls, JmpCode, Mode, Size, Src, sizeField } from './opcode.js';
import { LddwSrc, type AccessSize, type AluOp, type AtomicOp, type Form, type JmpCond, type Width } from './insn.js';

/** How a raw field is used by a form: data, reserved (must be zero), the row key, or lddw's pseudo source. */
export type FieldUse = 'reg' | 'value' | 'zero' | 'key' | 'pseudo';

export interface OpcodeRow {
  readonly opcode: number;
  readonly form: Form;
  /** uBPF/conformance-style mnemonic, e.g. `add32`, `ldxdw`, `jsgt32`, `lock fetch add`. */
  readonly mnemonic: string;
  readonly key?: { readonly field: 'src' | 'off' | 'imm'; readonly value: number };
  readonly fields: { readonly dst: FieldUse; readonly src: FieldUse; readonly off: FieldUse; readonly imm: FieldUse };
}

const ALU_OPS: ReadonlyArray<readonly [AluOp, number, number?]> = [
  ['add', AluCode.ADD], ['sub', AluCode.SUB], ['mul', AluCode.MUL], ['div', AluCode.DIV, 0],
  ['sdiv', AluCode.DIV, 1], ['or', AluCode.OR], ['and', AluCode.AND], ['lsh', AluCode.LSH],
  ['rsh', AluCode.RSH], ['mod', AluCode.MOD, 0], ['smod', AluCode.MOD, 1], ['xor', AluCode.XOR],
  ['mov', AluCode.MOV, 0], ['arsh', AluCode.ARSH],
];

const JMP_CONDS: ReadonlyArray<readonly [JmpCond, number]> = [
  ['jeq', JmpCode.JEQ], ['jgt', JmpCode.JGT], ['jge', JmpCode.JGE], ['jset', JmpCode.JSET],
  ['jne', JmpCode.JNE], ['jsgt', JmpCode.JSGT], ['jsge', JmpCode.JSGE], ['jlt', JmpCode.JLT],
  ['jle', JmpCode.JLE], ['jslt', JmpCode.JSLT], ['jsle', JmpCode.JSLE],
];

const ATOMIC_OPS: ReadonlyArray<readonly [AtomicOp, number, boolean]> = [
  ['add', AtomicCode.ADD, false], ['or', AtomicCode.OR, false], ['and', AtomicCode.AND, false],
  ['xor', AtomicCode.XOR, false],
  ['add', AtomicCode.ADD | AtomicCode.FETCH, true], ['or', AtomicCode.OR | AtomicCode.FETCH, true],
  ['and', AtomicCode.AND | AtomicCode.FETCH, true], ['xor', AtomicCode.XOR | AtomicCode.FETCH, true],
  ['xchg', AtomicCode.XCHG | AtomicCode.FETCH, true], ['cmpxchg', AtomicCode.CMPXCHG | AtomicCode.FETCH, true],
];

const SIZES: ReadonlyArray<readonly [AccessSize, string]> = [[1, 'b'], [2, 'h'], [4, 'w'], [8, 'dw']];

function aluRows(): OpcodeRow[] {
  const rows: OpcodeRow[] = [];
  for (const [width, cls, suffix] of [[32, Cls.ALU, '32'], [64, Cls.ALU64, '']] as const) {
    for (const [op, code, offKey] of ALU_OPS) {
      for (const operand of ['imm', 'reg'] as const) {
        const opcode = code | cls | (operand === 'reg' ? Src.X : Src.K);
        rows.push({
          opcode, form: { kind: 'alu', op, width: width as Width, operand }, mnemonic: op + suffix,
          ...(offKey === undefined ? {} : { key: { field: 'off', value: offKey } }),
          fields: {
            dst: 'reg', src: operand === 'reg' ? 'reg' : 'zero',
            off: offKey === undefined ? 'zero' : 'key', imm: operand === 'imm' ? 'value' : 'zero',
          },
        });
      }
    }
    // neg has no source operand; movsx is mov with the source width in off (RFC 9669 section 4.1).
    rows.push({
      opcode: AluCode.NEG | cls, form: { kind: 'alu', op: 'neg', width: width as Width, operand: 'imm' },
      mnemonic: 'neg' + suffix, fields: { dst: 'reg', src: 'zero', off: 'zero', imm: 'zero' },
    });
    const movsx: ReadonlyArray<readonly [AluOp, number]> =
      width === 32 ? [['movsx8', 8], ['movsx16', 16]] : [['movsx8', 8], ['movsx16', 16], ['movsx32', 32]];
    for (const [op, bits] of movsx) {
      rows.push({
        opcode: AluCode.MOV | cls | Src.X, form: { kind: 'alu', op, width: width as Width, operand: 'reg' },
        mnemonic: `movsx${bits}${width}`, key: { field: 'off', value: bits },
        fields: { dst: 'reg', src: 'reg', off: 'key', imm: 'zero' },
      });
    }
  }
  return rows;
}

function endRows(): OpcodeRow[] {
  const rows: OpcodeRow[] = [];
  const orders = [['le', Cls.ALU | Src.K], ['be', Cls.ALU | Src.X], ['swap', Cls.ALU64 | Src.K]] as const;
  for (const [order, bits] of orders) {
    for (const width of [16, 32, 64] as const) {
      rows.push({
        opcode: AluCode.END | bits, form: { kind: 'end', order, bits: width },
        mnemonic: (order === 'swap' ? 'bswap' : order) + width, key: { field: 'imm', value: width },
        fields: { dst: 'reg', src: 'zero', off: 'zero', imm: 'key' },
      });
    }
  }
  return rows;
}

function jmpRows(): OpcodeRow[] {
  const rows: OpcodeRow[] = [
    { opcode: JmpCode.JA | Cls.JMP, form: { kind: 'ja', long: false }, mnemonic: 'ja',
      fields: { dst: 'zero', src: 'zero', off: 'value', imm: 'zero' } },
    { opcode: JmpCode.JA | Cls.JMP32, form: { kind: 'ja', long: true }, mnemonic: 'ja32',
      fields: { dst: 'zero', src: 'zero', off: 'zero', imm: 'value' } },
    { opcode: JmpCode.CALL | Cls.JMP, form: { kind: 'call', mode: 'helper' }, mnemonic: 'call',
      key: { field: 'src', value: 0 }, fields: { dst: 'zero', src: 'key', off: 'zero', imm: 'value' } },
    { opcode: JmpCode.CALL | Cls.JMP, form: { kind: 'call', mode: 'local' }, mnemonic: 'call local',
      key: { field: 'src', value: 1 }, fields: { dst: 'zero', src: 'key', off: 'zero', imm: 'value' } },
    { opcode: JmpCode.CALL | Cls.JMP, form: { kind: 'call', mode: 'kfunc' }, mnemonic: 'call kfunc',
      key: { field: 'src', value: 2 }, fields: { dst: 'zero', src: 'key', off: 'value', imm: 'value' } },
    { opcode: JmpCode.CALL | Cls.JMP | Src.X, form: { kind: 'callx' }, mnemonic: 'callx',
      fields: { dst: 'reg', src: 'zero', off: 'zero', imm: 'zero' } },
    { opcode: JmpCode.EXIT | Cls.JMP, form: { kind: 'exit' }, mnemonic: 'exit',
      fields: { dst: 'zero', src: 'zero', off: 'zero', imm: 'zero' } },
  ];
  for (const [width, cls, suffix] of [[64, Cls.JMP, ''], [32, Cls.JMP32, '32']] as const) {
    for (const [cond, code] of JMP_CONDS) {
      for (const operand of ['imm', 'reg'] as const) {
        rows.push({
          opcode: code | cls | (operand === 'reg' ? Src.X : Src.K),
          form: { kind: 'jmp', cond, width: width as Width, operand }, mnemonic: cond + suffix,
          fields: { dst: 'reg', src: operand === 'reg' ? 'reg' : 'zero', off: 'value', imm: operand === 'imm' ? 'value' : 'zero' },
        });
      }
    }
  }
  return rows;
}

function memoryRows(): OpcodeRow[] {
  const rows: OpcodeRow[] = [
    { opcode: Cls.LD | Mode.IMM | Size.DW, form: { kind: 'lddw' }, mnemonic: 'lddw',
      fields: { dst: 'reg', src: 'pseudo', off: 'zero', imm: 'value' } },
  ];
  for (const [size, letter] of SIZES) {
    const sz = sizeField(size);
    rows.push(
      { opcode: Cls.LDX | Mode.MEM | sz, form: { kind: 'ldx', size, signed: false }, mnemonic: 'ldx' + letter,
        fields: { dst: 'reg', src: 'reg', off: 'value', imm: 'zero' } },
      { opcode: Cls.ST | Mode.MEM | sz, form: { kind: 'st', size }, mnemonic: 'st' + letter,
        fields: { dst: 'reg', src: 'zero', off: 'value', imm: 'value' } },
      { opcode: Cls.STX | Mode.MEM | sz, form: { kind: 'stx', size }, mnemonic: 'stx' + letter,
        fields: { dst: 'reg', src: 'reg', off: 'value', imm: 'zero' } },
    );
    if (size !== 8) {
      rows.push({ opcode: Cls.LDX | Mode.MEMSX | sz, form: { kind: 'ldx', size, signed: true },
        mnemonic: 'ldxs' + letter, fields: { dst: 'reg', src: 'reg', off: 'value', imm: 'zero' } });
    }
  }
  // Legacy packet loads: r0 is implied (dst must be 0), no 8-byte form (the kernel's check_ld_abs).
  for (const [size, letter] of [[1, 'b'], [2, 'h'], [4, 'w']] as const) {
    for (const indirect of [false, true]) {
      rows.push({ opcode: Cls.LD | (indirect ? Mode.IND : Mode.ABS) | sizeField(size), form: { kind: 'ldabs', size, indirect },
        mnemonic: (indirect ? 'ldind' : 'ldabs') + letter, fields: { dst: 'zero', src: indirect ? 'reg' : 'zero', off: 'zero', imm: 'value' } });
    }
  }
  for (const size of [4, 8] as const) {
    for (const [op, code, fetch] of ATOMIC_OPS) {
      const always = op === 'xchg' || op === 'cmpxchg';
      rows.push({
        opcode: Cls.STX | Mode.ATOMIC | sizeField(size), form: { kind: 'atomic', size, op, fetch },
        mnemonic: `lock ${fetch && !always ? 'fetch ' : ''}${op}${size === 4 ? '32' : ''}`,
        key: { field: 'imm', value: code }, fields: { dst: 'reg', src: 'reg', off: 'value', imm: 'key' },
      });
    }
  }
  return rows;
}

/**
 * What the imm of each lddw pseudo source names (RFC 9669 section 5.4): an index into the program's
 * maps, a code address (the kernel's BPF_PSEUDO_FUNC: a subprogram at pc + imm + 1, counted like a
 * local call's target, which is what callback helpers take), or a plain number.
 */
export type PseudoImm = 'map' | 'code' | 'number';

export const LDDW_SOURCE_IMM: ReadonlyMap<number, PseudoImm> = new Map<number, PseudoImm>([
  [LddwSrc.MAP_BY_FD, 'map'], [LddwSrc.MAP_VALUE_BY_FD, 'map'], [LddwSrc.VARIABLE_ADDR, 'number'],
  [LddwSrc.CODE_ADDR, 'code'], [LddwSrc.MAP_BY_IDX, 'map'], [LddwSrc.MAP_VALUE_BY_IDX, 'map'],
]);

export const OPCODE_TABLE: readonly OpcodeRow[] = [...aluRows(), ...endRows(), ...jmpRows(), ...memoryRows()];

/** Rows indexed by opcode byte; an empty list means the byte is not an instruction. */
export const ROWS_BY_OPCODE: ReadonlyArray<readonly OpcodeRow[]> = (() => {
  const byOpcode: OpcodeRow[][] = Array.from({ length: 256 }, () => []);
  for (const row of OPCODE_TABLE) byOpcode[row.opcode]!.push(row);
  return byOpcode;
})();

/** The row a raw slot belongs to, or undefined when the opcode/key combination is not an instruction. */
export function findRow(opcode: number, fields: { src: number; off: number; imm: number }): OpcodeRow | undefined {
  const rows = ROWS_BY_OPCODE[opcode & 0xff];
  if (!rows) return undefined;
  for (const row of rows) {
    if (!row.key || fields[row.key.field] === row.key.value) return row;
  }
  return undefined;
}

/** Rows by uBPF mnemonic (several rows share one: the K and X forms). */
export const ROWS_BY_MNEMONIC: ReadonlyMap<string, readonly OpcodeRow[]> = (() => {
  const map = new Map<string, OpcodeRow[]>();
  for (const row of OPCODE_TABLE) {
    const list = map.get(row.mnemonic) ?? [];
    list.push(row);
    map.set(row.mnemonic, list);
  }
  return map;
})();

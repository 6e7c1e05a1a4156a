/**
 * Bit layout of the 8-bit opcode (RFC 9669 section 3):
 *
 *   ALU / ALU64 / JMP / JMP32         LD / LDX / ST / STX
 *   +-------+---+-----+               +-----+-----+-----+
 *   | op:4  |s:1|cls:3|               |mode3|size2|cls:3|
 *   +-------+---+-----+               +-----+-----+-----+
 *    7    4   3  2   0                 7   5 4   3 2   0
 *
 * s: 0 = immediate operand (K), 1 = register operand (X).
 */
export const Cls = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, JMP32: 6, ALU64: 7 } as const;
export const Src = { K: 0x00, X: 0x08 } as const;
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

export const AluCode = {
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70,
  NEG: 0x80, MOD: 0x90, XOR: 0xa0, MOV: 0xb0, ARSH: 0xc0, END: 0xd0,
} as const;

export const JmpCode = {
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40, JNE: 0x50, JSGT: 0x60, JSGE: 0x70,
  CALL: 0x80, EXIT: 0x90, JLT: 0xa0, JLE: 0xb0, JSLT: 0xc0, JSLE: 0xd0,
} as const;

/** Atomic operations live in the immediate of an ATOMIC-mode STX. */
export const AtomicCode = {
  ADD: 0x00, OR: 0x40, AND: 0x50, XOR: 0xa0, XCHG: 0xe0, CMPXCHG: 0xf0, FETCH: 0x01,
} as const;

export const opClass = (opcode: number): number => opcode & 0x07;
export const opSource = (opcode: number): number => opcode & 0x08;
export const opCode = (opcode: number): number => opcode & 0xf0;
export const opSize = (opcode: number): number => opcode & 0x18;
export const opMode = (opcode: number): number => opcode & 0xe0;

export const isAluClass = (cls: number): boolean => cls === Cls.ALU || cls === Cls.ALU64;
export const isJmpClass = (cls: number): boolean => cls === Cls.JMP || cls === Cls.JMP32;

/** Bytes moved by a LD/LDX/ST/STX size field. */
export function sizeBytes(sizeField: number): 1 | 2 | 4 | 8 {
  switch (sizeField) {
    case Size.B: return 1;
    case Size.H: return 2;
    case Size.W: return 4;
    default: return 8;
  }
}

export function sizeField(bytes: 1 | 2 | 4 | 8): number {
  switch (bytes) {
    case 1: return Size.B;
    case 2: return Size.H;
    case 4: return Size.W;
    case 8: return Size.DW;
  }
}

/** Registers r0..r10; r10 is the read-only frame pointer. */
export const REG_COUNT = 11;
export const FP = 10;

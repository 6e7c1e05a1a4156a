/**
 * Two instruction layers (docs/architecture.md section 1): a raw 8-byte slot, and a decoded instruction that carries the
 * meaning (`kind` plus the form's parameters) next to the raw fields and its slot index `pc`.
 */

/** One 64-bit instruction slot, fields as stored (off and imm are signed). */
export interface RawSlot {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg'
  | 'mod' | 'smod' | 'xor' | 'mov' | 'movsx8' | 'movsx16' | 'movsx32' | 'arsh';
export type JmpCond =
  | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';
export type Width = 32 | 64;
export type Operand = 'imm' | 'reg';
export type AccessSize = 1 | 2 | 4 | 8;

/** What an opcode (plus its discriminating field) means; one per row of the opcode table. */
export type Form =
  | { readonly kind: 'alu'; readonly op: AluOp; readonly width: Width; readonly operand: Operand }
  | { readonly kind: 'end'; readonly order: 'le' | 'be' | 'swap'; readonly bits: 16 | 32 | 64 }
  | { readonly kind: 'jmp'; readonly cond: JmpCond; readonly width: Width; readonly operand: Operand }
  /** `long` is `gotol` (JMP32 class): the offset lives in imm instead of off. */
  | { readonly kind: 'ja'; readonly long: boolean }
  | { readonly kind: 'call'; readonly mode: 'helper' | 'local' | 'kfunc' }
  | { readonly kind: 'callx' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'lddw' }
  | { readonly kind: 'ldx'; readonly size: AccessSize; readonly signed: boolean }
  | { readonly kind: 'st'; readonly size: AccessSize }
  | { readonly kind: 'stx'; readonly size: AccessSize }
  | { readonly kind: 'atomic'; readonly size: 4 | 8; readonly op: AtomicOp; readonly fetch: boolean }
  /**
   * The legacy packet loads (RFC 9669 section 5.5, BPF_LD | BPF_ABS / BPF_IND): r0 = the big-endian
   * packet bytes at imm (`indirect`: at src + imm) of the socket buffer r6 points to; a load outside
   * the packet ends the program with r0 = 0, and r1-r5 are clobbered.
   */
  | { readonly kind: 'ldabs'; readonly size: 1 | 2 | 4; readonly indirect: boolean };

export type Kind = Form['kind'];

/** `lddw` source modes (RFC 9669 section 5.4). */
export const LddwSrc = {
  IMM64: 0, MAP_BY_FD: 1, MAP_VALUE_BY_FD: 2, VARIABLE_ADDR: 3, CODE_ADDR: 4, MAP_BY_IDX: 5,
  MAP_VALUE_BY_IDX: 6,
} as const;

/** An lddw source mode's name as both assembly syntaxes spell it (`map_by_fd`), or undefined if unknown. */
export function lddwSourceName(src: number): string | undefined {
  const entry = Object.entries(LddwSrc).find(([, value]) => value === src);
  return entry?.[0].toLowerCase();
}

interface Located extends RawSlot {
  /** Slot index: the pc that llvm-objdump prints and jump offsets count in. */
  readonly pc: number;
}

/** A decoded instruction. `lddw` covers two slots; its 64-bit value is `value`, the high half `nextImm`. */
export type Insn =
  | (Exclude<Form, { kind: 'lddw' }> & Located)
  | ({ readonly kind: 'lddw'; readonly nextImm: number; readonly value: bigint } & Located);

export type InsnOf<K extends Kind> = Extract<Insn, { kind: K }>;

/** Number of slots an instruction occupies. */
export const slotCount = (insn: Insn): 1 | 2 => (insn.kind === 'lddw' ? 2 : 1);

/** Slot index a jump or local call lands on, or undefined for other instructions. */
export function branchTarget(insn: Insn): number | undefined {
  switch (insn.kind) {
    case 'jmp': return insn.pc + insn.off + 1;
    case 'ja': return insn.pc + (insn.long ? insn.imm : insn.off) + 1;
    case 'call': return insn.mode === 'local' ? insn.pc + insn.imm + 1 : undefined;
    default: return undefined;
  }
}

/**
 * The subprogram an instruction names: a local call's target, or the code address an lddw loads
 * (source CODE_ADDR, a callback for bpf_loop and for_each_map_elem); both count from pc + 1.
 */
export function calleeTarget(insn: Insn): number | undefined {
  if (insn.kind === 'call') return insn.mode === 'local' ? insn.pc + insn.imm + 1 : undefined;
  return insn.kind === 'lddw' && insn.src === LddwSrc.CODE_ADDR ? insn.pc + insn.imm + 1 : undefined;
}

/** Register the instruction writes, if any (helper/local calls write r0 and clobber r1-r5). */
export function writesRegister(insn: Insn): number | undefined {
  switch (insn.kind) {
    case 'alu': case 'end': case 'lddw': case 'ldx': return insn.dst;
    case 'ldabs': return 0;
    case 'atomic':
      if (insn.op === 'cmpxchg') return 0;
      return insn.fetch ? insn.src : undefined;
    default: return undefined;
  }
}

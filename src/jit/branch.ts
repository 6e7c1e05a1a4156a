/**
 * Conditional jump tests as i32 booleans. JMP compares the full registers (an immediate is sign-extended
 * to 64 bits first); JMP32 compares the low 32 bits with i32 operations.
 *
 * A JMP whose operands the verifier proved to fit in 32 bits unsigned (`fits32`) is compared in i32
 * too: binaryen turns chains of i32 equality tests into a br_table, but not chains of i64 ones.
 * Both values are then non-negative, so signed and unsigned orders agree and a signed test becomes
 * the unsigned i32 one.
 */
import { InternalError } from '../errors.js';
import { i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';
import type { InsnOf, JmpCond } from '../isa/insn.js';

const UNSIGNED: Partial<Record<JmpCond, JmpCond>> = { jsgt: 'jgt', jsge: 'jge', jslt: 'jlt', jsle: 'jle' };

/** True when the test can be done on the low 32 bits with the same answer. */
export function narrowCompare(e: FnEmitter, insn: InsnOf<'jmp'>): boolean {
  return insn.width === 64 && e.facts(insn.pc)?.fits32 === true && (insn.operand === 'reg' || insn.imm >= 0);
}

export function jumpCondition(e: FnEmitter, insn: InsnOf<'jmp'>): Expr {
  const m = e.m;
  const narrow = narrowCompare(e, insn);
  const wide = insn.width === 64 && !narrow;
  const ops = wide ? m.i64 : m.i32;
  const a = wide ? e.get(insn.dst) : m.i32.wrap(e.get(insn.dst));
  let b: Expr;
  if (insn.operand === 'imm') b = wide ? i64Const(m, BigInt(insn.imm)) : m.i32.const(insn.imm);
  else b = wide ? e.get(insn.src) : m.i32.wrap(e.get(insn.src));
  const cond = narrow ? UNSIGNED[insn.cond] ?? insn.cond : insn.cond;
  switch (cond) {
    case 'jeq': return ops.eq(a, b);
    case 'jne': return ops.ne(a, b);
    case 'jgt': return ops.gt_u(a, b);
    case 'jge': return ops.ge_u(a, b);
    case 'jlt': return ops.lt_u(a, b);
    case 'jle': return ops.le_u(a, b);
    case 'jsgt': return ops.gt_s(a, b);
    case 'jsge': return ops.ge_s(a, b);
    case 'jslt': return ops.lt_s(a, b);
    case 'jsle': return ops.le_s(a, b);
    case 'jset': return m.i32.eqz(ops.eqz(ops.and(a, b)));
    default: {
      const never: never = cond;
      throw new InternalError(`unhandled jump condition ${String(never)}`);
    }
  }
}

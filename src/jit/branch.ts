/**
 * Conditional jump tests as i32 booleans. JMP compares the full registers (an immediate is sign-extended
 * to 64 bits first); JMP32 compares the low 32 bits with i32 operations.
 */
import { i64Const, type Expr } from './binaryen.js';
import type { FnEmitter } from './emitter.js';
import type { InsnOf } from '../isa/insn.js';

export function jumpCondition(e: FnEmitter, insn: InsnOf<'jmp'>): Expr {
  const m = e.m;
  const wide = insn.width === 64;
  const ops = wide ? m.i64 : m.i32;
  const a = wide ? e.get(insn.dst) : m.i32.wrap(e.get(insn.dst));
  let b: Expr;
  if (insn.operand === 'imm') b = wide ? i64Const(m, BigInt(insn.imm)) : m.i32.const(insn.imm);
  else b = wide ? e.get(insn.src) : m.i32.wrap(e.get(insn.src));
  switch (insn.cond) {
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
      const never: never = insn.cond;
      throw new Error(`unhandled jump condition ${String(never)}`);
    }
  }
}

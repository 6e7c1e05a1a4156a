/**
 * An instruction a failed CO-RE relocation poisoned: libbpf (and src/btf/core.ts) turns it into a
 * call of helper 0xbad2310, which no kernel has, so a program is refused only if the verifier reaches
 * the instruction. The verifier and both engines recognise the call and name the failed relocation.
 */
import type { Insn } from '../isa/insn.js';
import type { Program } from './program.js';

/** libbpf's poison helper id ("bad relo"). */
export const CORE_POISON_HELPER = 0xbad2310;

export const isPoisonedCall = (insn: Insn | undefined): boolean =>
  insn?.kind === 'call' && insn.mode === 'helper' && insn.imm === CORE_POISON_HELPER;

/** What to say about the poisoned instruction at `pc`: the relocation that failed, when the program knows it. */
export function poisonedCallRule(program: Program, pc: number): string {
  const failure = program.coreFailures?.get(pc);
  return failure === undefined
    ? `call 0x${CORE_POISON_HELPER.toString(16)} marks an instruction poisoned by a failed CO-RE relocation (the loader did not say which)`
    : `CO-RE relocation failed: ${failure}`;
}

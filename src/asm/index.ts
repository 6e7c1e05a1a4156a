/**
 * Assembler and disassembler for the two BPF assembly syntaxes:
 * - 'ubpf': the uBPF / conformance-suite style, `mov %r0, 1`, `ldxw %r0, [%r1+4]`, `jeq %r1, 5, +3`;
 * - 'llvm': the kernel / LLVM style printed by llvm-objdump and bpftool, `r0 = 1`,
 *   `r0 = *(u32 *)(r1 + 4)`, `if r1 == 5 goto +3` (llvm-objdump output may be pasted as-is).
 * lddw pseudo sources read `map_by_fd(3)`, `map_value_by_fd(3, 16)`, `map_by_idx(0)`,
 * `map_value_by_idx(0, 8)`, `variable_addr(4)`, `code_addr(7)` in both syntaxes
 * (`lddw %r1, map_by_fd(3)` / `r1 = map_by_fd(3) ll`). Maps are declared by name in both syntaxes,
 * `.map counts percpu_array key 4 value 8 entries 1`, and their names stand for their indexes in those
 * sources (`map_by_idx(counts)`); assembleUnit returns the declared maps with the instructions.
 */
export { assemble, assembleBytes, assembleUnit, type AsmUnit } from './assemble.js';
export { detectSyntax, type Syntax } from './detect.js';
export { disassemble, disassembleChunks, formatInsn, type DisassembleOptions, type Listable } from './disassemble.js';

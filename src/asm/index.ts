/**
 * Assembler and disassembler for the two BPF assembly syntaxes:
 * - 'ubpf': the uBPF / conformance-suite style, `mov %r0, 1`, `ldxw %r0, [%r1+4]`, `jeq %r1, 5, +3`;
 * - 'llvm': the kernel / LLVM style printed by llvm-objdump and bpftool, `r0 = 1`,
 *   `r0 = *(u32 *)(r1 + 4)`, `if r1 == 5 goto +3` (llvm-objdump output may be pasted as-is).
 * lddw pseudo sources read `map_by_fd(3)`, `map_value_by_fd(3, 16)`, `map_by_idx(0)`,
 * `map_value_by_idx(0, 8)`, `variable_addr(4)`, `code_addr(7)` in both syntaxes
 * (`lddw %r1, map_by_fd(3)` / `r1 = map_by_fd(3) ll`).
 */
export { assemble, assembleBytes } from './assemble.js';
export { detectSyntax, type Syntax } from './detect.js';
export { disassemble, disassembleChunks, formatInsn, type DisassembleOptions } from './disassemble.js';

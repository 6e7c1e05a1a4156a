/**
 * Disassembler: one instruction per line (no trailing newline) in either syntax. Jumps and local calls print as relative
 * offsets, or with `labels: true` as names (`L<pc>` for jump targets, `fn<pc>` for local-call
 * targets) defined on their own line. Either way the text assembles back to the same bytes.
 */
import { branchTarget, type Insn } from '../isa/insn.js';
import type { Syntax } from './detect.js';
import { formatLlvm } from './format-llvm.js';
import { formatUbpf } from './format-ubpf.js';

export interface DisassembleOptions {
  /** Print jump and call targets as labels instead of offsets. */
  readonly labels?: boolean;
}

/** One instruction, no labels: what error messages quote. */
export function formatInsn(insn: Insn, syntax: Syntax): string {
  return syntax === 'llvm' ? formatLlvm(insn) : formatUbpf(insn);
}

/** Label names by target pc; only targets that start an instruction get one. */
function labelNames(insns: readonly Insn[]): Map<number, string> {
  const starts = new Set(insns.map((i) => i.pc));
  const names = new Map<number, string>();
  for (const insn of insns) {
    const target = branchTarget(insn);
    if (target === undefined || !starts.has(target)) continue;
    if (insn.kind === 'call') names.set(target, `fn${target}`);
    else if (!names.has(target)) names.set(target, `L${target}`);
  }
  return names;
}

/** The listing's lines, one at a time. */
function* listing(insns: readonly Insn[], syntax: Syntax, options: DisassembleOptions): Generator<string> {
  const format = syntax === 'llvm' ? formatLlvm : formatUbpf;
  if (!options.labels) {
    for (const insn of insns) yield format(insn);
    return;
  }
  const names = labelNames(insns);
  for (const insn of insns) {
    const here = names.get(insn.pc);
    if (here !== undefined) yield `${here}:`;
    const target = branchTarget(insn);
    yield format(insn, target === undefined ? undefined : names.get(target));
  }
}

export function disassemble(insns: readonly Insn[], syntax: Syntax, options: DisassembleOptions = {}): string {
  return [...listing(insns, syntax, options)].join('\n');
}

/**
 * The same listing in pieces of `linesPerChunk` lines, each line ending in a newline: a million
 * instructions can be written out as they are formatted, never held as one string.
 */
export function* disassembleChunks(insns: readonly Insn[], syntax: Syntax, options: DisassembleOptions = {}, linesPerChunk = 4096): Generator<string> {
  let lines: string[] = [];
  for (const line of listing(insns, syntax, options)) {
    lines.push(line);
    if (lines.length < linesPerChunk) continue;
    yield lines.join('\n') + '\n';
    lines = [];
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
}

/**
 * Disassembler: one instruction per line (no trailing newline) in either syntax. Jumps and local calls print as relative
 * offsets, or with `labels: true` as names (`L<pc>` for jump targets, `fn<pc>` for local-call
 * targets and code addresses) defined on their own line. A program's maps print first as `.map` lines, and lddw map
 * sources name them. Either way the text assembles back to the same bytes and maps.
 */
import { branchTarget, calleeTarget, type Insn } from '../isa/insn.js';
import type { MapSpec } from '../maps/spec.js';
import { formatSourceLine, lineStartingAt, type SourceLine } from '../program/source-lines.js';
import type { Syntax } from './detect.js';
import { formatLlvm } from './format-llvm.js';
import { formatUbpf } from './format-ubpf.js';
import { formatMapDirective, listingMapNames } from './map-directive.js';

export interface DisassembleOptions {
  /** Print jump and call targets as labels instead of offsets. */
  readonly labels?: boolean;
  /**
   * The program's maps (Program.maps; default: those of the program given, if any): printed as
   * `.map` lines, and by name in lddw operands. An unnamed map prints as `map<index>`; a spec
   * validateSpec refuses is an InputError.
   */
  readonly maps?: readonly MapSpec[];
  /**
   * C source lines (Program.lines, sorted by pc; `disasm --source` passes the program's), printed as
   * `; <text> @ <file>:<line>` comments above the instruction each starts at (`disasm --source`).
   * Comments, so the listing still assembles.
   */
  readonly lines?: readonly SourceLine[];
}

/** Instructions, or a program with its maps (a Program, an AsmUnit). */
export type Listable = readonly Insn[] | { readonly insns: readonly Insn[]; readonly maps: readonly MapSpec[] };

/** One instruction, no labels: what error messages quote. */
export function formatInsn(insn: Insn, syntax: Syntax): string {
  return syntax === 'llvm' ? formatLlvm(insn) : formatUbpf(insn);
}

/** Label names by target pc; only targets that start an instruction get one. */
function labelNames(insns: readonly Insn[]): Map<number, string> {
  const starts = new Set(insns.map((i) => i.pc));
  const names = new Map<number, string>();
  for (const insn of insns) {
    const target = branchTarget(insn) ?? calleeTarget(insn);
    if (target === undefined || !starts.has(target)) continue;
    if (calleeTarget(insn) !== undefined) names.set(target, `fn${target}`);
    else if (!names.has(target)) names.set(target, `L${target}`);
  }
  return names;
}

/** The listing's lines, one at a time. */
function* listing(source: Listable, syntax: Syntax, options: DisassembleOptions): Generator<string> {
  const insns = 'insns' in source ? source.insns : source;
  const maps = options.maps ?? ('maps' in source ? source.maps : []);
  const mapNames = listingMapNames(maps);
  for (const [i, spec] of maps.entries()) yield formatMapDirective(spec, mapNames[i]!);
  const format = syntax === 'llvm' ? formatLlvm : formatUbpf;
  const lines = options.lines;
  if (!options.labels && !lines) {
    for (const insn of insns) yield format(insn, undefined, mapNames);
    return;
  }
  const names = options.labels ? labelNames(insns) : new Map<number, string>();
  for (const insn of insns) {
    const line = lineStartingAt(lines, insn.pc);
    if (line) yield formatSourceLine(line);
    const here = names.get(insn.pc);
    if (here !== undefined) yield `${here}:`;
    const target = branchTarget(insn) ?? calleeTarget(insn);
    yield format(insn, target === undefined ? undefined : names.get(target), mapNames);
  }
}

export function disassemble(source: Listable, syntax: Syntax, options: DisassembleOptions = {}): string {
  return [...listing(source, syntax, options)].join('\n');
}

/**
 * The same listing in pieces of `linesPerChunk` lines, each line ending in a newline: a million
 * instructions can be written out as they are formatted, never held as one string.
 */
export function* disassembleChunks(source: Listable, syntax: Syntax, options: DisassembleOptions = {}, linesPerChunk = 4096): Generator<string> {
  let lines: string[] = [];
  for (const line of listing(source, syntax, options)) {
    lines.push(line);
    if (lines.length < linesPerChunk) continue;
    yield lines.join('\n') + '\n';
    lines = [];
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
}

/**
 * The assembler driver shared by both syntaxes: split lines, collect labels and `.map` declarations,
 * parse instructions, resolve label targets into relative offsets and map names into indexes (so
 * both may be used before they are defined), then build raw slots and decode them with decodeSlots
 * so the decoder's field rules apply exactly once.
 */
import { AsmError, ProgramError } from '../errors.js';
import { decodeSlots } from '../isa/decode.js';
import type { Insn, RawSlot } from '../isa/insn.js';
import { encodeSlots } from '../isa/encode.js';
import type { MapSpec } from '../maps/spec.js';
import { Cursor, checkRange } from './cursor.js';
import { detectSyntax, type Syntax } from './detect.js';
import { itemSlots, targetField, type AsmItem } from './item.js';
import { MAP_DIRECTIVE, parseMapDirective, type MapDecl } from './map-directive.js';
import { stripComment, tokenize } from './lexer.js';
import { parseLlvmLine } from './llvm-parse.js';
import { itemFromBytes, preprocessObjdumpLine, type PreprocessedLine } from './objdump.js';
import { parseUbpfLine } from './ubpf-parse.js';

interface LabelDef {
  readonly pc: number;
  readonly line: number;
}

interface Parsed {
  readonly items: AsmItem[];
  /** Slot index of each item. */
  readonly pcs: number[];
  readonly labels: Map<string, LabelDef>;
  /** Declared maps in order, and each one's index by name. */
  readonly maps: MapDecl[];
  readonly mapIndex: Map<string, number>;
}

/** What a text assembles into: the instructions and the maps it declares (bytecode holds only the former). */
export interface AsmUnit {
  readonly insns: Insn[];
  readonly maps: MapSpec[];
}

function declareMap(parsed: Parsed, decl: MapDecl): void {
  const name = decl.spec.name!;
  const previous = parsed.mapIndex.get(name);
  if (previous !== undefined) {
    throw new AsmError('E_ASM_MAP', decl.line, decl.column, `map '${name}' is already declared on line ${parsed.maps[previous]!.line}`);
  }
  parsed.mapIndex.set(name, parsed.maps.length);
  parsed.maps.push(decl);
}

function defineLabel(labels: Map<string, LabelDef>, name: string, pc: number, line: number, column: number): void {
  const previous = labels.get(name);
  if (previous) throw new AsmError('E_ASM_LABEL', line, column, `label '${name}' is already defined on line ${previous.line}`);
  labels.set(name, { pc, line });
}

function parseText(text: string, syntax: Syntax): Parsed {
  const parsed: Parsed = { items: [], pcs: [], labels: new Map(), maps: [], mapIndex: new Map() };
  let pc = 0;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const pre: PreprocessedLine = syntax === 'llvm' ? preprocessObjdumpLine(rawLine) : { text: rawLine };
    if (pre.label) defineLabel(parsed.labels, pre.label.name, pc, line, pre.label.column);
    const code = stripComment(pre.text);
    const tokens = tokenize(code, line);
    let start = 0;
    // `name:` labels, possibly followed by an instruction on the same line.
    while (tokens[start]?.kind === 'ident' && tokens[start + 1]?.text === ':' && tokens[start + 1]?.kind === 'punct') {
      defineLabel(parsed.labels, tokens[start]!.text, pc, line, tokens[start]!.column);
      start += 2;
    }
    let item: AsmItem;
    if (pre.unknownAt !== undefined) {
      item = itemFromBytes(pre, line);
    } else {
      if (start >= tokens.length) return;
      const cursor = new Cursor(tokens.slice(start), line, code.trimEnd().length + 1);
      if (cursor.isIdent(MAP_DIRECTIVE)) return declareMap(parsed, parseMapDirective(cursor));
      item = syntax === 'llvm' ? parseLlvmLine(cursor, pre) : parseUbpfLine(cursor);
    }
    parsed.items.push(item);
    parsed.pcs.push(pc);
    pc += item.row.form.kind === 'lddw' ? 2 : 1;
  });
  return parsed;
}

/** Where a label points; `exit` with no such label means the first exit (conformance convention). */
function labelPc(parsed: Parsed, item: AsmItem): number {
  const target = item.target!;
  const def = parsed.labels.get(target.name);
  if (def) return def.pc;
  if (target.name === 'exit') {
    const first = parsed.items.findIndex((i) => i.row.form.kind === 'exit');
    if (first >= 0) return parsed.pcs[first]!;
  }
  throw new AsmError('E_ASM_LABEL', item.line, target.column, `unknown label '${target.name}'`);
}

function mapIndex(parsed: Parsed, item: AsmItem): number {
  const ref = item.mapRef!;
  const index = parsed.mapIndex.get(ref.name);
  if (index === undefined) throw new AsmError('E_ASM_MAP', item.line, ref.column, `unknown map '${ref.name}' (declare it with .map)`);
  return index;
}

function resolve(parsed: Parsed): RawSlot[] {
  const slots: RawSlot[] = [];
  parsed.items.forEach((item, i) => {
    let resolved = item.mapRef ? { ...item, imm: mapIndex(parsed, item) } : item;
    if (item.target) {
      const pc = parsed.pcs[i]!;
      const field = targetField(item.row);
      const delta = labelPc(parsed, item) - pc - 1;
      const digits = String(Math.abs(delta));
      const rel = checkRange({ negative: delta < 0, digits, column: item.target.column },
        field === 'off' ? 'off16' : 'rel32', item.line);
      resolved = { ...resolved, [field]: Number(rel) };
    }
    slots.push(...itemSlots(resolved));
  });
  return slots;
}

/** Turns a decoder refusal into an assembler error on the line that produced the slot. */
function decodeAsm(slots: RawSlot[], parsed: Parsed): Insn[] {
  try {
    return decodeSlots(slots);
  } catch (e) {
    if (!(e instanceof ProgramError)) throw e;
    // The item whose slots include the failing pc: the last one starting at or before it.
    let i = 0;
    while (i + 1 < parsed.pcs.length && parsed.pcs[i + 1]! <= e.pc) i++;
    const item = parsed.items[i];
    throw new AsmError('E_ASM_OPERANDS', item?.line ?? 1, item?.column ?? 1, e.message);
  }
}

function assembleSlots(text: string, syntax: Syntax | undefined): AsmUnit & { slots: RawSlot[] } {
  const parsed = parseText(text, syntax ?? detectSyntax(text));
  if (parsed.items.length === 0) throw new AsmError('E_ASM_SYNTAX', 1, 1, 'no instructions');
  const slots = resolve(parsed);
  return { slots, insns: decodeAsm(slots, parsed), maps: parsed.maps.map((m) => m.spec) };
}

/** Assembles text in either syntax (detected when not given) into what decodeSlots makes of its bytes. */
export function assemble(text: string, syntax?: Syntax): Insn[] {
  return assembleSlots(text, syntax).insns;
}

/** Assembles text into its instructions and the maps its `.map` lines declare, in order. */
export function assembleUnit(text: string, syntax?: Syntax): AsmUnit {
  const { insns, maps } = assembleSlots(text, syntax);
  return { insns, maps };
}

/** Assembles text into little-endian bytecode, 8 bytes per slot; bytecode holds no maps (see assembleUnit). */
export function assembleBytes(text: string, syntax?: Syntax): Uint8Array {
  return encodeSlots(assembleSlots(text, syntax).slots);
}

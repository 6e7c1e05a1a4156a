/**
 * Accepts `llvm-objdump -d` and `bpftool prog dump xlated` output pasted as-is: address prefixes
 * (`  3:`), the raw bytes column, bpftool's `(b7)` opcode column, `<label>:` and
 * `0000000000000000 <name>:` headers, trailing `<LBB0_2>` annotations and headers/relocations.
 * Decorations are blanked with spaces rather than removed, so columns in errors stay true.
 */
import { AsmError } from '../errors.js';
import { toSlots } from '../isa/decode.js';
import type { RawSlot } from '../isa/insn.js';
import { findRow } from '../isa/table.js';
import { makeItem, type AsmItem } from './item.js';

export interface PreprocessedLine {
  readonly text: string;
  readonly label?: { readonly name: string; readonly column: number };
  /** The raw bytes column, when pasted: it settles what the text cannot say (see bytesDecide). */
  readonly raw?: readonly RawSlot[];
  /** bpftool printed opcode 0x18: `rN = 0x...` is an lddw even without `ll`. */
  readonly lddw?: boolean;
  /** llvm-objdump printed `<unknown>` (LLVM 14 does so for 32-bit atomics other than add). */
  readonly unknownAt?: number;
}

const SKIP = /^(\s*$|Disassembly of section |.*:\s+file format |\s*[0-9a-f]+:\s+R_BPF_)/;
const HEADER = /^(\s*[0-9a-fA-F]+\s+)?<([^>]+)>:\s*$/;
const ADDRESS = /^\s*[0-9a-fA-F]+:(?=\s)/;
const BYTES = /^\s*((?:[0-9a-f]{2} )*[0-9a-f]{2})(?=\t|\s{2,}|\s*$)/;
const BPFTOOL_OPCODE = /^\s*\(([0-9a-f]{2})\)(?=\s)/;
/** `<LBB0_2>` or `<f+0x10>`: no spaces inside, so `if r3 < r2 goto -6 <LBB2_2>` keeps its `<`. */
const ANNOTATION = /\s<[^<>\s]+>\s*$/;

const blank = (text: string, from: number, to: number): string =>
  text.slice(0, from) + ' '.repeat(to - from) + text.slice(to);

function bytesOf(hex: string): RawSlot[] | undefined {
  const bytes = new Uint8Array(hex.trim().split(/\s+/).map((b) => parseInt(b, 16)));
  return bytes.length === 8 || bytes.length === 16 ? toSlots(bytes) : undefined;
}

export function preprocessObjdumpLine(line: string): PreprocessedLine {
  if (SKIP.test(line)) return { text: '' };
  const header = HEADER.exec(line);
  if (header) return { text: '', label: { name: header[2]!, column: line.indexOf('<') + 2 } };
  let text = line;
  let raw: RawSlot[] | undefined;
  let lddw = false;
  const address = ADDRESS.exec(text);
  if (address) {
    text = blank(text, 0, address[0].length);
    const rest = text.slice(address[0].length);
    const bytes = BYTES.exec(rest);
    const op = BPFTOOL_OPCODE.exec(rest);
    if (bytes) {
      raw = bytesOf(bytes[1]!);
      text = blank(text, address[0].length, address[0].length + bytes[0].length);
    } else if (op) {
      lddw = op[1] === '18';
      text = blank(text, address[0].length, address[0].length + op[0].length);
    }
  }
  if (text.trim() === '<unknown>') return { text: '', unknownAt: text.indexOf('<') + 1, ...(raw ? { raw } : {}) };
  const annotation = ANNOTATION.exec(text);
  if (annotation && /\b(goto|gotol|call)\b/.test(text)) text = blank(text, annotation.index, text.length);
  // bpftool names helpers: `call bpf_map_lookup_elem#1` is `call 1`.
  const named = /\bcall\s+([A-Za-z_]\w*#)(?=-?\d)/.exec(text);
  if (named) text = blank(text, named.index + named[0].length - named[1]!.length, named.index + named[0].length);
  return { text, ...(raw ? { raw } : {}), ...(lddw ? { lddw } : {}) };
}

/** An instruction llvm-objdump could not print, taken from its bytes column. */
export function itemFromBytes(pre: PreprocessedLine, line: number): AsmItem {
  const column = pre.unknownAt ?? 1;
  const slot = pre.raw?.[0];
  const row = slot && findRow(slot.opcode, slot);
  if (!slot || !row) throw new AsmError('E_ASM_MNEMONIC', line, column, 'instruction printed as <unknown> and no bytes to read it from');
  return makeItem(row, { ...slot, nextImm: pre.raw?.[1]?.imm ?? 0 }, line, column);
}

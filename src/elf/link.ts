/**
 * Linking one program: its function first, then every function it reaches through calls and callback
 * addresses (as libbpf appends `.text` subprograms), each relocation applied to the copy:
 * - R_BPF_64_32 on a local call, and local calls clang resolved itself inside a section: the call's
 *   imm becomes relative to where the callee landed;
 * - R_BPF_64_64 on an lddw of a function: `lddw rX, code_addr(f)`;
 * - R_BPF_64_64 on an lddw of a map: `map_by_idx(N)`, of a variable: `map_value_by_idx(N) + offset`,
 *   N counting the program's own maps (ProgramSpec.maps).
 */
import { LddwSrc } from '../isa/insn.js';
import { elfError } from './header.js';
import { functionAt, SLOT, type CodeFunction, type CodeSection } from './code.js';
import { R_BPF, type Relocation } from './relocations.js';
import { STT } from './symbols.js';
import type { CodeRange } from './spec.js';

const OP_CALL = 0x85;
const OP_LDDW = 0x18;
const SRC_LOCAL_CALL = 1;

/** What an lddw of something that is not code loads: a map, or an address inside a map's value. */
export type DataTarget = { readonly map: number; readonly offset?: number };
/** Resolves an lddw's relocation to data (imm: the lddw's own imm, an addend); throws for anything else. */
export type ResolveData = (rel: Relocation, imm: number) => DataTarget;

export interface Linked {
  readonly bytes: Uint8Array;
  readonly maps: readonly number[];
  readonly origin: readonly CodeRange[];
}

interface Placed { readonly code: CodeSection; readonly fn: CodeFunction; readonly at: number }

class Linker {
  private readonly placed: Placed[] = [];
  private readonly maps: number[] = [];
  private size = 0;

  constructor(private readonly code: ReadonlyMap<number, CodeSection>, private readonly data: ResolveData) {}

  /** The program slot of `slot` in `section`'s function, placing the function at the end when it is not yet. */
  private place(code: CodeSection, fn: CodeFunction): number {
    const found = this.placed.find((p) => p.code === code && p.fn === fn);
    if (found) return found.at;
    this.placed.push({ code, fn, at: this.size });
    this.size += fn.count;
    return this.size - fn.count;
  }

  /** Where a code target (slot of a section) ends up in the program. */
  private target(sectionIndex: number, slot: number, rel: Relocation | undefined, from: CodeSection, pc: number): number {
    const code = this.code.get(sectionIndex);
    const fn = code && functionAt(code, slot);
    if (!code || !fn) {
      const where = rel ? rel.at : { section: from.section.name, offset: pc * SLOT };
      throw elfError(where.section, where.offset, `jumps to instruction ${slot} of section ${sectionIndex}, which is in no function`);
    }
    return this.place(code, fn) + slot - fn.start;
  }

  link(entry: CodeSection, fn: CodeFunction): Linked {
    this.place(entry, fn);
    const out: Uint8Array[] = [];
    // place() grows the list while we walk it: each callee is patched in its turn.
    for (let i = 0; i < this.placed.length; i++) out.push(this.patch(this.placed[i]!));
    const bytes = new Uint8Array(this.size * SLOT);
    this.placed.forEach((p, i) => bytes.set(out[i]!, p.at * SLOT));
    const origin = this.placed.map((p) => ({ section: p.code.section.name, sectionInsn: p.fn.start, programInsn: p.at, count: p.fn.count }));
    return { bytes, maps: this.maps, origin };
  }

  private patch(p: Placed): Uint8Array {
    const { code, fn } = p;
    const bytes = code.bytes.slice(fn.start * SLOT, (fn.start + fn.count) * SLOT);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < fn.count; i++) {
      const slot = fn.start + i;
      const rel = code.relocs.get(slot);
      const op = bytes[i * SLOT]!;
      const src = bytes[i * SLOT + 1]! >> 4;
      const imm = view.getInt32(i * SLOT + 4, true);
      if (rel) this.relocate(p, i, rel, view);
      else if (op === OP_CALL && src === SRC_LOCAL_CALL) {
        // A call clang resolved itself: relative to the call, inside this section.
        const to = this.target(code.section.index, slot + imm + 1, undefined, code, slot);
        view.setInt32(i * SLOT + 4, to - (p.at + i) - 1, true);
      }
    }
    return bytes;
  }

  private relocate(p: Placed, i: number, rel: Relocation, view: DataView): void {
    const op = view.getUint8(i * SLOT);
    const src = view.getUint8(i * SLOT + 1) >> 4;
    const imm = view.getInt32(i * SLOT + 4, true);
    const pc = p.at + i;
    const sym = rel.symbol;
    if (rel.type === R_BPF.R64_32) {
      if (op !== OP_CALL || src !== SRC_LOCAL_CALL) throw elfError(rel.at.section, rel.at.offset, `R_BPF_64_32 on an instruction that is not a local call (opcode 0x${op.toString(16)})`);
      if (!this.code.has(sym.shndx)) throw elfError(rel.at.section, rel.at.offset, `call of '${sym.name}', which is not a function of the object`);
      const to = this.target(sym.shndx, sym.value / SLOT + imm + 1, rel, p.code, pc);
      view.setInt32(i * SLOT + 4, to - pc - 1, true);
      return;
    }
    if (rel.type !== R_BPF.R64_64) throw elfError(rel.at.section, rel.at.offset, `relocation type ${rel.type} in code: only R_BPF_64_64 (1) and R_BPF_64_32 (10) apply to instructions`);
    if (op !== OP_LDDW || src !== 0 || (i + 1) * SLOT >= view.byteLength) {
      throw elfError(rel.at.section, rel.at.offset, `R_BPF_64_64 on an instruction that is not a plain lddw (opcode 0x${op.toString(16)}, src ${src})`);
    }
    const dst = view.getUint8(i * SLOT + 1) & 0xf;
    if (this.code.has(sym.shndx) && (sym.type === STT.FUNC || sym.type === STT.SECTION)) {
      const byte = sym.value + imm;
      if (byte % SLOT !== 0) throw elfError(rel.at.section, rel.at.offset, `address of '${sym.name}' + ${imm} is not on an instruction`);
      const to = this.target(sym.shndx, byte / SLOT, rel, p.code, pc);
      return this.setLddw(view, i, dst, LddwSrc.CODE_ADDR, to - pc - 1, 0);
    }
    const data = this.data(rel, imm);
    let local = this.maps.indexOf(data.map);
    if (local < 0) local = this.maps.push(data.map) - 1;
    if (data.offset === undefined) this.setLddw(view, i, dst, LddwSrc.MAP_BY_IDX, local, 0);
    else this.setLddw(view, i, dst, LddwSrc.MAP_VALUE_BY_IDX, local, data.offset);
  }

  private setLddw(view: DataView, i: number, dst: number, src: number, imm: number, imm2: number): void {
    view.setUint8(i * SLOT + 1, (src << 4) | dst);
    view.setInt32(i * SLOT + 4, imm, true);
    view.setInt32((i + 1) * SLOT + 4, imm2, true);
  }
}

/** The linked program of function `fn` of `entry`. */
export function linkProgram(code: ReadonlyMap<number, CodeSection>, entry: CodeSection, fn: CodeFunction, data: ResolveData): Linked {
  return new Linker(code, data).link(entry, fn);
}

/**
 * `.BTF.ext` records put onto linked programs: line info and CO-RE relocations name an instruction of a
 * section; a program holds its own function and the subprograms it calls, so each record that falls in
 * one of the program's code ranges (ProgramSpec.origin) moves to that range's pc. Records of code no
 * program reaches are dropped; a record past its section's end is an error naming the section.
 */
import type { Btf } from '../btf/btf.js';
import { parseBtfExt, type BtfExt } from '../btf/ext.js';
import { ObjectError } from '../errors.js';
import type { SourceLine } from '../program/source-lines.js';
import { SLOT, type CodeSection } from './code.js';
import type { ProgramCoreRelo, ProgramSpec } from './spec.js';

/** Checks every record lies inside its section's code (clang's records always do). */
function checkInside(ext: BtfExt, code: ReadonlyMap<string, CodeSection>): void {
  const check = (kind: string, records: ReadonlyMap<string, readonly { insn: number }[]>, code_: 'E_BTF' | 'E_CORE'): void => {
    for (const [section, list] of records) {
      const c = code.get(section);
      const slots = c ? c.bytes.length / SLOT : 0;
      const bad = list.find((r) => r.insn >= slots);
      if (bad) {
        throw new ObjectError(code_, section, bad.insn * SLOT,
          `.BTF.ext ${kind} for instruction ${bad.insn}, outside the section's ${slots} instructions`);
      }
    }
  };
  check('line info', ext.lineInfo, 'E_BTF');
  check('CO-RE relocation', ext.coreRelos, 'E_CORE');
}

/** The object's `.BTF.ext`, parsed and checked against its code sections (by name). */
export function readExt(bytes: Uint8Array | undefined, btf: Btf | undefined, code: ReadonlyMap<string, CodeSection>): BtfExt | undefined {
  if (!bytes || !btf) return undefined;
  const ext = parseBtfExt(bytes, btf);
  checkInside(ext, code);
  return ext;
}

/** The program's source lines and CO-RE relocations, at its own pcs. */
export function programExt(program: Omit<ProgramSpec, 'lines' | 'coreRelos'>, ext: BtfExt | undefined): Pick<ProgramSpec, 'lines' | 'coreRelos'> {
  if (!ext) return {};
  const lines: SourceLine[] = [];
  const coreRelos: ProgramCoreRelo[] = [];
  for (const range of program.origin) {
    const inRange = (r: { insn: number }): boolean => r.insn >= range.sectionInsn && r.insn < range.sectionInsn + range.count;
    const pcOf = (insn: number): number => range.programInsn + insn - range.sectionInsn;
    for (const l of (ext.lineInfo.get(range.section) ?? []).filter(inRange)) {
      lines.push({ pc: pcOf(l.insn), file: l.file, text: l.text, line: l.line, column: l.column });
    }
    for (const r of (ext.coreRelos.get(range.section) ?? []).filter(inRange)) {
      coreRelos.push({ ...r, insn: pcOf(r.insn), section: range.section, sectionInsn: r.insn });
    }
  }
  return { ...(lines.length ? { lines } : {}), ...(coreRelos.length ? { coreRelos } : {}) };
}

/**
 * A linked program spec made ready to load: its CO-RE relocations resolved against the target BTF
 * (the object's own unless the host gives one: libbpf's btf_custom_path), its source lines attached,
 * and instructions whose relocation the target cannot satisfy poisoned (src/btf/core.ts).
 */
import type { Btf } from '../btf/btf.js';
import { applyCoreRelocations, coreFailures } from '../btf/core.js';
import { ObjectError } from '../errors.js';
import { buildProgram, decodeProgram, type Program } from '../program/program.js';
import { SLOT } from './code.js';
import type { ProgramCoreRelo, ProgramSpec } from './spec.js';

export function buildObjectProgram(p: ProgramSpec, local: Btf | undefined, target: Btf | undefined, maxSlots?: number): Program {
  let insns = decodeProgram(p.bytes, maxSlots === undefined ? {} : { maxSlots });
  const failures = new Map<number, string>();
  if (p.coreRelos?.length) {
    if (!local) throw new ObjectError('E_CORE', p.section, 0, `program '${p.name}' has CO-RE relocations but the object has no .BTF`);
    // One pass per source section, so an error names the section and the offset clang gave the instruction.
    for (const [section, relos] of bySection(p.coreRelos)) {
      try {
        const out = applyCoreRelocations(insns, relos, local, target ?? local, section);
        insns = out.insns;
        for (const [pc, why] of coreFailures(out.results)) failures.set(pc, why);
      } catch (e) {
        throw e instanceof ObjectError ? sectionError(e, relos) : e;
      }
    }
  }
  return buildProgram(insns, {
    ...(maxSlots === undefined ? {} : { maxSlots }), ...(p.lines ? { lines: p.lines } : {}), ...(failures.size ? { coreFailures: failures } : {}),
  });
}

function bySection(relos: readonly ProgramCoreRelo[]): Map<string, ProgramCoreRelo[]> {
  const out = new Map<string, ProgramCoreRelo[]>();
  for (const r of relos) {
    let list = out.get(r.section);
    if (!list) out.set(r.section, (list = []));
    list.push(r);
  }
  return out;
}

/** applyCoreRelocations names the program's byte offset; the section's is the one to report. */
function sectionError(e: ObjectError, relos: readonly ProgramCoreRelo[]): ObjectError {
  const relo = relos.find((r) => r.insn * SLOT === e.offset);
  if (!relo) return e;
  return new ObjectError(e.code as 'E_CORE', relo.section, relo.sectionInsn * SLOT, e.reason);
}

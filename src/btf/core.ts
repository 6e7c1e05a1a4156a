/**
 * Applies CO-RE relocations to a program's instructions: each relocation's value is computed in the
 * object's BTF and in the target's (core-value.ts), the instruction is checked to hold the first and
 * changed to hold the second. The instruction forms are libbpf's: an ALU immediate (mov, add, shifts),
 * the offset of a load or store (whose size may follow a field that changed size), and the 64-bit
 * value of an lddw. A relocation the target cannot satisfy poisons its instruction instead, as libbpf
 * does: it becomes `call 0xbad2310`, so the program is refused only if the verifier reaches it.
 */
import { ObjectError } from '../errors.js';
import { decodeSlots } from '../isa/decode.js';
import { toRawSlots } from '../isa/encode.js';
import type { Insn, RawSlot } from '../isa/insn.js';
import { Cls, Mode, Size, Src, isAluClass, opClass, opMode, opSize, opSource } from '../isa/opcode.js';
import { CORE_POISON_HELPER } from '../program/core-poison.js';
import type { Btf } from './btf.js';
import { CoreFault, resolveRelocation, type Resolution } from './core-value.js';
import type { CoreKind, CoreRelo } from './ext.js';

export { CORE_POISON_HELPER } from '../program/core-poison.js';

export interface CoreResult {
  /** The relocated instruction's pc. */
  readonly insn: number;
  readonly kind: CoreKind;
  readonly access: string;
  /** `field_byte_offset of struct event___local (access 0:2)`: what the relocation is, for messages. */
  readonly description: string;
  /** The value in the object's own BTF (what the instruction held). */
  readonly local: bigint;
  /** The value written, or undefined when the instruction was poisoned. */
  readonly target: bigint | undefined;
  /** Why the instruction was poisoned. */
  readonly why?: string;
}

const SIZE_BYTES: Readonly<Record<number, number>> = { [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 8 };
const BYTES_SIZE: Readonly<Record<number, number>> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };
const POISON: RawSlot = { opcode: Cls.JMP | 0x80, dst: 0, src: 0, off: 0, imm: CORE_POISON_HELPER };

const isLddw = (raw: RawSlot): boolean => raw.opcode === (Cls.LD | Mode.IMM | Size.DW);

/** Writes the target value into the instruction at `slot`; a string says why it cannot (then it is poisoned). */
function patch(slots: RawSlot[], slot: number, res: Resolution & { target: bigint }): string | undefined {
  const raw = slots[slot]!;
  const cls = opClass(raw.opcode);
  const mismatch = (held: bigint): never => {
    throw new CoreFault(`the instruction holds ${held}, but the object's BTF says ${res.local}`);
  };
  if (isAluClass(cls) && opSource(raw.opcode) === Src.K) {
    if (res.validate && BigInt(raw.imm) !== BigInt.asIntN(32, res.local) && BigInt(raw.imm >>> 0) !== res.local) mismatch(BigInt(raw.imm));
    if (res.target > 0xffffffffn || res.target < -0x80000000n) throw new CoreFault(`value ${res.target} does not fit a 32-bit immediate`);
    slots[slot] = { ...raw, imm: Number(BigInt.asIntN(32, res.target)) };
    return undefined;
  }
  if ((cls === Cls.LDX || cls === Cls.ST || cls === Cls.STX) && (opMode(raw.opcode) === Mode.MEM || opMode(raw.opcode) === Mode.MEMSX)) {
    return patchAccess(slots, slot, res);
  }
  if (isLddw(raw) && raw.src === 0) {
    const held = BigInt(raw.imm >>> 0) | (BigInt(slots[slot + 1]!.imm >>> 0) << 32n);
    if (res.validate && held !== BigInt.asUintN(64, res.local)) mismatch(held);
    const value = BigInt.asUintN(64, res.target);
    slots[slot] = { ...raw, imm: Number(BigInt.asIntN(32, value)) };
    slots[slot + 1] = { ...slots[slot + 1]!, imm: Number(BigInt.asIntN(32, value >> 32n)) };
    return undefined;
  }
  throw new CoreFault(`opcode 0x${raw.opcode.toString(16)} is not an instruction CO-RE can relocate`);
}

/** A load or store: the offset becomes the field's new offset, the access size its new size. */
function patchAccess(slots: RawSlot[], slot: number, res: Resolution & { target: bigint }): string | undefined {
  const raw = slots[slot]!;
  if (res.validate && BigInt(raw.off) !== res.local) throw new CoreFault(`the instruction's offset is ${raw.off}, but the object's BTF says ${res.local}`);
  if (res.target > 0x7fffn) throw new CoreFault(`offset ${res.target} does not fit a load or store's 16-bit offset`);
  let opcode = raw.opcode;
  const access = res.access;
  if (access && access.local !== access.target) {
    if (!access.adjustable) return `the field is ${access.local} bytes here but ${access.target} in the target, and a load or store of it cannot change size`;
    if (SIZE_BYTES[opSize(opcode)] !== access.local) throw new CoreFault(`the instruction accesses ${SIZE_BYTES[opSize(opcode)]} bytes of a ${access.local}-byte field`);
    opcode = (opcode & ~0x18) | BYTES_SIZE[access.target]!;
  }
  slots[slot] = { ...raw, opcode, off: Number(res.target) };
  return undefined;
}

function describe(relo: CoreRelo, local: Btf): string {
  return `${relo.kind} of ${local.typeName(relo.typeId)} (access ${relo.access})`;
}

/**
 * Relocates `insns` (relocation `insn` fields are pcs into them) against `target` (by default the
 * object's own BTF). Pure: the input is not changed. A relocation the object itself contradicts (a
 * bad access string, an instruction that does not hold the expected value, candidates that disagree)
 * is an ObjectError('E_CORE', section, byte offset of the instruction); one the target cannot satisfy
 * poisons its instruction and says why in its result.
 */
export function applyCoreRelocations(
  insns: readonly Insn[], relos: readonly CoreRelo[], local: Btf, target: Btf = local, section = '.text',
): { insns: Insn[]; results: CoreResult[] } {
  const slots = toRawSlots(insns);
  const results = relos.map((relo) => {
    const at = relo.insn;
    try {
      if (!Number.isInteger(at) || at < 0 || at >= slots.length) throw new CoreFault(`instruction ${at} is outside the program's ${slots.length} slots`);
      const res = resolveRelocation(relo, local, target);
      const base = { insn: at, kind: relo.kind, access: relo.access, description: describe(relo, local), local: res.local };
      const why = res.target === undefined ? res.why ?? 'unsatisfiable' : patch(slots, at, { ...res, target: res.target });
      if (why === undefined) return { ...base, target: res.target };
      if (isLddw(slots[at]!)) slots[at + 1] = POISON;
      slots[at] = POISON;
      return { ...base, target: undefined, why };
    } catch (e) {
      if (!(e instanceof CoreFault)) throw e;
      throw new ObjectError('E_CORE', section, at * 8, `${describe(relo, local)}: ${e.message}`);
    }
  });
  return { insns: decodeSlots(slots), results };
}

/** The poisoned instructions' pcs and why, for Program.coreFailures (the verifier and the engines name them). */
export function coreFailures(results: readonly CoreResult[]): Map<number, string> {
  const failures = new Map<number, string>();
  for (const r of results) if (r.target === undefined) failures.set(r.insn, `${r.description}: ${r.why}`);
  return failures;
}

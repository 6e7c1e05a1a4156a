/**
 * What the BPF_F.RDONLY_PROG and BPF_F.WRONLY_PROG creation flags let a program do with a map's
 * values (the kernel's check_map_access_type and record_func_map), and the constants a frozen
 * read-only map holds (its bpf_map_direct_read): libbpf's `const volatile` configuration lives in
 * such a map (`.rodata`), and the branches it turns off are then never explored, so code the
 * configuration rules out need not verify.
 */
import type { AccessSize } from '../isa/insn.js';
import { BPF_F } from '../maps/types.js';
import { accessText, type AccessMode } from './access-common.js';
import type { MapDescriptor } from './helper-call.js';
import { constOffset, hasConstOffset, type Ptr } from './reg-state.js';
import { refuse } from './refusal.js';
import { scalarConst, type Scalar } from './scalar.js';

/** The helpers the kernel refuses on a BPF_F_RDONLY_PROG map: update, delete, push, pop. */
const WRITING_HELPERS = new Set([2, 3, 87, 88]);

const mapText = (index: number, m: MapDescriptor): string => `map ${index}${m.name ? ` ('${m.name}')` : ''}`;

function mapOfValue(maps: readonly MapDescriptor[] | undefined, p: Ptr): MapDescriptor | undefined {
  return p.kind === 'map_value' && p.region >= 0 ? maps?.[p.region] : undefined;
}

/**
 * Refuses a program's access to a map value its map's flags forbid: any write (store, atomic, a
 * helper filling it) to a BPF_F_RDONLY_PROG map, any read (load, atomic, a helper reading it) of a
 * BPF_F_WRONLY_PROG one. The kernel answers EACCES, "write into map forbidden".
 */
export function checkMapAccess(maps: readonly MapDescriptor[] | undefined, p: Ptr, reg: number, size: number, mode: AccessMode): void {
  const m = mapOfValue(maps, p);
  const flags = m?.flags ?? 0;
  if (mode !== 'read' && (flags & BPF_F.RDONLY_PROG) !== 0) {
    refuse('E_VERIFY_MEM_ACCESS', `${accessText(mode, size)} through r${reg}: ${mapText(p.region, m!)} is read-only to programs (BPF_F_RDONLY_PROG)`, [reg]);
  }
  if (mode !== 'write' && (flags & BPF_F.WRONLY_PROG) !== 0) {
    refuse('E_VERIFY_MEM_ACCESS', `${accessText(mode, size)} through r${reg}: ${mapText(p.region, m!)} is write-only to programs (BPF_F_WRONLY_PROG)`, [reg]);
  }
}

/** As the kernel's record_func_map: a helper that changes a map's entries cannot take a BPF_F_RDONLY_PROG map. */
export function checkMapHelper(maps: readonly MapDescriptor[], mapIndex: number | undefined, helperId: number, label: string): void {
  const m = mapIndex === undefined ? undefined : maps[mapIndex];
  if (!m || !WRITING_HELPERS.has(helperId) || ((m.flags ?? 0) & BPF_F.RDONLY_PROG) === 0) return;
  refuse('E_VERIFY_HELPER_ARG', `${label} changes ${mapText(mapIndex!, m)}, which is read-only to programs (BPF_F_RDONLY_PROG)`, [1]);
}

/**
 * What a load of `size` bytes at `insnOff` from `p` reads, when that is known now: from a frozen
 * BPF_F_RDONLY_PROG map (its descriptor then carries the bytes), at an offset without a variable
 * part. The bounds were checked before. Undefined otherwise: the load is any value of its size.
 */
export function constantLoad(maps: readonly MapDescriptor[] | undefined, p: Ptr, insnOff: number, size: AccessSize, signed: boolean): Scalar | undefined {
  const bytes = mapOfValue(maps, p)?.constantValue;
  if (!bytes || !hasConstOffset(p)) return undefined;
  const at = constOffset(p) + insnOff;
  if (at < 0 || at + size > bytes.length) return undefined;
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]!);
  return scalarConst(signed ? BigInt.asIntN(size * 8, value) : value);
}

/**
 * The host side of the packet contexts: lays out a context struct with the packet right behind it in
 * the engine heap, as `run` and `runBatch` take it (the context region covers both, so checked-mode
 * programs reach the packet too). Layouts: 'packet' (this runtime's `{ u64 data; u64 data_end }`),
 * 'xdp' (struct xdp_md) and 'socket' / 'tc' (struct __sk_buff, src/runtime/kernel-layout.ts).
 *
 * data_meta equals data (no metadata); an __sk_buff's `len` and `wire_len` default to the packet's
 * length and `protocol` to the Ethernet type of the packet's bytes 12-13 in network order, as the
 * kernel fills skb->protocol; every other field is 0 unless given.
 */
import { InputError } from '../errors.js';
import type { ContextLayout } from '../verifier/context.js';
import { SK_BUFF, XDP_MD, type LayoutField } from './kernel-layout.js';
import type { EngineMemory } from './memory.js';

/** Field values by the kernel's names (`ifindex`, `mark`, `rx_queue_index`, ...); `cb` takes up to five u32s. */
export type ContextFieldValues = Readonly<Record<string, number | bigint | readonly number[]>>;

const PACKET_HEADER = 16;
const POINTER_FIELDS = new Set(['data', 'data_end', 'data_meta']);

function structOf(layout: ContextLayout): { size: number; fields: Readonly<Record<string, LayoutField>> } | undefined {
  switch (layout) {
    case 'packet': return undefined;
    case 'xdp': return XDP_MD;
    case 'socket': case 'tc': return SK_BUFF;
  }
}

/** Bytes `writeContext` writes for a packet of `packetLength` bytes: the struct, then the packet. */
export function contextBytes(layout: ContextLayout, packetLength: number): number {
  return (structOf(layout)?.size ?? PACKET_HEADER) + packetLength;
}

/**
 * Writes the `layout` struct describing `packet` at `addr`, the packet right after it; returns the
 * context's length (what `run` takes with `addr`). [addr, addr + contextBytes) must be the caller's.
 */
export function writeContext(mem: EngineMemory, addr: number, layout: ContextLayout, packet: Uint8Array, fields: ContextFieldValues = {}): number {
  const struct = structOf(layout);
  const header = struct?.size ?? PACKET_HEADER;
  const data = addr + header;
  const end = data + packet.length;
  mem.write(addr, new Uint8Array(header));
  mem.write(data, packet);
  const view = mem.view;
  if (!struct) {
    if (Object.keys(fields).length > 0) throw new InputError(`the packet context has no fields to set (${Object.keys(fields).join(', ')})`);
    view.setBigUint64(addr, BigInt(data), true);
    view.setBigUint64(addr + 8, BigInt(end), true);
    return header + packet.length;
  }
  const values: Record<string, number | bigint | readonly number[]> = { data, data_end: end, data_meta: data };
  if (struct === SK_BUFF) Object.assign(values, { len: packet.length, wire_len: packet.length, protocol: etherType(packet) });
  for (const [name, value] of Object.entries(fields)) {
    if (!(name in struct.fields) || POINTER_FIELDS.has(name)) {
      const settable = Object.keys(struct.fields).filter((f) => !POINTER_FIELDS.has(f));
      throw new InputError(`the ${layout} context has no settable field '${name}' (fields: ${settable.join(', ')})`);
    }
    values[name] = value;
  }
  for (const [name, value] of Object.entries(values)) setField(view, addr, name, struct.fields[name]!, value);
  return header + packet.length;
}

/** Allocates room in the engine heap and writes the context there (allocations are never freed: reuse with writeContext). */
export function buildContext(mem: EngineMemory, layout: ContextLayout, packet: Uint8Array, fields: ContextFieldValues = {}): { addr: number; len: number } {
  const addr = mem.alloc(contextBytes(layout, packet.length), 8);
  return { addr, len: writeContext(mem, addr, layout, packet, fields) };
}

/** skb->protocol: the Ethernet type as it is on the wire, read as the u32 a little-endian host sees. */
const etherType = (packet: Uint8Array): number => (packet.length >= 14 ? packet[12]! | (packet[13]! << 8) : 0);

function setField(view: DataView, addr: number, name: string, at: LayoutField, value: number | bigint | readonly number[]): void {
  const size = at.size ?? 4;
  const bad = (): never => {
    throw new InputError(`context field ${name}: ${String(value)} does not fit in ${size === 8 ? 'a u64' : size === 20 ? 'five u32s' : 'a u32'}`);
  };
  if (Array.isArray(value) || size === 20) {
    const words = Array.isArray(value) ? value as readonly number[] : bad();
    if (words.length > 5) bad();
    words.forEach((w, k) => view.setUint32(addr + at.offset + 4 * k, isU32(w) ? w : bad(), true));
    return;
  }
  if (size === 8) {
    const big = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value as number) : bad();
    view.setBigUint64(addr + at.offset, big >= 0n && big < 2n ** 64n ? big : bad(), true);
    return;
  }
  const n = typeof value === 'bigint' ? Number(value) : value as number;
  view.setUint32(addr + at.offset, isU32(n) ? n : bad(), true);
}

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/**
 * Random programs for the kernel contexts (src/verifier/kernel-contexts.ts: xdp(), socketFilter(),
 * tc()), run on random packets by packet-run.ts. A program keeps the context in r6 and folds what it
 * reads into r7, which it returns. Its operations:
 * - 'field': a context load, mostly at a field the context lets it read, sometimes at any offset
 *   of the struct and size (the verifier refuses those; checked runs read the bytes or fault);
 * - 'store': a store to a writable field (cb[], mark, ...), sometimes to a read-only one;
 * - 'packet' (xdp, tc): data and data_end loaded, a read (and perhaps a write back) behind a bounds
 *   check against data_end, sometimes one byte short or missing (the verifier refuses those);
 * - 'ldabs' / 'ldind' (socket, tc; rarely xdp, which the verifier refuses): LD_ABS and LD_IND of
 *   every size at offsets in and out of the packet, LD_IND's register sometimes negative; an
 *   out-of-range load ends the program with r0 = 0;
 * - 'alu': an ALU operation on r7.
 */
import fc from 'fast-check';
import { weighted } from './map-common.js';
import { SK_BUFF, XDP_MD, type LayoutField } from '../src/runtime/kernel-layout.js';

export type PacketCtx = 'xdp' | 'socket' | 'tc';
export const PACKET_CTXS: readonly PacketCtx[] = ['xdp', 'socket', 'tc'];

export type Size = 'b' | 'h' | 'w' | 'dw';
const BYTES: Readonly<Record<Size, number>> = { b: 1, h: 2, w: 4, dw: 8 };

export type PacketOp =
  | { readonly op: 'field'; readonly off: number; readonly size: Size; readonly alu: string }
  | { readonly op: 'store'; readonly off: number; readonly size: Size; readonly imm?: number }
  | {
    readonly op: 'packet'; readonly off: number; readonly size: Size; readonly check: 'good' | 'short' | 'none'; readonly write: boolean;
    /**
     * Moves data by a packet byte (read behind its own check) and'ed with `mask` first, as an IPv4
     * header's IHL is; mask 0: none (a byte stays below 256).
     */
    readonly index?: { readonly at: number; readonly mask: number };
  }
  | { readonly op: 'ldabs'; readonly size: Size; readonly imm: number }
  | { readonly op: 'ldind'; readonly size: Size; readonly reg: number; readonly imm: number }
  | { readonly op: 'alu'; readonly alu: string; readonly imm: number };

export interface PacketSpec {
  readonly ctx: PacketCtx;
  readonly ops: readonly PacketOp[];
  /** Each run of the program gets one of these (0..~100 bytes). */
  readonly packets: readonly Uint8Array[];
  readonly cpu: 0 | 1;
  /** Seeds the context's other fields (fieldValues). */
  readonly fieldSeed: number;
}

/** Values for the fields the host sets (ifindex, mark, hash, cb[], ...), all from one seed. */
export function fieldValues(ctx: PacketCtx, seed: number): Record<string, number | number[]> {
  const mix = (k: number): number => Math.imul(seed ^ k, 0x9e3779b1) >>> 0;
  if (ctx === 'xdp') return { ingress_ifindex: mix(1) & 0xff, rx_queue_index: mix(2) & 7 };
  return {
    mark: mix(3), priority: mix(4) & 0xffff, ifindex: mix(5) & 0xff, hash: mix(6), pkt_type: mix(7) & 7,
    cb: [mix(8), mix(9), 0, mix(10) & 0xff, mix(11)], tstamp: mix(12), gso_segs: mix(13) & 3,
  };
}

const structOf = (ctx: PacketCtx): { size: number; fields: Readonly<Record<string, LayoutField>> } => (ctx === 'xdp' ? XDP_MD : SK_BUFF);
const POINTERS = new Set(['data', 'data_end', 'data_meta']);
/** Fields the verifier hides from a socket filter (kernel-contexts.ts). */
const SOCKET_HIDDEN = new Set(['tc_classid', 'data', 'data_end', 'data_meta', 'tstamp', 'wire_len']);
const WRITABLE: Readonly<Record<PacketCtx, readonly string[]>> = {
  xdp: [],
  socket: ['cb'],
  tc: ['mark', 'tc_index', 'priority', 'tc_classid', 'cb', 'tstamp', 'queue_mapping'],
};

/** (offset, size) pairs the context lets a program read as a scalar: whole fields, and narrow reads of u32 ones. */
function readable(ctx: PacketCtx): Array<[number, Size]> {
  const out: Array<[number, Size]> = [];
  for (const [name, at] of Object.entries(structOf(ctx).fields)) {
    if (POINTERS.has(name) || (ctx === 'socket' && SOCKET_HIDDEN.has(name))) continue;
    const size = at.size ?? 4;
    if (size === 8) out.push([at.offset, 'dw']);
    else if (size === 20) for (let k = 0; k < 5; k++) out.push([at.offset + 4 * k, 'w'], [at.offset + 4 * k, 'b']);
    else out.push([at.offset, 'w'], ...(ctx === 'xdp' ? [] : [[at.offset, 'h'], [at.offset + 2, 'b']] as Array<[number, Size]>));
  }
  return out;
}

/** (offset, size) pairs the context lets a program store to. */
function writable(ctx: PacketCtx): Array<[number, Size]> {
  const fields = structOf(ctx).fields;
  return WRITABLE[ctx].flatMap((name): Array<[number, Size]> => {
    const at = fields[name]!;
    if (at.size === 20) return [0, 4, 8, 12, 16].flatMap((k): Array<[number, Size]> => [[at.offset + k, 'w'], [at.offset + k, 'b']]);
    return [[at.offset, at.size === 8 ? 'dw' : 'w']];
  });
}

const size = (...sizes: Size[]): fc.Arbitrary<Size> => fc.constantFrom(...sizes);
const ALU = ['add', 'sub', 'xor', 'or', 'and', 'mul', 'lsh', 'rsh', 'arsh', 'add32', 'xor32', 'mul32'];
const alu = fc.constantFrom(...ALU);

/** Any offset in (or just past) the struct, with any size: mostly refused by the verifier. */
const anyAccess = (ctx: PacketCtx): fc.Arbitrary<[number, Size]> =>
  fc.tuple(fc.integer({ min: -4, max: structOf(ctx).size + 8 }), size('b', 'h', 'w', 'dw'));

function fieldOp(ctx: PacketCtx): fc.Arbitrary<PacketOp> {
  const at = weighted([7, fc.constantFrom(...readable(ctx))], [1, anyAccess(ctx)]);
  return fc.tuple(at, alu).map(([[off, sz], a]): PacketOp => ({ op: 'field', off, size: sz, alu: a }));
}

function storeOp(ctx: PacketCtx): fc.Arbitrary<PacketOp> {
  const ok = writable(ctx);
  const at = ok.length > 0 ? weighted([4, fc.constantFrom(...ok)], [1, anyAccess(ctx)]) : anyAccess(ctx);
  const imm = weighted<number | undefined>([4, fc.constant(undefined)], [1, fc.integer({ min: -1000, max: 1000 })]);
  return fc.tuple(at, imm).map(([[off, sz], i]): PacketOp => ({ op: 'store', off, size: sz, ...(i === undefined ? {} : { imm: i }) }));
}

const packetOp: fc.Arbitrary<PacketOp> = fc.record({
  op: fc.constant('packet' as const),
  off: fc.integer({ min: 0, max: 64 }),
  size: size('b', 'h', 'w', 'dw'),
  check: weighted([6, fc.constant('good' as const)], [1, fc.constant('short' as const)], [1, fc.constant('none' as const)]),
  write: fc.boolean(),
}).chain((op) => weighted(
  [2, fc.constant(op)],
  [1, fc.record({ at: fc.integer({ min: 0, max: 20 }), mask: fc.constantFrom(0, 3, 15, 0x3c, 0xff) }).map((index) => ({ ...op, index }))],
));

/** LD_ABS offsets: mostly in a packet's range, some past its end, a few extreme. */
const absOffset = weighted([12, fc.integer({ min: 0, max: 40 })], [2, fc.integer({ min: 40, max: 110 })], [1, fc.constantFrom(-1, -4, 0x7fffffff, -0x80000000, 0x10000)]);
const ldSize = size('b', 'h', 'w');
const ldabsOp: fc.Arbitrary<PacketOp> = fc.record({ op: fc.constant('ldabs' as const), size: ldSize, imm: absOffset });
const ldindOp: fc.Arbitrary<PacketOp> = fc.record({
  op: fc.constant('ldind' as const),
  size: ldSize,
  reg: weighted([8, fc.integer({ min: -4, max: 30 })], [1, fc.integer({ min: -20, max: 100 })], [1, fc.constantFrom(-0x80000000, 0x7fffffff, -1)]),
  imm: weighted([6, fc.integer({ min: -4, max: 16 })], [1, absOffset]),
});
const aluOp: fc.Arbitrary<PacketOp> = fc.record({ op: fc.constant('alu' as const), alu, imm: fc.integer({ min: -100, max: 100 }) });

function packetOpFor(ctx: PacketCtx): fc.Arbitrary<PacketOp> {
  // xdp_md has no writable field: a store there is always refused.
  const arbs: Array<[number, fc.Arbitrary<PacketOp>]> = [[9, fieldOp(ctx)], [ctx === 'xdp' ? 1 : 6, storeOp(ctx)], [3, aluOp]];
  if (ctx !== 'socket') arbs.push([12, packetOp]);
  // The verifier refuses LD_ABS in XDP: rarely there, for that refusal and the checked runs.
  const legacy = ctx === 'xdp' ? 1 : 12;
  arbs.push([legacy, ldabsOp], [legacy, ldindOp]);
  return weighted(...arbs);
}

/** Bytes of a length uniform in [min, max] (fast-check's own lengths favour short arrays). */
const bytesOf = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min, max }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

/** A packet: random bytes, or an Ethernet frame carrying an IPv4 header (EtherType 0x0800, version 4, IHL 5). */
export const packetBytes: fc.Arbitrary<Uint8Array> = weighted(
  [1, bytesOf(0, 100)],
  [1, fc.tuple(bytesOf(34, 34), bytesOf(0, 60)).map(([head, payload]) => {
    const p = Uint8Array.of(...head, ...payload);
    p[12] = 0x08;
    p[13] = 0x00;
    p[14] = 0x45;
    return p;
  })],
);

export function packetSpec(): fc.Arbitrary<PacketSpec> {
  return fc.constantFrom(...PACKET_CTXS).chain((ctx) => fc.record({
    ctx: fc.constant(ctx),
    ops: fc.array(packetOpFor(ctx), { minLength: 1, maxLength: 8 }),
    packets: fc.array(packetBytes, { minLength: 1, maxLength: 3 }),
    cpu: fc.constantFrom(0 as const, 1 as const),
    fieldSeed: fc.nat(),
  }));
}

const mem = (base: string, off: number): string => `[%${base}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;

/** Adds the (masked) byte at data + at to data in r2, behind a check of its own. */
function indexLines(index: { at: number; mask: number } | undefined, i: number): string[] {
  if (!index) return [];
  const mask = index.mask === 0 ? [] : [`and %r5, ${index.mask}`];
  return ['mov %r4, %r2', `add %r4, ${index.at + 1}`, `jgt %r4, %r3, skip${i}`, `ldxb %r5, ${mem('r2', index.at)}`, ...mask, 'add %r2, %r5'];
}

function opLines(ctx: PacketCtx, op: PacketOp, i: number): string[] {
  switch (op.op) {
    case 'field':
      return [`ldx${op.size} %r8, ${mem('r6', op.off)}`, `${op.alu} %r7, %r8`];
    case 'store':
      return [op.imm === undefined ? `stx${op.size} ${mem('r6', op.off)}, %r7` : `st${op.size} ${mem('r6', op.off)}, ${op.imm}`];
    case 'packet': {
      const fields = structOf(ctx).fields;
      const end = op.off + BYTES[op.size] - (op.check === 'short' ? 1 : 0);
      const check = op.check === 'none' ? [] : ['mov %r4, %r2', `add %r4, ${end}`, `jgt %r4, %r3, skip${i}`];
      return [
        `ldxw %r2, ${mem('r6', fields.data!.offset)}`, `ldxw %r3, ${mem('r6', fields.data_end!.offset)}`, ...indexLines(op.index, i), ...check,
        `ldx${op.size} %r5, ${mem('r2', op.off)}`, 'xor %r7, %r5',
        ...(op.write ? [`stx${op.size} ${mem('r2', op.off)}, %r7`] : []), `skip${i}:`,
      ];
    }
    case 'ldabs':
      return [`ldabs${op.size} ${op.imm}`, 'add %r7, %r0'];
    case 'ldind':
      return [`mov %r2, ${op.reg}`, `ldind${op.size} %r2, ${op.imm}`, 'xor %r7, %r0'];
    case 'alu':
      return [`${op.alu} %r7, ${op.alu.includes('sh') ? op.imm & 63 : op.imm}`];
  }
}

/** The program as uBPF assembly text. */
export function lowerPacketProgram(spec: PacketSpec): string {
  const body = spec.ops.flatMap((op, i) => opLines(spec.ctx, op, i));
  // r7 starts non-zero, so that mul and and keep what was read.
  return ['mov %r6, %r1', 'mov %r7, 0x1234567', ...body, 'mov %r0, %r7', 'exit'].join('\n');
}

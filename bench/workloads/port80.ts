/**
 * port80: the packet filter workload (bench/README.md). 64-byte Ethernet frames: 75 % IPv4, 75 % of
 * those TCP, 50 % of those to port 80; the IP header length varies, so some frames are too short
 * for the TCP ports and must be refused by the length checks.
 */
import { Prng } from '../prng.js';
import { makeEvents, type EventSet, type InputSize, type Workload } from '../workload.js';

const FRAME = 64;
const OTHER_ETHERTYPES = [0x86dd, 0x0806, 0x8100, 0x88cc];
const OTHER_PROTOS = [17, 1, 47, 50];

function fillFrame(rng: Prng, view: DataView, at: number): void {
  for (let i = 0; i < FRAME; i += 4) view.setUint32(at + i, rng.u32());
  const ipv4 = rng.chance(0.75);
  view.setUint16(at + 12, ipv4 ? 0x0800 : OTHER_ETHERTYPES[rng.below(OTHER_ETHERTYPES.length)]!);
  if (!ipv4) return;
  // mostly the minimal header; IHL 13..15 puts the ports past the 64 bytes
  const ihl = rng.chance(0.7) ? 5 : rng.between(6, 15);
  view.setUint8(at + 14, 0x40 | ihl);
  view.setUint8(at + 23, rng.chance(0.75) ? 6 : OTHER_PROTOS[rng.below(OTHER_PROTOS.length)]!);
  const ports = at + 14 + ihl * 4;
  if (ports + 4 > at + FRAME) return;
  // 0x5000 is port 80 with its bytes swapped: catches a filter that forgets network order
  const other = rng.chance(0.1) ? 0x5000 : rng.between(1, 65535);
  view.setUint16(ports + 2, rng.chance(0.5) ? 80 : other);
}

function frames(size: InputSize): EventSet {
  const rng = new Prng(0x80);
  return makeEvents(size === 'full' ? 4096 : 64, FRAME, FRAME, (view, at) => fillFrame(rng, view, at));
}

/** The same checks as port80.c, in the same order. */
function port80(bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < 34) return 0;
  if (view.getUint16(at + 12) !== 0x0800) return 0;
  if (bytes[at + 23] !== 6) return 0;
  const l4 = 14 + (bytes[at + 14]! & 0x0f) * 4;
  if (len < l4 + 4) return 0;
  return view.getUint16(at + l4 + 2) === 80 ? 1 : 0;
}

export const PORT80: Workload = {
  name: 'port80',
  program: 'port80',
  summary: 'IPv4 + TCP + dst port 80 on 4096 Ethernet frames',
  singleRun: false,
  input: frames,
  js: port80,
  compare: ['checked'],
};

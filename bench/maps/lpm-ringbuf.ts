/**
 * lpm-lookup and ringbuf-output (bench/README.md, "Map workloads"): an LPM trie of a few thousand
 * overlapping IPv4 prefixes looked up by addresses that match at many depths, and 16-byte ring
 * buffer records produced by bpf_ringbuf_reserve + submit or by bpf_ringbuf_output, drained by the
 * host between runs so that every timed run starts with an empty buffer.
 */
import { InternalError } from '../../src/errors.js';
import { lpmKey } from '../../src/maps/lpm-key.js';
import type { BpfMap, RingBuf } from '../../src/maps/map.js';
import type { MapSpec } from '../../src/maps/spec.js';
import { BPF_F } from '../../src/maps/types.js';
import { memory } from '../../src/verifier/index.js';
import type { Vm } from '../../src/vm.js';
import { Prng } from '../prng.js';
import { LOOP, LPM_ADDRESSES, LPM_LOOKUP, RECORD_BYTES, RINGBUF_OUTPUT, RINGBUF_RESERVE_SUBMIT } from './programs.js';
import type { MapOpWorkload } from './workloads.js';

/** Prefixes in lpm-lookup's trie. */
export const LPM_PREFIXES = 3000;
const LPM_ROOTS = 24;

export interface Prefix {
  readonly len: number;
  /** The address, host order, bits past `len` zero. */
  readonly addr: number;
}

const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
/** `addr` with the bits past `len` random: an address inside the prefix. */
const inside = (rng: Prng, p: Prefix): number => (p.addr | (rng.u32() & ~maskOf(p.len))) >>> 0;
const bigEndian = (addr: number): number[] => [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];

/**
 * The trie's prefixes and the looked-up addresses. A few /8 roots, then each prefix nests 1 to 8 bits
 * deeper inside a random earlier one (at most /32), so prefixes overlap as in a routing table; each
 * address lies inside a random prefix, so every lookup hits, its longest match anywhere from /8 to /32.
 */
export function lpmTable(): { prefixes: Prefix[]; addresses: number[] } {
  const rng = new Prng(0x19a4);
  const prefixes: Prefix[] = [];
  const seen = new Set<string>();
  const add = (len: number, addr: number): void => {
    const p = { len, addr: (addr & maskOf(len)) >>> 0 };
    if (seen.has(`${p.addr}/${len}`)) return;
    seen.add(`${p.addr}/${len}`);
    prefixes.push(p);
  };
  while (prefixes.length < LPM_ROOTS) add(8, rng.u32());
  while (prefixes.length < LPM_PREFIXES) {
    const parent = prefixes[rng.below(prefixes.length)]!;
    add(Math.min(32, parent.len + rng.between(1, 8)), inside(rng, parent));
  }
  const addresses = Array.from({ length: LPM_ADDRESSES }, () => inside(rng, prefixes[rng.below(prefixes.length)]!));
  return { prefixes, addresses };
}

const addressKey = (addr: number): Uint8Array => lpmKey(32, bigEndian(addr));

const LPM_SPEC: MapSpec = { type: 'lpm_trie', keySize: 8, valueSize: 8, maxEntries: 4096, flags: BPF_F.NO_PREALLOC, name: 'routes' };

/** 32 KiB: one run's 1,000 records of 24 bytes (8 of header) fit. */
const RING_SPEC: MapSpec = { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 32768, name: 'events' };

/** Consumes every record in the buffer; throws unless there were `want` (when given). */
function drain(map: BpfMap, want?: number): number {
  const n = (map as RingBuf).consume(() => undefined);
  if (want !== undefined && n !== want) throw new InternalError(`ringbuf-output: the host consumed ${n} records, not ${want}`);
  return n;
}

/**
 * The host API's side of a ring buffer, the consumer: before each sample, one JIT run of the program
 * fills the buffer (untimed); the sample is one host call consuming its LOOP records.
 */
function fillBefore(map: BpfMap, vm: Vm): () => void {
  const producer = vm.load(RINGBUF_RESERVE_SUBMIT, { engine: 'jit', tier: 'baseline', context: memory(0), maps: [map] });
  return () => {
    drain(map);
    producer.runU32(new Uint8Array(0));
  };
}

export const LPM_OP: MapOpWorkload = (() => {
  const { prefixes, addresses } = lpmTable();
  return {
    name: 'lpm-lookup',
    summary: `LPM trie lookup of an IPv4 /32 (${LPM_PREFIXES} overlapping prefixes of /8 to /32)`,
    spec: LPM_SPEC,
    source: LPM_LOOKUP,
    context: Uint8Array.from(addresses.flatMap(bigEndian)),
    setup: (map) => prefixes.forEach((p, i) => map.update(lpmKey(p.len, bigEndian(p.addr)), BigInt(i))),
    host: (map, keys, i) => map.lookup(keys[i & (LPM_ADDRESSES - 1)]!),
    keys: () => addresses.map(addressKey),
  };
})();

/**
 * Before each program run: consumes what the last run produced, all of its LOOP records (none before
 * the first run), so each run starts with an empty buffer and fails no reserve. Not timed.
 */
function drainRun(map: BpfMap): void {
  const n = drain(map);
  if (n !== 0 && n !== LOOP) throw new InternalError(`ringbuf-output: a run produced ${n} records, not ${LOOP}: the buffer filled`);
}

const ringbufOp = (variant: 'reserve-submit' | 'output', summary: string, source: string): MapOpWorkload => ({
  name: 'ringbuf-output', variant, summary, spec: RING_SPEC, source, setup: () => undefined, beforeRun: drainRun,
});

export const RINGBUF_OPS: readonly MapOpWorkload[] = [
  {
    ...ringbufOp('reserve-submit', `bpf_ringbuf_reserve of ${RECORD_BYTES} bytes, two 8-byte stores, bpf_ringbuf_submit`, RINGBUF_RESERVE_SUBMIT),
    // The host API's side is the consumer: one call takes the LOOP records of a run.
    host: (map) => drain(map, LOOP), hostCalls: 1, hostBefore: fillBefore,
  },
  ringbufOp('output', `bpf_ringbuf_output of ${RECORD_BYTES} bytes from the stack`, RINGBUF_OUTPUT),
];

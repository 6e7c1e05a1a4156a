/**
 * The kernel's ring buffer helpers with Linux's numbers and prototypes (include/uapi/linux/bpf.h):
 * bpf_ringbuf_output (130), bpf_ringbuf_reserve (131), bpf_ringbuf_submit (132),
 * bpf_ringbuf_discard (133) and bpf_ringbuf_query (134). The work is the map operations'
 * (ops-ringbuf.ts), called here for the interpreter, checked code and calls the JIT does not make
 * directly (src/jit/map-calls.ts). The verifier's rules for them (a ring buffer map argument, the
 * record as an acquired reference that submit or discard must release) are in src/verifier.
 */
import { HelperFault, checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import type { BpfMap } from './map.js';
import { mapOperations } from './ops.js';
import { H, RB_BUSY, RB_HDR_SIZE } from './layout.js';
import { BPF_MAP_TYPE } from './types.js';
import { EAGAIN } from './errno.js';

export const RINGBUF_OUTPUT = 130;
export const RINGBUF_RESERVE = 131;
export const RINGBUF_SUBMIT = 132;
export const RINGBUF_DISCARD = 133;
export const RINGBUF_QUERY = 134;

/** The ring buffer r1 names: one of the program's, or a fault (only unverified code can get here with another). */
function ringOf(env: HelperEnv, r1: bigint, name: string): BpfMap {
  const map = r1 >= 0n && r1 <= 0xffffffffn ? env.maps.get(Number(r1)) : undefined;
  if (!map || map.typeId !== BPF_MAP_TYPE.RINGBUF) throw new HelperFault(`${name}: r1 (0x${r1.toString(16)}) is not one of the program's ring buffers`);
  return map;
}

/**
 * A record `reserve` returned and nobody submitted or discarded yet: its header lies in one of the
 * program's ring buffers, names that buffer and is BUSY. The verifier proves this for verified
 * programs; unverified ones get a fault instead of a corrupted buffer.
 */
function recordOf(env: HelperEnv, r1: bigint, name: string): bigint {
  const view = env.mem.view;
  const hdr = Number(r1) - RB_HDR_SIZE;
  for (const map of env.maps.values()) {
    if (map.typeId !== BPF_MAP_TYPE.RINGBUF) continue;
    const data = view.getUint32(map.address + H.DATA, true);
    const inside = r1 >= BigInt(data + RB_HDR_SIZE) && r1 < BigInt(data + map.maxEntries + RB_HDR_SIZE) && (hdr - data) % 8 === 0;
    if (inside && view.getUint32(hdr + 4, true) === map.address && (view.getUint32(hdr, true) & RB_BUSY) !== 0) return r1;
  }
  throw new HelperFault(`${name}: r1 (0x${r1.toString(16)}) is not a ring buffer record reserved and not yet submitted or discarded`);
}

export function ringBufHelpers(): HelperSpec[] {
  const ops = (env: HelperEnv) => mapOperations(env.mem);
  return [
    {
      id: RINGBUF_OUTPUT, name: 'ringbuf_output', wasmOp: { name: 'ringbuf_output', pinned: BPF_MAP_TYPE.RINGBUF, regs: [2, 3, 4] },
      proto: { args: ['ringbuf_map', 'mem_read', 'size_or_zero', 'scalar'], ret: 'scalar' },
      impl: (r1, r2, r3, r4, _r5, env) => {
        const map = ringOf(env, r1, 'ringbuf_output');
        if (r3 > 0xffffffffn) return BigInt.asUintN(64, BigInt(-EAGAIN)); // no record that large fits
        // Nothing to copy: any pointer will do, and 0 keeps WebAssembly's bounds check of the copy quiet.
        const data = r3 === 0n ? 0n : BigInt(checkedAddress(env, r2, Number(r3)));
        return BigInt.asUintN(64, ops(env).ringbuf_output(BigInt(map.address), data, r3, r4));
      },
    },
    {
      id: RINGBUF_RESERVE, name: 'ringbuf_reserve', wasmOp: { name: 'ringbuf_reserve', pinned: BPF_MAP_TYPE.RINGBUF, regs: [2, 3] },
      proto: { args: ['ringbuf_map', 'alloc_size_or_zero', 'scalar'], ret: 'ringbuf_mem_or_null' },
      impl: (r1, r2, r3, _r4, _r5, env) => ops(env).ringbuf_reserve(BigInt(ringOf(env, r1, 'ringbuf_reserve').address), r2, r3),
    },
    {
      id: RINGBUF_SUBMIT, name: 'ringbuf_submit', wasmOp: { name: 'ringbuf_submit', regs: [1, 2] },
      proto: { args: ['ringbuf_record', 'scalar'], ret: 'void' },
      impl: (r1, r2, _r3, _r4, _r5, env) => ops(env).ringbuf_submit(recordOf(env, r1, 'ringbuf_submit'), r2),
    },
    {
      id: RINGBUF_DISCARD, name: 'ringbuf_discard', wasmOp: { name: 'ringbuf_discard', regs: [1, 2] },
      proto: { args: ['ringbuf_record', 'scalar'], ret: 'void' },
      impl: (r1, r2, _r3, _r4, _r5, env) => ops(env).ringbuf_discard(recordOf(env, r1, 'ringbuf_discard'), r2),
    },
    {
      id: RINGBUF_QUERY, name: 'ringbuf_query', wasmOp: { name: 'ringbuf_query', pinned: BPF_MAP_TYPE.RINGBUF, regs: [2] },
      proto: { args: ['ringbuf_map', 'scalar'], ret: 'scalar' },
      impl: (r1, r2, _r3, _r4, _r5, env) => ops(env).ringbuf_query(BigInt(ringOf(env, r1, 'ringbuf_query').address), r2),
    },
  ];
}

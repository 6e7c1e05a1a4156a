/**
 * The kernel's program contexts as descriptors, so programs compiled against <linux/bpf.h> verify
 * and run unchanged: `xdp()` (struct xdp_md), `socketFilter()` and `tc()` (struct __sk_buff). Which
 * fields each may read and write follows the kernel's xdp_is_valid_access, sk_filter_is_valid_access
 * and tc_cls_act_is_valid_access for the fields a userspace host can supply; every other byte of the
 * struct is refused. The packet pointers are u32 fields (engine addresses lie below 2^32).
 */
import { SK_BUFF, XDP_MD, type LayoutField, type SkBuffField } from '../runtime/kernel-layout.js';
import type { PacketFields } from '../runtime/entry.js';
import { structContext, type ContextDescriptor, type ContextLayout, type ContextOptions, type CtxField, type CtxLoad } from './context.js';

const POINTERS: Readonly<Record<string, CtxLoad>> = { data: 'packet', data_end: 'packet_end', data_meta: 'packet_meta' };

function field(name: string, at: LayoutField, writable: boolean, narrow: CtxField['narrow']): CtxField {
  const load = POINTERS[name];
  return { name, offset: at.offset, size: at.size ?? 4, readOnly: !writable, ...(load ? { load } : { narrow }) };
}

function kernelContext(
  layout: ContextLayout, size: number, fields: readonly CtxField[], options: ContextOptions,
  extra: { packetWritable: boolean; ldAbs: boolean; packet: PacketFields },
): ContextDescriptor {
  return { ...structContext(layout, size, fields, options), layout, ...extra };
}

/** struct xdp_md: everything read-only, whole u32 loads only (the kernel's __is_valid_xdp_access). */
export function xdp(options: ContextOptions = {}): ContextDescriptor {
  const fields = Object.entries(XDP_MD.fields).map(([name, at]) => field(name, at, false, 'none'));
  const f = XDP_MD.fields;
  const packet: PacketFields = { data: f.data.offset, end: f.data_end.offset, meta: f.data_meta.offset, width: 4 };
  return kernelContext('xdp', XDP_MD.size, fields, options, { packetWritable: true, ldAbs: false, packet });
}

const SKB = SK_BUFF.fields;
const SKB_PACKET: PacketFields = { data: SKB.data.offset, end: SKB.data_end.offset, meta: SKB.data_meta.offset, width: 4 };

/** __sk_buff fields a program type may touch: `hidden` are refused, `writable` may be stored to. */
function skbFields(hidden: readonly SkBuffField[], writable: readonly SkBuffField[]): CtxField[] {
  return (Object.entries(SKB) as Array<[SkBuffField, LayoutField]>)
    .filter(([name]) => !hidden.includes(name))
    // cb[] takes any aligned access; tstamp only whole u64 accesses; the rest aligned narrow reads.
    .map(([name, at]) => field(name, at, writable.includes(name), name === 'cb' ? 'aligned' : name === 'tstamp' ? 'none' : 'read'));
}

/**
 * A socket filter (BPF_PROG_TYPE_SOCKET_FILTER): no direct packet access (data, data_end and
 * data_meta are refused, as are tc_classid, tstamp and wire_len); only cb[] is writable. The packet
 * is read with LD_ABS/LD_IND or helpers.
 */
export function socketFilter(options: ContextOptions = {}): ContextDescriptor {
  const fields = skbFields(['tc_classid', 'data', 'data_end', 'data_meta', 'tstamp', 'wire_len'], ['cb']);
  return kernelContext('socket', SK_BUFF.size, fields, options, { packetWritable: false, ldAbs: true, packet: SKB_PACKET });
}

/**
 * A tc classifier or action (BPF_PROG_TYPE_SCHED_CLS / SCHED_ACT): direct packet access through data,
 * data_end and data_meta; mark, priority, tc_index, tc_classid, queue_mapping, tstamp and cb[] are
 * writable.
 */
export function tc(options: ContextOptions = {}): ContextDescriptor {
  const fields = skbFields([], ['mark', 'tc_index', 'priority', 'tc_classid', 'cb', 'tstamp', 'queue_mapping']);
  return kernelContext('tc', SK_BUFF.size, fields, options, { packetWritable: true, ldAbs: true, packet: SKB_PACKET });
}

/** The descriptor a CLI or loader name stands for: 'xdp', 'socket' or 'tc'. */
export function kernelContextByName(name: string, options: ContextOptions = {}): ContextDescriptor | undefined {
  switch (name) {
    case 'xdp': return xdp(options);
    case 'socket': return socketFilter(options);
    case 'tc': return tc(options);
    default: return undefined;
  }
}

/**
 * The kernel's context structs as programs compiled against <linux/bpf.h> see them: `struct xdp_md`
 * and `struct __sk_buff` (offsets and sizes from the UAPI header). The verifier's descriptors
 * (src/verifier/kernel-contexts.ts), the host's context builder (build-context.ts) and both engines'
 * legacy packet loads read these offsets; nothing else spells them.
 */

/** One u32 field unless `size` says otherwise. */
export interface LayoutField {
  readonly offset: number;
  readonly size?: number;
}

export const XDP_MD = {
  size: 24,
  fields: {
    data: { offset: 0 }, data_end: { offset: 4 }, data_meta: { offset: 8 },
    ingress_ifindex: { offset: 12 }, rx_queue_index: { offset: 16 }, egress_ifindex: { offset: 20 },
  },
} as const satisfies { size: number; fields: Record<string, LayoutField> };

export const SK_BUFF = {
  size: 192,
  fields: {
    len: { offset: 0 }, pkt_type: { offset: 4 }, mark: { offset: 8 }, queue_mapping: { offset: 12 },
    protocol: { offset: 16 }, vlan_present: { offset: 20 }, vlan_tci: { offset: 24 }, vlan_proto: { offset: 28 },
    priority: { offset: 32 }, ingress_ifindex: { offset: 36 }, ifindex: { offset: 40 }, tc_index: { offset: 44 },
    cb: { offset: 48, size: 20 }, hash: { offset: 68 }, tc_classid: { offset: 72 },
    data: { offset: 76 }, data_end: { offset: 80 }, napi_id: { offset: 84 },
    data_meta: { offset: 140 }, tstamp: { offset: 152, size: 8 }, wire_len: { offset: 160 },
    gso_segs: { offset: 164 }, gso_size: { offset: 176 },
  },
} as const satisfies { size: number; fields: Record<string, LayoutField> };

export type XdpField = keyof typeof XDP_MD.fields;
export type SkBuffField = keyof typeof SK_BUFF.fields;

/** Where the legacy packet loads (LD_ABS/LD_IND) find the packet: the u32 data and data_end of the __sk_buff in r6. */
export const SKB_DATA = SK_BUFF.fields.data.offset;
export const SKB_DATA_END = SK_BUFF.fields.data_end.offset;

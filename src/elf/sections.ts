/**
 * libbpf's SEC() conventions: the section a program sits in says its program type and so the
 * context it runs on. `kind` is the context kind's name; the caller maps it to a descriptor.
 */

/** The kind of context a program type runs on. */
export type ContextKind =
  | 'xdp' | 'socket' | 'tc' | 'tracing' | 'kprobe' | 'tracepoint' | 'raw_tracepoint' | 'perf_event'
  | 'cgroup_skb' | 'cgroup_sock' | 'cgroup_sock_addr' | 'cgroup_sysctl' | 'cgroup_sockopt' | 'cgroup_device'
  | 'sk_skb' | 'sk_msg' | 'lwt' | 'flow_dissector' | 'sk_lookup' | 'lsm' | 'syscall' | 'netfilter';

export interface SectionType {
  /** libbpf's program type name ('xdp', 'kprobe', 'tracepoint', ...). */
  readonly type: string;
  readonly kind: ContextKind;
  /** What follows the prefix's '/' (the attach target: a function, a tracepoint), '' when none. */
  readonly target: string;
}

/**
 * Section name (exact) or prefix (ending in '/' or '.', matching `prefix` itself too where the
 * name alone is allowed) to program type and context kind, after libbpf's section_defs table.
 */
const TABLE: ReadonlyArray<readonly [string, string, ContextKind]> = [
  ['socket', 'socket_filter', 'socket'],
  ['sk_reuseport/migrate', 'sk_reuseport', 'socket'], ['sk_reuseport', 'sk_reuseport', 'socket'],
  ['kprobe/', 'kprobe', 'kprobe'], ['kretprobe/', 'kprobe', 'kprobe'],
  ['uprobe/', 'kprobe', 'kprobe'], ['uprobe', 'kprobe', 'kprobe'], ['uretprobe/', 'kprobe', 'kprobe'], ['uretprobe', 'kprobe', 'kprobe'],
  ['uprobe.s/', 'kprobe', 'kprobe'], ['uretprobe.s/', 'kprobe', 'kprobe'], ['usdt/', 'kprobe', 'kprobe'],
  ['kprobe.multi/', 'kprobe', 'kprobe'], ['kretprobe.multi/', 'kprobe', 'kprobe'], ['ksyscall/', 'kprobe', 'kprobe'], ['kretsyscall/', 'kprobe', 'kprobe'],
  ['tc/ingress', 'sched_cls', 'tc'], ['tc/egress', 'sched_cls', 'tc'], ['tcx/', 'sched_cls', 'tc'], ['tc/', 'sched_cls', 'tc'],
  ['tc', 'sched_cls', 'tc'], ['classifier/', 'sched_cls', 'tc'], ['classifier', 'sched_cls', 'tc'], ['action/', 'sched_act', 'tc'], ['action', 'sched_act', 'tc'],
  ['tracepoint/', 'tracepoint', 'tracepoint'], ['tp/', 'tracepoint', 'tracepoint'],
  ['raw_tracepoint/', 'raw_tracepoint', 'raw_tracepoint'], ['raw_tp/', 'raw_tracepoint', 'raw_tracepoint'],
  ['raw_tracepoint.w/', 'raw_tracepoint_writable', 'raw_tracepoint'], ['raw_tp.w/', 'raw_tracepoint_writable', 'raw_tracepoint'],
  ['tp_btf/', 'tracing', 'tracing'], ['fentry/', 'tracing', 'tracing'], ['fmod_ret/', 'tracing', 'tracing'], ['fexit/', 'tracing', 'tracing'],
  ['fentry.s/', 'tracing', 'tracing'], ['fmod_ret.s/', 'tracing', 'tracing'], ['fexit.s/', 'tracing', 'tracing'],
  ['freplace/', 'ext', 'tracing'], ['iter/', 'tracing', 'tracing'], ['iter.s/', 'tracing', 'tracing'],
  ['lsm/', 'lsm', 'lsm'], ['lsm.s/', 'lsm', 'lsm'], ['lsm_cgroup/', 'lsm', 'lsm'],
  ['syscall', 'syscall', 'syscall'],
  ['xdp.frags/devmap', 'xdp', 'xdp'], ['xdp/devmap', 'xdp', 'xdp'], ['xdp.frags/cpumap', 'xdp', 'xdp'], ['xdp/cpumap', 'xdp', 'xdp'],
  ['xdp.frags', 'xdp', 'xdp'], ['xdp', 'xdp', 'xdp'],
  ['perf_event', 'perf_event', 'perf_event'],
  ['lwt_in', 'lwt_in', 'lwt'], ['lwt_out', 'lwt_out', 'lwt'], ['lwt_xmit', 'lwt_xmit', 'lwt'], ['lwt_seg6local', 'lwt_seg6local', 'lwt'],
  ['sockops', 'sock_ops', 'cgroup_sock'],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb'], ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb'], ['sk_skb', 'sk_skb', 'sk_skb'],
  ['sk_msg', 'sk_msg', 'sk_msg'], ['lirc_mode2', 'lirc_mode2', 'tracing'], ['flow_dissector', 'flow_dissector', 'flow_dissector'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_skb'], ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_skb'], ['cgroup/skb', 'cgroup_skb', 'cgroup_skb'],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_sock'], ['cgroup/sock_release', 'cgroup_sock', 'cgroup_sock'], ['cgroup/sock', 'cgroup_sock', 'cgroup_sock'],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_sock'], ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_sock'],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device'], ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_sockopt'], ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_sockopt'],
  ['cgroup/', 'cgroup_sock_addr', 'cgroup_sock_addr'], // bind4, connect6, sendmsg4, getpeername6, ...
  ['sk_lookup', 'sk_lookup', 'sk_lookup'], ['netfilter', 'netfilter', 'netfilter'],
];

/** The program type of a section, or undefined for a section name libbpf would not recognise either. */
export function sectionType(section: string): SectionType | undefined {
  for (const [key, type, kind] of TABLE) {
    if (key.endsWith('/')) {
      if (section.startsWith(key)) return { type, kind, target: section.slice(key.length) };
    } else if (section === key) {
      return { type, kind, target: '' };
    } else if (section.startsWith(`${key}/`)) {
      // libbpf's SEC_SLOPPY_PFX: 'xdp/anything', 'socket/foo' name the same type.
      return { type, kind, target: section.slice(key.length + 1) };
    }
  }
  return undefined;
}

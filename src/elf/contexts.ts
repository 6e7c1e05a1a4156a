/**
 * The context a program of an object runs on when the host names none: the kernel's for xdp
 * (`struct xdp_md`), socket filters and tc (`struct __sk_buff`); for a tracing-like program
 * (tracepoint, kprobe, fentry, ...), a read-only record of the struct its function's first parameter
 * points to, sized by the object's BTF (`int handle(struct event *e)` runs on `struct event`).
 */
import type { Btf } from '../btf/btf.js';
import { event, type ContextDescriptor } from '../verifier/context.js';
import { kernelContextByName } from '../verifier/kernel-contexts.js';
import type { ProgramSpec } from './spec.js';

/** The size of the struct or union the function's first parameter points to, when BTF says. */
export function firstArgRecordSize(btf: Btf, name: string): number | undefined {
  const fn = btf.byName(name, 'func');
  if (fn?.kind !== 'func') return undefined;
  const proto = btf.type(fn.type);
  if (proto.kind !== 'func_proto' || proto.params.length === 0) return undefined;
  const ptr = btf.type(btf.skipModifiers(proto.params[0]!.type));
  if (ptr.kind !== 'ptr') return undefined;
  const record = btf.type(btf.skipModifiers(ptr.type));
  return record.kind === 'struct' || record.kind === 'union' ? record.size : undefined;
}

export function defaultContext(p: ProgramSpec, btf: Btf | undefined): ContextDescriptor | undefined {
  switch (p.kind) {
    case 'xdp': case 'socket': case 'tc':
      return kernelContextByName(p.kind);
    case 'tracepoint': case 'tracing': case 'raw_tracepoint': case 'kprobe': case 'perf_event': case 'lsm': case 'syscall': {
      const size = btf && firstArgRecordSize(btf, p.name);
      return size === undefined ? undefined : event(size);
    }
    default:
      return undefined;
  }
}

/**
 * bpf_trace_printk (6): (fmt, fmt_size, up to 3 arguments) -> bytes of output, or -errno. As in the
 * kernel, the format is checked when the helper runs (bpf_bprintf_prepare, bprintf.ts): a bad format
 * returns -EINVAL and prints nothing. The text goes to the host's sink (VmOptions.tracePrintk); without
 * one it is dropped, as a trace pipe nobody reads. Pointer arguments (%s, %pI4, ...) are read as
 * the kernel reads them, without faulting: from the run's regions only, empty or zeroed otherwise.
 */
import type { HelperEnv, HelperSpec } from '../runtime/helpers.js';
import { checkedAddress } from '../runtime/helpers.js';
import { EINVAL, negErrno } from './errno.js';
import { formatInt, formatIp, pad, parseFormat, type Spec } from './bprintf.js';
import { readString } from './memory.js';
import { inRegions } from '../runtime/memory.js';

export const TRACE_PRINTK = 6;

/** Receives each bpf_trace_printk's text (with any newline its format has) and the run's CPU. */
export type TracePrintkSink = (text: string, cpu: number) => void;

export const MAX_BPRINTF_BUF = 512; // the output (with its NUL), and the room for copied strings
const ENOSPC = 28;

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

/** The bytes at ptr if the run may read them all, else zeros (copy_from_kernel_nofault's failure). */
function readBytes(env: HelperEnv, ptr: bigint, len: number): Uint8Array {
  if (ptr >= 0n && ptr <= 0xffffffffn && inRegions(env.regions, Number(ptr), len)) return env.mem.read(Number(ptr), len);
  return new Uint8Array(len);
}

/** The formatted text (one char per byte), or -errno; the format may have as many conversions as there are args. */
export function render(env: HelperEnv, fmt: Uint8Array, args: readonly bigint[]): string | number {
  const pieces = parseFormat(fmt, args.length);
  if (!pieces) return -EINVAL;
  let room = MAX_BPRINTF_BUF; // what strings, chars and addresses copied for the format may use
  let out = '';
  let n = 0;
  for (const piece of pieces) {
    if (typeof piece === 'string') { out += piece; continue; }
    const arg = args[n++]!;
    const spec: Spec = piece;
    const conv = spec.conv;
    switch (conv.kind) {
      case 'int': out += formatInt(spec, conv, arg); break;
      case 'ptr': out += arg.toString(16).padStart(16, '0'); break; // no hashing: no kernel address to hide
      case 'sym': out += `0x${arg.toString(16)}`; break; // no symbols to name
      case 'char':
        if (room === 0) return -ENOSPC;
        room--;
        out += pad(spec, '', String.fromCharCode(Number(arg & 0xffn)), false);
        break;
      case 'str': {
        if (room === 0) return -ENOSPC;
        const s = readString(env, arg, room - 1) ?? new Uint8Array(0); // unreadable: "" as the kernel
        room -= s.length + 1;
        out += pad(spec, '', latin1(s), false);
        break;
      }
      case 'ip': out += formatIp(conv, readBytes(env, arg, conv.family === 4 ? 4 : 16)); break;
    }
  }
  return out;
}

export function printkHelpers(sink: TracePrintkSink | undefined): HelperSpec[] {
  return [{
    // r3-r5 are not in the prototype: as in the kernel, a call may leave them unset.
    id: TRACE_PRINTK, name: 'trace_printk', proto: { args: ['mem_read', 'size'], ret: 'scalar' },
    impl: (r1, r2, r3, r4, r5, env) => {
      const size = r2 > 0xffffffffn ? Number.MAX_SAFE_INTEGER : Number(r2);
      const at = checkedAddress(env, r1, size);
      const bytes = env.mem.bytes.subarray(at, at + size);
      const nul = bytes.indexOf(0);
      if (nul < 0) return negErrno(EINVAL); // the format must end inside fmt_size
      const text = render(env, bytes.subarray(0, nul), [r3, r4, r5]);
      if (typeof text === 'number') return negErrno(-text);
      const shown = text.slice(0, MAX_BPRINTF_BUF - 1);
      sink?.(Buffer.from(shown, 'latin1').toString('utf8'), env.cpu);
      return BigInt(text.length); // bstr_printf's count: what a large enough buffer would hold
    },
  }];
}

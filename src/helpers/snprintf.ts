/**
 * bpf_snprintf (165): (str, str_size, fmt, data, data_len) -> the length of the whole output with its
 * NUL, or -errno, as the kernel's: data holds data_len / 8 u64 arguments (data_len a multiple of 8,
 * at most 12 arguments, else -EINVAL), the format is checked by bpf_bprintf_prepare's rules
 * (bprintf.ts: -EINVAL for a bad one, or more conversions than arguments) and formatted as
 * trace_printk's (printk.ts); str gets at most str_size - 1 bytes of it and a NUL (bstr_printf).
 *
 * The kernel takes the format only from a frozen read-only map (ARG_PTR_TO_CONST_STR) and checks it
 * when it verifies the program. Maps here are never frozen, so the verifier proves a NUL-terminated
 * string readable (a map value, or the stack with a known NUL) and the format is checked when the
 * helper runs, as trace_printk's is; a str or data of NULL with a zero size is not accepted.
 */
import type { HelperSpec } from '../runtime/helpers.js';
import { checkedAddress } from '../runtime/helpers.js';
import { EINVAL, negErrno } from './errno.js';
import { checkedString } from './memory.js';
import { render } from './printk.js';

export const SNPRINTF = 165;

/** MAX_BPRINTF_VARARGS */
const MAX_ARGS = 12;
/** The longest format read: a map value's or the stack's string is shorter. */
const MAX_FORMAT = 1 << 16;

export function snprintfHelpers(): HelperSpec[] {
  return [{
    id: SNPRINTF, name: 'snprintf', proto: { args: ['mem_write', 'size_or_zero', 'string', 'mem_read', 'size_or_zero'], ret: 'scalar' },
    impl: (r1, r2, r3, r4, r5, env) => {
      if (r5 % 8n !== 0n || r5 > BigInt(8 * MAX_ARGS)) return negErrno(EINVAL);
      const fmt = checkedString(env, r3, MAX_FORMAT, 'snprintf');
      const data = r5 === 0n ? 0 : checkedAddress(env, r4, Number(r5));
      const args = Array.from({ length: Number(r5) / 8 }, (_, i) => env.mem.view.getBigUint64(data + 8 * i, true));
      const text = render(env, fmt, args);
      if (typeof text === 'number') return negErrno(-text);
      const size = r2 > 0xffffffffn ? Number.MAX_SAFE_INTEGER : Number(r2);
      if (size > 0) {
        const at = checkedAddress(env, r1, size, true);
        const shown = Buffer.from(text.slice(0, size - 1), 'latin1');
        env.mem.write(at, shown);
        env.mem.bytes[at + shown.length] = 0;
      }
      return BigInt(text.length + 1);
    },
  }];
}

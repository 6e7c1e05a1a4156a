/**
 * bpf_strncmp (182): (s1, s1_sz, s2) -> -1, 0 or 1 as the kernel's strncmp(s1, s2, s1_sz), comparing
 * unsigned bytes and stopping at the first NUL or after s1_sz bytes. s2 is a string the helper reads
 * only inside its region: one that runs past the end of it before the comparison ends is a fault
 * (E_RUN_MEMORY at the call), the kernel's verifier having required a terminated constant.
 */
import { checkedAddress, type HelperSpec } from '../runtime/helpers.js';
import { checkedString } from './memory.js';

export const STRNCMP = 182;

export function stringHelpers(): HelperSpec[] {
  return [{
    id: STRNCMP, name: 'strncmp', proto: { args: ['mem_read', 'size', 'string'], ret: 'scalar' },
    impl: (r1, r2, r3, _r4, _r5, env) => {
      const count = Number(BigInt.asUintN(32, r2)); // the kernel's u32 s1_sz
      const at = checkedAddress(env, r1, count);
      const s1 = env.mem.bytes.subarray(at, at + count);
      const s2 = checkedString(env, r3, count, 'strncmp');
      for (let k = 0; k < count; k++) {
        const a = s1[k]!, b = s2[k] ?? 0;
        if (a !== b) return a < b ? 2n ** 64n - 1n : 1n;
        if (a === 0) break;
      }
      return 0n;
    },
  }];
}

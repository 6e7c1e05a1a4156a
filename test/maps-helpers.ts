// Helpers shared by the map tests.
import { MapError } from '../src/index.js';

/** 'ok', or the errno name of the MapError f throws (anything else is rethrown). */
export const errnoOf = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return e.errno;
  }
};

/** bpf_spin_lock programs: a lookup of key 0 of map 0 into r6 (to `out` when absent), and a lock or unlock call. */
export const LOOKUP = `stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, out
mov %r6, %r0`;
export const LOCK = (helper = 93, reg = '%r6', off = 4): string => `mov %r1, ${reg}\nadd %r1, ${off}\ncall ${helper}`;

/** Locks element 0, increments its counter, unlocks; returns the counter. call 93 is at pc 10, call 94 at pc 16. */
export const INCREMENT = `${LOOKUP}
${LOCK()}
ldxdw %r7, [%r6+8]
add %r7, 1
stxdw [%r6+8], %r7
${LOCK(94)}
mov %r0, %r7
exit
out:
mov %r0, 0
exit`;

/** Looks up keys 0..3 of map 0, each expected to hold 1000 + key; returns how many missed or held another value. */
export const PRESENT_LOOKUPS = `mov %r6, 0
${[0, 1, 2, 3].map((k) => `stw [%r10-4], ${k}
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, miss${k}
ldxdw %r1, [%r0]
jeq %r1, ${1000 + k}, ok${k}
miss${k}:
add %r6, 1
ok${k}:`).join('\n')}
mov %r0, %r6
exit`;

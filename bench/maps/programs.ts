/**
 * The map benchmarks' programs, in uBPF assembly (no compiler needed): each names its maps by index,
 * in the order the benchmark passes them to Vm.load. OPS are micro-benchmarks that repeat one map
 * operation LOOP times inside one run (ns per operation = run time / LOOP, loop overhead included);
 * pid-filter is one of the two high-frequency filters of bench/README.md, "Map workloads"; the other,
 * latency-hist, is compiled from C (bench/programs/latency-hist.c).
 */

/** Operations per run of a micro-benchmark program. */
export const LOOP = 1000;

/** r2 = pointer to the u32 key at r10-4, which holds `reg`. */
const keyFrom = (reg: string): string => `stxw [%r10-4], ${reg}\nmov %r2, %r10\nadd %r2, -4`;

/** Runs `body` LOOP times with r6 = 0, 1, ...; r7 counts what the body adds; returns r7. */
const loop = (body: string): string => `mov %r6, 0
mov %r7, 0
loop:
${body}
add %r6, 1
jlt %r6, ${LOOP}, loop
mov %r0, %r7
exit`;

/** Looks up key (i & 255) + `offset` in map 0, counting hits. */
export const hashLookup = (offset: number): string => loop(`mov %r1, %r6
and %r1, 255
add %r1, ${offset}
${keyFrom('%r1')}
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, next
add %r7, 1
next:`);

/** Sets key (i & 255) of map 0 to i (BPF_ANY), counting successes. */
export const HASH_UPDATE = loop(`mov %r1, %r6
and %r1, 255
${keyFrom('%r1')}
stxdw [%r10-16], %r6
mov %r3, %r10
add %r3, -16
mov %r4, 0
lddw %r1, map_by_idx(0)
call 2
jne %r0, 0, next
add %r7, 1
next:`);

/** Increments slot 0 of the per-CPU array map 0 (lookup, then a plain add: the slot is this CPU's). */
export const PERCPU_INC = loop(`mov %r1, 0
${keyFrom('%r1')}
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, next
ldxdw %r1, [%r0]
add %r1, 1
stxdw [%r0], %r1
add %r7, 1
next:`);

/**
 * pid-filter: event { u32 pid; u32 syscall; u64 ts }. Passes (returns 1) the events whose pid is a
 * key of the hash map 0 and counts them there, atomically (workers share the map later).
 */
export const PID_FILTER = `ldxw %r6, [%r1]
${keyFrom('%r6')}
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, drop
mov %r1, 1
lock add [%r0], %r1
mov %r0, 1
exit
drop:
mov %r0, 0
exit`;


/**
 * Helpers that are one map operation (HelperSpec.wasmOp: the ring buffer's, perf_event_output, the
 * spin lock's) run as direct calls of the map operations module in verified JIT code: no JavaScript
 * helper import, one import of the operation from "maps". Checked code keeps the JS helper.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory } from '../src/index.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';

beforeAll(() => loadOptimizer());

const PROGRAMS: ReadonlyArray<{ op: string; source: string }> = [
  {
    op: 'ringbuf_reserve',
    source: `.map rb ringbuf key 0 value 0 entries 4096
lddw %r1, map_by_idx(rb)
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, out
stdw [%r0], 7
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit`,
  },
  {
    op: 'perf_event_output',
    source: `.map ev perf_event_array key 4 value 4 entries 1 buffer 4096
stdw [%r10-8], 7
lddw %r2, map_by_idx(ev)
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
exit`,
  },
  {
    op: 'spin_lock',
    source: `.map locked array key 4 value 16 entries 1 spin_lock 0
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(locked)
call 1
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
call 93
ldxdw %r2, [%r6+8]
add %r2, 1
stxdw [%r6+8], %r2
mov %r1, %r6
call 94
out:
mov %r0, 0
exit`,
  },
];

describe('one-operation helpers in verified JIT code', () => {
  for (const { op, source } of PROGRAMS) {
    it(`${op}: a direct call of the map operation, no JavaScript helper`, () => {
      const vm = new Vm();
      const p = vm.load(source, { context: memory(8), engine: 'jit', tier: 'baseline' });
      const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: p.maps, tier: 'baseline' });
      expect(wat).toContain(`(import "maps" "${op}"`);
      expect(wat).not.toContain('(import "env" "helper"');
      const checked = jitToWat(p.program, vm.runtime, { maps: p.maps, tier: 'baseline' });
      expect(checked).toContain('(import "env" "helper"');
      expect(p.run(new Uint8Array(8))).toBe(0n);
    });
  }
});

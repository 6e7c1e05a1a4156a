/**
 * bpf_tail_call (helper 12) with Linux's number and prototype, for the interpreter and for callx in
 * JIT code (a static call the JIT inlines: src/jit/tail-call.ts). It only decides and counts, by the
 * rules of src/runtime/tail-call.ts; the engine whose run it is ends the run and runs the chain.
 */
import { HelperFault, type HelperSpec } from '../runtime/helpers.js';
import { MAX_TAIL_CALL_CNT, TAIL_CALL_FAILED, TAIL_CALL_HELPER, type TailState } from '../runtime/tail-call.js';
import { H } from './layout.js';
import { BPF_MAP_TYPE } from './types.js';

/** Tries the tail call through slot `index` of the prog_array at `map`; 0 when the run goes on with its program. */
function tryTailCall(view: DataView, map: number, index: number, tail: TailState): bigint {
  if (index >= view.getUint32(map + H.MAX_ENTRIES, true) || tail.count >= MAX_TAIL_CALL_CNT) return TAIL_CALL_FAILED;
  tail.count++;
  const id = view.getUint32(view.getUint32(map + H.ELEMS, true) + 4 * index, true);
  if (id === 0) return TAIL_CALL_FAILED;
  tail.target = id;
  return 0n;
}

export function tailCallHelper(): HelperSpec {
  return {
    id: TAIL_CALL_HELPER, name: 'tail_call', tailCall: true,
    // r1 is the context as the kernel wants it; the next program gets the run's context whatever r1 holds.
    proto: { args: ['ctx', 'prog_array_map', 'scalar'], ret: 'void' },
    impl: (_r1, r2, r3, _r4, _r5, env) => {
      const map = r2 >= 0n && r2 <= 0xffffffffn ? env.maps.get(Number(r2)) : undefined;
      if (!map || map.typeId !== BPF_MAP_TYPE.PROG_ARRAY) throw new HelperFault(`tail_call: r2 (0x${r2.toString(16)}) is not one of the program's prog_arrays`);
      if (!env.tail) throw new HelperFault('tail_call: only a program\'s run can make a tail call');
      return tryTailCall(env.mem.view, map.address, Number(BigInt.asUintN(32, r3)), env.tail);
    },
  };
}

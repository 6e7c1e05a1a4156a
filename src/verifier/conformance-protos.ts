/**
 * Prototypes of the conformance suite's helpers (ids are the suite's own; see
 * ../shared/conformance/README.md), so conformance programs can be verified:
 *
 *   0 gather_bytes(a, b, c, d, e) -> the low bytes packed into 40 bits
 *   1 memfrob(ptr, len)           -> xors len bytes at ptr in place, returns 0
 *   2 no_op()                     -> 0
 *   3 sqrti(a)                    -> integer square root (< 2^32)
 *   4 strcmp_ext(a, b)            -> C strcmp of two NUL-terminated strings (any sign)
 *   5 unwind(a)                   -> a (0 stops the program with r0 = 0)
 */
import type { HelperProto } from '../runtime/helper-proto.js';

const scalars = (n: number): HelperProto['args'] => Array.from({ length: n }, () => 'scalar' as const);
const upTo = (max: bigint): HelperProto['ret'] => ({ kind: 'scalar', min: 0n, max });

export function conformanceProtos(): ReadonlyMap<number, HelperProto> {
  return new Map<number, HelperProto>([
    [0, { args: scalars(5), ret: upTo(0xff_ffff_ffffn) }],
    [1, { args: ['mem_rw', 'size_or_zero'], ret: upTo(0n) }],
    [2, { args: [], ret: upTo(0n) }],
    [3, { args: scalars(1), ret: upTo(0xffff_ffffn) }],
    [4, { args: ['string', 'string'], ret: 'scalar' }],
    [5, { args: scalars(1), ret: 'scalar' }],
  ]);
}

/** The same prototypes as a ready-made map. */
export const CONFORMANCE_PROTOS: ReadonlyMap<number, HelperProto> = conformanceProtos();

/**
 * Helper prototypes: what the verifier needs to know about a helper to check a call to it without
 * looking inside. Plain data that a HelperSpec carries (`proto?: HelperProto`); it lives with the
 * runtime's helper registry, and the verifier reads it.
 */

/**
 * What one argument register (r1 for the first, ...) must hold.
 *
 * Memory arguments (`mem_*`) take their byte count from the argument right after them, which must be
 * `size` (a bounded scalar > 0) or `size_or_zero` (0 allowed too).
 */
export type ArgKind =
  /** Any initialized value: a scalar or a pointer (the helper sees the address). */
  | 'anything'
  /** A scalar, not a pointer. */
  | 'scalar'
  /** A scalar whose value the verifier knows exactly. */
  | 'const'
  /** Pointer to `size` initialized bytes the helper reads. */
  | 'mem_read'
  /** Pointer to `size` writable bytes the helper fills; they need not be initialized before. */
  | 'mem_write'
  /** Pointer to `size` initialized, writable bytes the helper reads and changes in place. */
  | 'mem_rw'
  /** Byte count of the memory argument before it: a scalar with known bounds, > 0. */
  | 'size'
  /** Like `size`, but 0 is allowed. */
  | 'size_or_zero'
  /**
   * Pointer to a NUL-terminated string in readable memory. On the stack the terminator must be a
   * byte the verifier knows is 0; in other regions the helper must stop at the region's end itself.
   */
  | 'string'
  /** The context pointer exactly as the program received it in r1. */
  | 'ctx'
  /** A map handle (from `lddw rX, map_by_fd(N)` / `map_by_idx(N)`). */
  | 'map'
  /** Pointer to key_size readable bytes for the map passed as an earlier `map` argument. */
  | 'map_key'
  /** Pointer to value_size readable bytes for the map passed as an earlier `map` argument. */
  | 'map_value'
  /**
   * Pointer to value_size writable bytes the helper fills (map_pop_elem, map_peek_elem); they need
   * not be initialized, except for a bloom filter, whose peek reads the value it looks for.
   */
  | 'map_value_out'
  /**
   * A ring buffer map handle (BPF_MAP_TYPE_RINGBUF). The kernel's check_map_func_compatibility both
   * ways: `map` arguments refuse ring buffers, and this refuses every other map.
   */
  | 'ringbuf_map'
  /** A prog_array map handle (BPF_MAP_TYPE_PROG_ARRAY), for tail_call; `map` arguments refuse prog_arrays. */
  | 'prog_array_map'
  /**
   * The size of the memory the helper returns (ret `ringbuf_mem_or_null`): a constant the verifier
   * knows, 0 allowed (the kernel's ARG_CONST_ALLOC_SIZE_OR_ZERO).
   */
  | 'alloc_size_or_zero'
  /**
   * A ring buffer record the program reserved, null-checked, at offset 0; the call releases it (the
   * kernel's ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE): every copy of the pointer becomes unusable.
   */
  | 'ringbuf_record'
  /**
   * A map value pointer at exactly the offset of the value's bpf_spin_lock: the call takes the lock
   * (bpf_spin_lock) or releases the one the path holds (bpf_spin_unlock); src/verifier/spin-lock.ts.
   */
  | 'spin_lock'
  | 'spin_unlock'
  /** A subprogram's code address (`lddw rX, code_addr(label)`): the callback of a `callback` helper. */
  | 'callback'
  /**
   * What the callback gets as its context: a pointer into a stack frame, or 0 (the kernel's
   * ARG_PTR_TO_STACK_OR_NULL); the frame's bytes may change while the callback runs.
   */
  | 'callback_ctx';

/**
 * How a helper runs its `callback` argument (the engines run it, not the helper's impl): `loop` is
 * bpf_loop, callback(index, ctx); `for_each` is bpf_for_each_map_elem, callback(map, key, value, ctx).
 */
export type CallbackKind = 'loop' | 'for_each';

/** What a helper leaves in r0 (r1-r5 are always clobbered). */
export type RetKind =
  /** Any scalar. */
  | 'scalar'
  /** Nothing: r0 is uninitialized after the call. */
  | 'void'
  /** A scalar in [min, max] (unsigned 64-bit). */
  | { readonly kind: 'scalar'; readonly min: bigint; readonly max: bigint }
  /** Pointer to a value of the map passed as the `map` argument, or null: must be null-checked. */
  | 'map_value_or_null'
  /** Pointer to `valueSize` bytes of some map the program cannot name (a lookup-like helper), or null. */
  | { readonly kind: 'map_value_or_null'; readonly valueSize: number }
  /**
   * A ring buffer record of `alloc_size_or_zero` writable bytes, or null: must be null-checked, and
   * is an acquired reference that every path must release with a `ringbuf_record` argument.
   */
  | 'ringbuf_mem_or_null';

export interface HelperProto {
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  /** The map types (BPF_MAP_TYPE numbers) the `map` argument may have; any when absent. */
  readonly mapTypes?: readonly number[];
  /** The helper calls its `callback` argument, as this kind says. */
  readonly callback?: CallbackKind;
}

const isMem = (k: ArgKind | undefined): boolean => k === 'mem_read' || k === 'mem_write' || k === 'mem_rw';
const isSize = (k: ArgKind | undefined): boolean => k === 'size' || k === 'size_or_zero';

/** Why a prototype is malformed, or undefined when it is fine. */
export function protoProblem(proto: HelperProto): string | undefined {
  const { args, ret } = proto;
  if (args.length > 5) return `takes ${args.length} arguments; helpers get at most 5 (r1-r5)`;
  for (let i = 0; i < args.length; i++) {
    if (isMem(args[i]) && !isSize(args[i + 1])) return `argument ${i + 1} (${args[i]}) must be followed by a size argument`;
    if (isSize(args[i]) && !isMem(args[i - 1])) return `argument ${i + 1} (${args[i]}) does not follow a memory argument`;
    if ((args[i] === 'map_key' || args[i] === 'map_value' || args[i] === 'map_value_out') && !args.slice(0, i).includes('map')) {
      return `argument ${i + 1} (${args[i]}) needs an earlier map argument`;
    }
  }
  if (ret === 'map_value_or_null' && !args.includes('map')) return 'returns a map value but takes no map argument';
  const allocs = args.filter((a) => a === 'alloc_size_or_zero').length;
  if (ret === 'ringbuf_mem_or_null' && allocs !== 1) return 'returns a ring buffer record but takes no alloc_size_or_zero argument';
  if (ret !== 'ringbuf_mem_or_null' && allocs > 0) return 'takes an alloc_size_or_zero argument but returns no ring buffer record';
  if (args.filter((a) => a === 'ringbuf_record').length > 1) return 'releases more than one ring buffer record';
  if (args.includes('callback') !== (proto.callback !== undefined)) return 'takes a callback argument but says no callback kind, or the other way round';
  if (typeof ret === 'object' && ret.kind === 'map_value_or_null' && !(Number.isInteger(ret.valueSize) && ret.valueSize > 0)) {
    return `value size ${ret.valueSize} must be a positive integer`;
  }
  return undefined;
}

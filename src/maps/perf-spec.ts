/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY's creation checks and record format. In the kernel the array holds
 * perf event fds, one per CPU, each with its own mmapped ring of pages that perf writes records into;
 * here each entry is such a ring in the map's storage (layout.ts, ops-perf.ts), open from creation as
 * if a reader had opened every CPU's buffer (libbpf's perf_buffer__new), so the kernel's key and
 * value sizes (4 and 4, an index and an fd) and its perf record format stay, and the buffer size,
 * which the kernel's reader picks when it maps the pages, is given at creation (bufferSize).
 */
import { InputError } from '../errors.js';
import { BPF_MAP_TYPE } from './types.js';
import type { MapSpec, ValidSpec } from './spec.js';

/** The kernel's PAGE_SIZE: a perf buffer is a power of 2 of pages. */
export const PERF_PAGE = 4096;
/** Default bytes per buffer: 16 pages, as many libbpf tools map. */
export const PERF_DEFAULT_BUFFER = 16 * PERF_PAGE;
export const PERF_MAX_BUFFER = 1 << 24;

/** perf_event_header.type of the two records a bpf output buffer holds (include/uapi/linux/perf_event.h). */
export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
/**
 * A sample: perf_event_header (u32 type, u16 misc, u16 size of the whole record), then the raw data
 * as PERF_SAMPLE_RAW lays it out (u32 size, the bytes), padded to 8. A lost record: the header, u64
 * id (0), u64 the number of records lost.
 */
export const PERF_SAMPLE_HDR = 12;
export const PERF_LOST_SIZE = 24;
/** perf_event_header.size is a u16: the largest sample's data. */
export const PERF_MAX_SAMPLE = 0xffff - PERF_SAMPLE_HDR - 7;
/**
 * The control blocks, in the metadata (at H.ELEMS): first the map's, whose one word, WAITING, is 1
 * while the host sleeps until a producer wakes it (Atomics.waitAsync; any buffer's producer wakes
 * it); then one per buffer, PERF_CTL_FIRST bytes on, PERF_CTL.SIZE bytes each: the producer's line
 * (u32 head, lost, closed, and the lock producers writing the same buffer from several threads take)
 * and, 64 bytes on, the reader's (u32 tail), so that neither the reader's stores nor another CPU's
 * buffer share a cache line with a producer. Head and tail are byte positions that wrap at 2^32.
 */
export const PERF_CTL = { HEAD: 0, LOST: 4, CLOSED: 8, LOCK: 12, TAIL: 64, SIZE: 128 } as const;
export const PERF_WAITING = 0;
export const PERF_CTL_FIRST = 64;

/** BPF_F_CURRENT_CPU and BPF_F_INDEX_MASK of bpf_perf_event_output's flags. */
export const BPF_F_CURRENT_CPU = 0xffffffff;

/** As the kernel's perf_event_array alloc checks (fd_array_map_alloc_check): 4-byte keys and values, no flags here. */
export function perfEventArraySpec(spec: MapSpec, where: string, name: string): ValidSpec {
  if (spec.keySize !== 4) throw new InputError(`${where}: keySize ${String(spec.keySize)} must be 4 (a perf_event_array is indexed by a u32 CPU)`);
  if (spec.valueSize !== 4) throw new InputError(`${where}: valueSize ${String(spec.valueSize)} must be 4 (the kernel's perf event fd)`);
  const entries = spec.maxEntries;
  if (typeof entries !== 'number' || !Number.isInteger(entries) || entries < 1 || entries > 4096) {
    throw new InputError(`${where}: maxEntries ${String(entries)} must be an integer in 1..4096 (one output buffer per entry)`);
  }
  const size = spec.bufferSize ?? PERF_DEFAULT_BUFFER;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < PERF_PAGE || size > PERF_MAX_BUFFER || (size & (size - 1)) !== 0) {
    throw new InputError(`${where}: bufferSize ${String(size)} must be a power of 2 of pages (${PERF_PAGE}..${PERF_MAX_BUFFER} bytes)`);
  }
  if ((spec.flags ?? 0) !== 0) throw new InputError(`${where}: flags ${String(spec.flags)} not supported for map type 'perf_event_array'`);
  if ((spec.mapExtra ?? 0) !== 0) throw new InputError(`${where}: mapExtra ${String(spec.mapExtra)} must be 0 (only a bloom filter takes one)`);
  const type = BPF_MAP_TYPE.PERF_EVENT_ARRAY;
  return { type, typeName: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: entries, flags: 0, name, mapExtra: 0, bufferSize: size };
}

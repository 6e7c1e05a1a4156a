/**
 * `run --dump-maps`: the program's maps after the run, as tables or as JSON. Keys and values of 4 or
 * 8 bytes print as unsigned little-endian numbers, others as hex bytes, an LPM trie's keys as
 * prefixes ('10.1.0.0/16', lpmKeyText); a per-CPU value prints per CPU and, when numeric, summed.
 * Array elements whose every copy is zero are left out (and counted), as an array always holds all
 * its elements. A ring buffer has no entries: its records not consumed yet print in order, as hex
 * bytes, and are consumed; so do a perf_event_array's records, with their CPU, and its lost counts.
 */
import { PerfEventArray, RingBuf, type BpfMap } from '../maps/map.js';
import type { PerfRecord } from '../maps/perf.js';
import { lpmKeyText } from '../maps/lpm-key.js';
import type { FormattedValue } from '../btf/format-value.js';

/** How an object map's keys and values read through their BTF types (object-maps.ts); absent: as bytes. */
export interface MapFormat {
  key(bytes: Uint8Array): FormattedValue;
  value(bytes: Uint8Array): FormattedValue;
}

/** The format of each map, when it has one. */
export type MapFormats = (map: BpfMap) => MapFormat | undefined;

const isNumeric = (size: number): boolean => size === 4 || size === 8;

function number(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.length === 4 ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true);
}

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
const show = (bytes: Uint8Array): string => (isNumeric(bytes.length) ? number(bytes).toString() : hex(bytes));
const isLpm = (map: BpfMap): boolean => map.type === 'lpm_trie';
const showKey = (map: BpfMap, key: Uint8Array): string => (isLpm(map) ? lpmKeyText(key) : show(key));

interface Entry {
  readonly key: Uint8Array;
  /** One value, or one per CPU. */
  readonly values: Uint8Array[];
}

function entriesOf(map: BpfMap): { shown: Entry[]; zeroes: number } {
  const shown: Entry[] = [];
  let zeroes = 0;
  for (const [key, value] of map.entries()) {
    const values = Array.isArray(value) ? value : [value];
    if (map.type.endsWith('array') && values.every((v) => v.every((b) => b === 0))) zeroes++;
    else shown.push({ key, values });
  }
  return { shown, zeroes };
}

/** Queues, stacks and bloom filters have no keys to walk (the kernel's get_next_key refuses them too). */
const listable = (map: BpfMap): boolean => !['queue', 'stack', 'bloom_filter'].includes(map.type);

const sum = (values: Uint8Array[]): string => values.reduce((n, v) => n + number(v), 0n).toString();

function records(ring: RingBuf): Uint8Array[] {
  const out: Uint8Array[] = [];
  ring.consume((r) => { out.push(r); });
  return out;
}

function ringTable(ring: RingBuf): { title: string; rows: string[][] } {
  const list = records(ring);
  const rows = list.map((r, i) => [String(i), String(r.length), hex(r)]);
  const count = list.length === 0 ? 'no records' : `${list.length} record${list.length === 1 ? '' : 's'}`;
  return { title: `map '${ring.name || '(unnamed)'}' (ringbuf, ${ring.size} bytes, ${count}):`, rows: rows.length > 0 ? [['record', 'bytes', 'data'], ...rows] : [] };
}

function perfRecords(perf: PerfEventArray): PerfRecord[] {
  const out: PerfRecord[] = [];
  perf.read((r) => { out.push(r); });
  return out;
}

function perfTable(perf: PerfEventArray): { title: string; rows: string[][] } {
  const list = perfRecords(perf);
  const rows = list.map((r) => [String(r.cpu), r.lost > 0 ? `lost ${r.lost}` : String(r.data.length), hex(r.data)]);
  const count = list.length === 0 ? 'no records' : `${list.length} record${list.length === 1 ? '' : 's'}`;
  return { title: `map '${perf.name || '(unnamed)'}' (perf_event_array, ${perf.maxEntries} buffers, ${count}):`, rows: rows.length > 0 ? [['cpu', 'bytes', 'data'], ...rows] : [] };
}

/** One table per map: a title line, then rows (the caller lays them out). */
export function mapTables(maps: readonly BpfMap[], formats: MapFormats = () => undefined): Array<{ title: string; rows: string[][] }> {
  return maps.map((map) => {
    const format = formats(map);
    if (map instanceof RingBuf) return ringTable(map);
    if (map instanceof PerfEventArray) return perfTable(map);
    if (!listable(map)) return { title: `map '${map.name || '(unnamed)'}' (${map.type}: its values cannot be listed without taking them out)`, rows: [] };
    const { shown, zeroes } = entriesOf(map);
    const cpus = map.perCpu ? (shown[0]?.values.length ?? 0) : 0;
    const summed = map.perCpu && isNumeric(map.valueSize);
    const header = ['key', ...(map.perCpu ? Array.from({ length: cpus }, (_, c) => `cpu${c}`) : ['value']), ...(summed ? ['sum'] : [])];
    const key = (k: Uint8Array): string => (format ? format.key(k).text : showKey(map, k));
    const value = (v: Uint8Array): string => (format ? format.value(v).text : show(v));
    const rows = shown.map((e) => [key(e.key), ...e.values.map(value), ...(summed ? [sum(e.values)] : [])]);
    const hidden = zeroes > 0 ? `, ${zeroes} zero element${zeroes === 1 ? '' : 's'} not shown` : '';
    const entries = `${map.maxEntries} ${map.maxEntries === 1 ? 'entry' : 'entries'}`;
    const empty = rows.length === 0 && zeroes === 0 ? ', empty' : '';
    return { title: `map '${map.name || '(unnamed)'}' (${map.type}, ${map.keySize}-byte keys, ${map.valueSize}-byte values, ${entries}${hidden}${empty}):`, rows: rows.length > 0 ? [header, ...rows] : [] };
  });
}

/**
 * The maps as JSON-ready data: every entry, keys and values as hex and, when 4 or 8 bytes, as
 * numbers; an LPM trie's keys also as prefixes.
 */
export function mapsJson(maps: readonly BpfMap[], formats: MapFormats = () => undefined): unknown[] {
  const raw = (b: Uint8Array): Record<string, unknown> => ({ hex: hex(b).replaceAll(' ', ''), ...(isNumeric(b.length) ? { number: number(b).toString() } : {}) });
  return maps.map((map) => {
    const format = formats(map);
    const bytes = (b: Uint8Array): Record<string, unknown> => ({ ...raw(b), ...(format ? { btf: format.value(b).json } : {}) });
    if (map instanceof RingBuf) {
      return {
        name: map.name, type: map.type, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries,
        records: records(map).map((r) => hex(r).replaceAll(' ', '')),
      };
    }
    if (map instanceof PerfEventArray) {
      return {
        name: map.name, type: map.type, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries,
        records: perfRecords(map).map((r) => (r.lost > 0 ? { cpu: r.cpu, lost: r.lost } : { cpu: r.cpu, data: hex(r.data).replaceAll(' ', '') })),
      };
    }
    const keyOf = (k: Uint8Array): Record<string, unknown> => (isLpm(map)
      ? { hex: hex(k).replaceAll(' ', ''), prefix: lpmKeyText(k) }
      : { ...raw(k), ...(format ? { btf: format.key(k).json } : {}) });
    return {
      name: map.name, type: map.type, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries,
      entries: !listable(map) ? null : [...map.entries()].map(([key, value]) => (Array.isArray(value)
        ? { key: keyOf(key), perCpu: value.map(bytes), ...(isNumeric(map.valueSize) ? { sum: sum(value) } : {}) }
        : { key: keyOf(key), value: bytes(value) })),
    };
  });
}

/** Rows as aligned columns. */
export function alignedRows(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

/**
 * `run --dump-maps` of an ELF object: every map of the object after the run. Keys and values read
 * through their BTF types (formatValue) where `.maps` gave them; a data map (.data, .rodata, .bss,
 * .kconfig) shows its variables by name. A counter array that looks like a histogram — an array or
 * per-CPU array of 4- or 8-byte values, at least 8 entries, named with "hist" (`hists`, `size_hist`,
 * as libbpf-tools name theirs) — is also printed as a log2 histogram (slot i = key i, CPUs summed).
 */
import type { Btf } from '../btf/btf.js';
import { formatValue, type FormattedValue, type ValueJson } from '../btf/format-value.js';
import type { LoadedObject, ObjectMapSpec, ObjectSpec } from '../elf/index.js';
import { decodeValue } from '../elf/values.js';
import { formatLog2Hist } from '../format/log2-hist.js';
import type { BpfMap } from '../maps/map.js';
import { mapTables, mapsJson, type MapFormat } from './dump-maps.js';

export interface MapTable {
  readonly title: string;
  readonly rows: string[][];
  /** Lines printed after the rows (a histogram). */
  readonly after?: readonly string[];
}

const MIN_HIST_SLOTS = 8;

function btfFormat(btf: Btf | undefined, m: ObjectMapSpec): MapFormat | undefined {
  if (!btf || !m.btfKey || !m.btfValue) return undefined;
  const key = m.btfKey, value = m.btfValue;
  return { key: (b) => formatValue(btf, key, b), value: (b) => formatValue(btf, value, b) };
}

const key32 = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);

function le(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** The map's counters, slot by slot, when it is a histogram by the rule above. */
export function histogramCounts(map: BpfMap): bigint[] | undefined {
  const shaped = (map.type === 'array' || map.type === 'percpu_array') && (map.valueSize === 4 || map.valueSize === 8);
  if (!shaped || map.maxEntries < MIN_HIST_SLOTS || !/hist/i.test(map.name)) return undefined;
  return Array.from({ length: map.maxEntries }, (_, slot) => {
    const v = map.lookup(key32(slot));
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    return values.reduce((sum, b) => sum + le(b), 0n);
  });
}

/** A data map's variables: each by name, read through its BTF type. */
function variables(spec: ObjectSpec, index: number, live: BpfMap, btf: Btf | undefined): Array<[string, FormattedValue]> {
  const value = live.lookup(key32(0));
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(live.valueSize);
  return spec.variables.filter((v) => v.map === index).sort((a, b) => a.offset - b.offset).map((v) => {
    const slice = bytes.subarray(v.offset, v.offset + v.size);
    if (btf && v.type) return [v.name, formatValue(btf, v.type, slice)];
    const n = decodeValue(v, slice);
    const text = n instanceof Uint8Array ? [...n].map((b) => b.toString(16).padStart(2, '0')).join(' ') : String(n);
    return [v.name, { text, json: typeof n === 'bigint' ? n.toString() : n instanceof Uint8Array ? text : n }];
  });
}

const dataTitle = (m: ObjectMapSpec, n: number): string =>
  `map '${m.name}' (${m.kind}, ${m.spec.valueSize} bytes, ${n} variable${n === 1 ? '' : 's'}):`;

/** One table per map of the object, in the object's order. */
export function objectMapTables(obj: LoadedObject, btf: Btf | undefined): MapTable[] {
  return obj.spec.maps.map((m, i) => {
    const live = obj.maps[m.name]!;
    if (m.kind !== 'user') {
      const vars = variables(obj.spec, i, live, btf);
      return { title: dataTitle(m, vars.length), rows: vars.length > 0 ? [['variable', 'value'], ...vars.map(([n, v]) => [n, v.text])] : [] };
    }
    const table = mapTables([live], () => btfFormat(btf, m))[0]!;
    const counts = histogramCounts(live);
    const hist = counts && formatLog2Hist(counts, 'value');
    return { ...table, ...(hist ? { after: hist.trimEnd().split('\n') } : {}) };
  });
}

/** The same as JSON-ready data: dump-maps.ts's form plus the kind, BTF-read keys and values, variables and histogram counts. */
export function objectMapsJson(obj: LoadedObject, btf: Btf | undefined): unknown[] {
  return obj.spec.maps.map((m, i) => {
    const live = obj.maps[m.name]!;
    if (m.kind !== 'user') {
      const vars: Record<string, ValueJson> = Object.fromEntries(variables(obj.spec, i, live, btf).map(([n, v]) => [n, v.json]));
      return { name: m.name, kind: m.kind, valueSize: m.spec.valueSize, variables: vars };
    }
    const [json] = mapsJson([live], () => btfFormat(btf, m)) as Array<Record<string, unknown>>;
    const counts = histogramCounts(live);
    return { ...json, name: m.name, kind: m.kind, ...(counts ? { histogram: counts.map(String) } : {}) };
  });
}

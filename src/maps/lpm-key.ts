/**
 * Keys of LPM tries as the host API takes them: `struct bpf_lpm_trie_key`, a u32 prefix length in
 * the host's order (little-endian, as BPF's on every target this runtime has) then the data in
 * network order. lpmKey builds one from its parts, cidrKey from an IPv4 or IPv6 prefix in CIDR
 * notation ('10.1.0.0/16', '2001:db8::/32'), for tries of 4- and 16-byte data (keySize 8 and 20).
 */
import { InputError } from '../errors.js';

export function lpmKey(prefixLen: number, data: Uint8Array | readonly number[]): Uint8Array {
  const bytes = Uint8Array.from(data);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 0xffffffff) {
    throw new InputError(`LPM key: prefix length ${prefixLen} must be a u32`);
  }
  if (data.length !== bytes.length || Array.from(data).some((b, i) => b !== bytes[i])) {
    throw new InputError('LPM key: data must be bytes (integers in 0..255)');
  }
  const key = new Uint8Array(4 + bytes.length);
  new DataView(key.buffer).setUint32(0, prefixLen, true);
  key.set(bytes, 4);
  return key;
}

function ipv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

function ipv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)))) return undefined;
  const given = groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const words = [...groups[0]!, ...new Array<string>(8 - given).fill('0'), ...(groups[1] ?? [])].map((x) => parseInt(x, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** The key of an IPv4 or IPv6 prefix in CIDR notation; without '/length', the address's full length. */
export function cidrKey(cidr: string): Uint8Array {
  const [address = '', length, extra] = cidr.split('/');
  const data = ipv4(address) ?? ipv6(address);
  if (!data || extra !== undefined || (length !== undefined && !/^\d{1,3}$/.test(length))) {
    throw new InputError(`LPM key: ${JSON.stringify(cidr)} is not an IPv4 or IPv6 prefix ('10.1.0.0/16', '2001:db8::/32')`);
  }
  const prefixLen = length === undefined ? data.length * 8 : Number(length);
  if (prefixLen > data.length * 8) throw new InputError(`LPM key: ${JSON.stringify(cidr)}: prefix length ${prefixLen} is more than ${data.length * 8}`);
  return lpmKey(prefixLen, data);
}

function ipv6Text(data: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (data[2 * i]! << 8) | data[2 * i + 1]!);
  // The longest run of two or more zero words becomes '::', as RFC 5952 writes addresses.
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let n = 0;
    while (i + n < 8 && words[i + n] === 0) n++;
    if (n > best.length) best = { at: i, length: n };
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  return best.at < 0 ? hex(words) : `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.length))}`;
}

/** A key as text: CIDR notation for 4- and 16-byte data ('10.1.0.0/16'), else the data in hex and the length. */
export function lpmKeyText(key: Uint8Array): string {
  const prefixLen = new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(0, true);
  const data = key.subarray(4);
  if (data.length === 4) return `${data.join('.')}/${prefixLen}`;
  if (data.length === 16) return `${ipv6Text(data)}/${prefixLen}`;
  return `${[...data].map((b) => b.toString(16).padStart(2, '0')).join('')}/${prefixLen}`;
}

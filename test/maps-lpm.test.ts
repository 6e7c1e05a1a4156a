// LPM tries (BPF_MAP_TYPE_LPM_TRIE): the kernel's semantics (kernel/bpf/lpm_trie.c) through the host
// API, the WebAssembly operations called as a program calls them, a property against a brute-force
// model, and programs doing allow/deny lookups in every engine.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BPF_ANY, BPF_EXIST, BPF_F, BPF_NOEXIST, cidrKey, createMap, EngineMemory, lpmKey, lpmKeyText, mapOperations, memory, Vm,
  type BpfMap,
} from '../src/index.js';
import { InputError } from '../src/errors.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { ENGINES } from './engines.js';
import { errnoOf } from './maps-helpers.js';

const errno = errnoOf;

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

/** A key as 'a.b.c.d/len' or IPv6 CIDR, for readable expectations. */
const show = lpmKeyText;

const ipv4Trie = (mem: EngineMemory, maxEntries = 16, name = 'rules'): BpfMap<Uint8Array> =>
  createMap(mem, { type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries, flags: BPF_F.NO_PREALLOC, name });

describe('LPM trie: lookups', () => {
  it('finds the longest of overlapping prefixes that matches', () => {
    const map = ipv4Trie(new EngineMemory());
    const rules: Array<[string, number]> = [['10.0.0.0/8', 8], ['10.1.0.0/16', 16], ['10.1.2.0/24', 24], ['0.0.0.0/0', 100]];
    for (const [cidr, v] of rules) map.update(cidrKey(cidr), v);
    const look = (cidr: string): number | undefined => map.lookupNumber(cidrKey(cidr));
    expect(look('10.1.2.3')).toBe(24);
    expect(look('10.1.2.255')).toBe(24);
    expect(look('10.1.3.1')).toBe(16);
    expect(look('10.1.255.255')).toBe(16);
    expect(look('10.2.0.1')).toBe(8);
    expect(look('10.255.255.255')).toBe(8);
    expect(look('11.0.0.0')).toBe(100);
    expect(look('255.255.255.255')).toBe(100);
    // The key's prefix length bounds the prefixes considered, as the kernel's lookup does.
    expect(look('10.1.2.3/24')).toBe(24);
    expect(look('10.1.2.3/23')).toBe(16);
    expect(look('10.1.2.3/16')).toBe(16);
    expect(look('10.1.2.3/15')).toBe(8);
    expect(look('10.1.2.3/0')).toBe(100);
    map.delete(cidrKey('0.0.0.0/0'));
    expect(look('11.0.0.0')).toBeUndefined();
    expect(look('10.1.2.3/7')).toBeUndefined();
    // A prefix length past the data finds nothing (the kernel answers NULL).
    expect(map.lookup(lpmKey(33, [10, 1, 2, 3]))).toBeUndefined();
  });

  it('takes IPv6 keys', () => {
    const map = createMap(new EngineMemory(), { type: 'lpm_trie', keySize: 20, valueSize: 8, maxEntries: 8, flags: BPF_F.NO_PREALLOC });
    map.update(cidrKey('2001:db8::/32'), 32n);
    map.update(cidrKey('2001:db8:1::/48'), 48n);
    map.update(cidrKey('2001:db8:1:2::1/128'), 128n);
    map.update(cidrKey('::/0'), 1n);
    map.update(cidrKey('fe80::/10'), 10n);
    const look = (cidr: string): bigint | undefined => map.lookupBigInt(cidrKey(cidr));
    expect(look('2001:db8:1:2::1')).toBe(128n);
    expect(look('2001:db8:1:2::2')).toBe(48n);
    expect(look('2001:db8:ffff::1')).toBe(32n);
    expect(look('2001:db9::1')).toBe(1n);
    expect(look('fe80::1')).toBe(10n);
    expect(look('febf:ffff::1')).toBe(10n);
    expect(look('fec0::1')).toBe(1n);
    expect([...map.keys()].map(show)).toEqual([
      '2001:db8:1:2::1/128', '2001:db8:1::/48', '2001:db8::/32', 'fe80::/10', '::/0',
    ]);
  });

  it('matches on prefix lengths 0 and the data\'s whole length, for 1-byte and 256-byte data', () => {
    const mem = new EngineMemory();
    const small = createMap(mem, { type: 'lpm_trie', keySize: 5, valueSize: 1, maxEntries: 4, flags: BPF_F.NO_PREALLOC });
    small.update(lpmKey(0, [0]), Uint8Array.of(1));
    small.update(lpmKey(8, [0xab]), Uint8Array.of(2));
    small.update(lpmKey(7, [0xaa]), Uint8Array.of(3)); // 1010101x
    const look = (b: number, len = 8): number | undefined => small.lookup(lpmKey(len, [b]))?.[0];
    expect([look(0xab), look(0xaa), look(0xac), look(0x00), look(0xab, 7)]).toEqual([2, 3, 1, 1, 3]);
    expect(errno(() => small.update(lpmKey(9, [0]), Uint8Array.of(1)))).toBe('EINVAL');

    const big = createMap(mem, { type: 'lpm_trie', keySize: 260, valueSize: 4, maxEntries: 4, flags: BPF_F.NO_PREALLOC });
    const data = Uint8Array.from({ length: 256 }, (_, i) => (i * 37) & 0xff);
    const other = Uint8Array.from(data);
    other[255]! ^= 1; // differs in the last bit only
    big.update(lpmKey(2048, data), 2048);
    big.update(lpmKey(2047, data), 2047);
    big.update(lpmKey(0, new Uint8Array(256)), 0);
    expect(big.lookupNumber(lpmKey(2048, data))).toBe(2048);
    expect(big.lookupNumber(lpmKey(2048, other))).toBe(2047);
    other[0]! ^= 0x80;
    expect(big.lookupNumber(lpmKey(2048, other))).toBe(0);
    expect(errno(() => big.update(lpmKey(2049, data), 1))).toBe('EINVAL');
    expect(big.lookup(lpmKey(2049, data))).toBeUndefined();
  });
});

describe('LPM trie: updates and deletes', () => {
  it('answers flags with the kernel\'s codes', () => {
    const map = ipv4Trie(new EngineMemory());
    expect(errno(() => map.update(cidrKey('10.0.0.0/8'), 1, BPF_EXIST))).toBe('ENOENT');
    map.update(cidrKey('10.0.0.0/8'), 1, BPF_NOEXIST);
    expect(() => map.update(cidrKey('10.0.0.0/8'), 2, BPF_NOEXIST)).toThrow("map 'rules': update: key exists (EEXIST)");
    expect(map.lookupNumber(cidrKey('10.0.0.0/8'))).toBe(1);
    map.update(cidrKey('10.0.0.0/8'), 3, BPF_EXIST);
    map.update(cidrKey('10.9.9.9/8'), 4, BPF_ANY); // the bits past the prefix length do not count
    expect(map.lookupNumber(cidrKey('10.0.0.0/8'))).toBe(4);
    expect([...map.keys()].map(show)).toEqual(['10.0.0.0/8']);
    expect(errno(() => map.update(cidrKey('10.0.0.0/8'), 1, 3))).toBe('EINVAL');
    // Flags are a u64 in the kernel's helper: 2^32 is not BPF_ANY.
    const at = map.mem.alloc(16);
    map.mem.write(at, cidrKey('10.0.0.0/8'));
    expect(mapOperations(map.mem).lpm_update(BigInt(map.address), BigInt(at), BigInt(at + 8), 1n << 32n)).toBe(-22n);
    expect(() => map.update(lpmKey(33, [10, 0, 0, 0]), 1)).toThrow("map 'rules': update: prefix length 33 is more than the key's 32 bits of data (EINVAL)");
    // An intermediate node (10.0.0.0/14, where 10.1/16 and 10.2/16 part) holds no entry.
    map.update(cidrKey('10.1.0.0/16'), 5);
    map.update(cidrKey('10.2.0.0/16'), 6);
    expect(errno(() => map.update(cidrKey('10.0.0.0/14'), 7, BPF_EXIST))).toBe('ENOENT');
    expect(map.lookupNumber(cidrKey('10.3.0.0'))).toBe(4);
    map.update(cidrKey('10.0.0.0/14'), 7, BPF_NOEXIST);
    expect(map.lookupNumber(cidrKey('10.3.0.0'))).toBe(7);
  });

  it('deletes exact prefixes only', () => {
    const map = ipv4Trie(new EngineMemory());
    for (const cidr of ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.2.0.0/16']) map.update(cidrKey(cidr), Number(cidr.split('/')[1]));
    expect(() => map.delete(cidrKey('10.1.0.0/17'))).toThrow("map 'rules': delete: no such key (ENOENT)");
    expect(errno(() => map.delete(cidrKey('10.3.0.0/16')))).toBe('ENOENT');
    expect(errno(() => map.delete(cidrKey('10.0.0.0/14')))).toBe('ENOENT'); // intermediate
    expect(() => map.delete(lpmKey(40, [10, 0, 0, 0]))).toThrow("map 'rules': delete: prefix length 40 is more than the key's 32 bits of data (EINVAL)");
    map.delete(cidrKey('10.1.255.255/16'));
    expect(map.lookupNumber(cidrKey('10.1.0.0/16'))).toBe(8); // now 10/8's
    expect(map.lookupNumber(cidrKey('10.1.2.1'))).toBe(24);
    expect([...map.keys()].map(show).sort()).toEqual(['10.0.0.0/8', '10.1.2.0/24', '10.2.0.0/16']);
    for (const cidr of ['10.0.0.0/8', '10.2.0.0/16', '10.1.2.0/24']) map.delete(cidrKey(cidr));
    expect([...map.keys()]).toEqual([]);
    expect(map.lookup(cidrKey('10.1.2.3'))).toBeUndefined();
  });

  it('answers ENOSPC when full, where a new entry would not fit', () => {
    const map = ipv4Trie(new EngineMemory(), 3);
    map.update(cidrKey('10.1.0.0/16'), 1);
    map.update(cidrKey('10.2.0.0/16'), 2); // with an intermediate node: only entries count
    map.update(cidrKey('10.3.0.0/16'), 3);
    expect(() => map.update(cidrKey('10.4.0.0/16'), 4)).toThrow("map 'rules': update: trie is full (maxEntries 3) (ENOSPC)");
    expect(errno(() => map.update(cidrKey('10.0.0.0/14'), 4))).toBe('ENOSPC'); // an intermediate node's prefix
    expect(errno(() => map.update(cidrKey('10.0.0.0/8'), 4))).toBe('ENOSPC');
    expect(errno(() => map.update(cidrKey('10.4.0.0/16'), 4, BPF_EXIST))).toBe('ENOENT');
    map.update(cidrKey('10.2.0.0/16'), 20); // a replacement fits
    expect(map.lookupNumber(cidrKey('10.2.3.4'))).toBe(20);
    map.delete(cidrKey('10.1.0.0/16'));
    map.update(cidrKey('10.4.0.0/16'), 4);
    expect([...map.keys()].map(show).sort()).toEqual(['10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16']);
    map.clear();
    expect([...map.keys()]).toEqual([]);
    for (const cidr of ['0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1']) map.update(cidrKey(cidr), 9);
    expect(map.lookupNumber(cidrKey('200.0.0.1'))).toBe(9);
  });

  it('keeps its values, and only its values, in valueRegion: programs scribbling there break nothing', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'lpm_trie', keySize: 8, valueSize: 12, maxEntries: 5, flags: BPF_F.NO_PREALLOC });
    const region = map.valueRegion;
    expect(region.end - region.start).toBe(5 * 16);
    const ops = mapOperations(mem);
    const at = mem.alloc(64);
    for (const [i, cidr] of ['10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '192.168.0.0/16', '0.0.0.0/0'].entries()) {
      map.update(cidrKey(cidr), new Uint8Array(12).fill(i));
      mem.write(at, cidrKey(cidr));
      const value = Number(ops.lpm_lookup(BigInt(map.address), BigInt(at)));
      expect(value).toBeGreaterThanOrEqual(region.start);
      expect(value + 12).toBeLessThanOrEqual(region.end);
    }
    mem.write(region.start, new Uint8Array(region.end - region.start).fill(0xee));
    expect([...map.keys()].map(show).sort()).toEqual(['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '192.168.0.0/16']);
    expect(map.lookup(cidrKey('10.2.9.9'))).toEqual(new Uint8Array(12).fill(0xee));
    map.delete(cidrKey('10.2.0.0/16'));
    map.update(cidrKey('10.3.0.0/16'), new Uint8Array(12).fill(7));
    expect(map.lookup(cidrKey('10.3.0.1'))).toEqual(new Uint8Array(12).fill(7));
  });
});

describe('LPM trie: iteration', () => {
  it('walks in the kernel\'s post-order: more specific prefixes first', () => {
    const map = ipv4Trie(new EngineMemory());
    // The example at the top of the kernel's lpm_trie.c, whose get_next_key comment gives this order.
    for (const cidr of ['192.168.0.0/16', '192.168.0.0/24', '192.168.128.0/24', '192.168.1.0/24']) map.update(cidrKey(cidr), 1);
    expect([...map.keys()].map(show)).toEqual(['192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '192.168.0.0/16']);
  });

  it('starts over from the first key after a key not in the trie, and ends with ENOENT', () => {
    const mem = new EngineMemory();
    const map = ipv4Trie(mem);
    const ops = mapOperations(mem);
    const at = mem.alloc(64);
    const next = (key: Uint8Array | undefined): string => {
      if (key) mem.write(at, key);
      const rc = ops.lpm_next_key(BigInt(map.address), key ? BigInt(at) : 0n, BigInt(at + 32));
      return rc === 0n ? show(mem.read(at + 32, 8)) : `rc ${rc}`;
    };
    expect(next(undefined)).toBe('rc -2');
    for (const cidr of ['10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16']) map.update(cidrKey(cidr), 1);
    expect(next(undefined)).toBe('10.1.0.0/16');
    expect(next(cidrKey('10.1.0.0/16'))).toBe('10.2.0.0/16');
    expect(next(cidrKey('10.2.0.0/16'))).toBe('10.0.0.0/8');
    expect(next(cidrKey('10.0.0.0/8'))).toBe('rc -2');
    expect(next(cidrKey('10.0.0.0/14'))).toBe('10.1.0.0/16'); // an intermediate node's prefix
    expect(next(cidrKey('10.3.0.0/16'))).toBe('10.1.0.0/16');
    expect(next(cidrKey('11.0.0.0/16'))).toBe('10.1.0.0/16');
    expect(next(lpmKey(33, [10, 0, 0, 0]))).toBe('10.1.0.0/16');
  });

  it('visits each entry once, also while deleting each as it goes', () => {
    const map = ipv4Trie(new EngineMemory(), 64);
    const cidrs = ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3/32', '10.128.0.0/9', '172.16.0.0/12', '192.168.0.0/16', '192.168.1.0/24', '128.0.0.0/1'];
    for (const cidr of cidrs) map.update(cidrKey(cidr), 1);
    const seen = [...map.keys()].map(show);
    expect([...seen].sort()).toEqual([...cidrs].sort());
    const deleted: string[] = [];
    for (const key of map.keys()) {
      deleted.push(show(key));
      map.delete(key);
    }
    expect(deleted).toEqual(seen);
    expect([...map.keys()]).toEqual([]);
  });
});

describe('LPM trie: creation', () => {
  it('refuses what the kernel\'s trie_alloc refuses, with a reason', () => {
    const mem = new EngineMemory();
    const spec = { type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 4, flags: BPF_F.NO_PREALLOC, name: 'acl' };
    expect(refusal(() => createMap(mem, { ...spec, flags: 0 }))).toBe("map 'acl': an lpm_trie needs flags BPF_F.NO_PREALLOC (1), as the kernel requires");
    expect(refusal(() => createMap(mem, { ...spec, flags: BPF_F.NO_PREALLOC | BPF_F.ZERO_SEED }))).toBe("map 'acl': flags 0x40 not supported for map type 'lpm_trie'");
    expect(refusal(() => createMap(mem, { ...spec, keySize: 4 }))).toBe("map 'acl': keySize 4 must be an integer in 5..260");
    expect(refusal(() => createMap(mem, { ...spec, keySize: 261 }))).toBe("map 'acl': keySize 261 must be an integer in 5..260");
    expect(refusal(() => createMap(mem, { ...spec, valueSize: 0 }))).toMatch(/^map 'acl': valueSize 0 must be an integer in 1\.\./);
    expect(refusal(() => createMap(mem, { ...spec, maxEntries: 0 }))).toMatch(/^map 'acl': maxEntries 0 must be an integer in 1\.\./);
    expect(refusal(() => createMap(mem, { ...spec, maxEntries: 1e8 }))).toMatch(/^map 'acl': maxEntries 100000000 with valueSize 4 needs \d+ bytes, more than/);
    const map = createMap(mem, { ...spec, type: 11 });
    expect([map.type, map.typeId, map.perCpu]).toEqual(['lpm_trie', 11, false]);
  });

  it('builds keys from CIDR notation, and refuses what is not', () => {
    expect(Array.from(cidrKey('10.1.2.0/24'))).toEqual([24, 0, 0, 0, 10, 1, 2, 0]);
    expect(Array.from(cidrKey('192.168.0.1'))).toEqual([32, 0, 0, 0, 192, 168, 0, 1]);
    expect(Array.from(cidrKey('2001:db8::1/64'))).toEqual([64, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(cidrKey('::')).slice(0, 4)).toEqual([128, 0, 0, 0]);
    expect(Array.from(lpmKey(300, [1]))).toEqual([44, 1, 0, 0, 1]);
    for (const bad of ['10.1.2/24', '10.1.2.256', '10.0.0.0/33', '1::2::3', 'fe80::/129', '10.0.0.0/8/8', 'x']) {
      expect(() => cidrKey(bad)).toThrow(InputError);
    }
    for (const cidr of ['10.1.2.0/24', '0.0.0.0/0', '2001:db8::1/128', '::/0', '1::/16', '1:0:0:2::/64', '1:0:2::3:0:0/100', 'fe80:0:1:2:3:4:5:6/128']) {
      expect(lpmKeyText(cidrKey(cidr))).toBe(cidr);
    }
    expect(lpmKeyText(lpmKey(12, [0xab, 0xc0, 0]))).toBe('abc000/12');
    expect(() => lpmKey(-1, [1])).toThrow(InputError);
    expect(() => lpmKey(8, [256])).toThrow(InputError);
  });
});

// --- Property: any sequence of operations answers as a brute-force model of prefixes does. ---

type Op =
  | { op: 'update'; prefix: number; noise: number; value: number; flags: number }
  | { op: 'delete'; prefix: number; noise: number }
  | { op: 'lookup'; addr: number; len: number };

/** Addresses that share prefixes, so that generated prefixes overlap a lot; and any address. */
const BASES = [0x0a000000, 0x0a010000, 0x0a010200, 0x0a010280, 0x0a800000, 0xc0a80000, 0xc0a80100, 0x00000000, 0xffffffff];
const addrArb = fc.oneof(fc.constantFrom(...BASES), fc.nat().map((n) => (n * 2 + (n & 1)) >>> 0));
const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

interface Prefix { readonly len: number; readonly addr: number }

const scenario = fc.integer({ min: 1, max: 10 }).chain((maxEntries) => fc.record({
  maxEntries: fc.constant(maxEntries),
  pool: fc.array(fc.record({ len: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.constantFrom(8, 16, 24, 32)), addr: addrArb }), { minLength: 2 * maxEntries + 2, maxLength: 2 * maxEntries + 2 }),
  ops: fc.array(fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('update' as const), prefix: fc.nat(2 * maxEntries + 1), noise: fc.nat(), value: fc.nat(0xffff), flags: fc.constantFrom(0, 0, 0, 1, 2) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), prefix: fc.nat(2 * maxEntries + 1), noise: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('lookup' as const), addr: addrArb, len: fc.oneof(fc.constant(32), fc.integer({ min: 0, max: 32 })) }) },
  ), { maxLength: 60 }),
}));

describe('LPM trie: property', () => {
  it('answers as a list of prefixes searched by brute force, iterates each entry once, specific ones first', () => {
    fc.assert(fc.property(scenario, ({ maxEntries, pool, ops }) => {
      const map = ipv4Trie(new EngineMemory(), maxEntries);
      const model = new Map<string, { p: Prefix; value: number }>();
      const id = (p: Prefix): string => `${(p.addr & maskOf(p.len)) >>> 0}/${p.len}`;
      const keyOf = (len: number, addr: number): Uint8Array => lpmKey(len, [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]);
      for (const o of ops) {
        if (o.op === 'lookup') {
          let best: { p: Prefix; value: number } | undefined;
          for (const e of model.values()) {
            if (e.p.len <= o.len && ((o.addr ^ e.p.addr) & maskOf(e.p.len)) === 0 && (!best || e.p.len > best.p.len)) best = e;
          }
          expect(map.lookupNumber(keyOf(o.len, o.addr))).toBe(best?.value);
          continue;
        }
        const p = pool[o.prefix]!;
        // Bits past the prefix length, which must not count.
        const key = keyOf(p.len, (p.addr & maskOf(p.len)) | (o.noise & ~maskOf(p.len)));
        const had = model.has(id(p));
        if (o.op === 'delete') {
          expect(errno(() => map.delete(key))).toBe(had ? 'ok' : 'ENOENT');
          model.delete(id(p));
          continue;
        }
        const want = o.flags === BPF_NOEXIST && had ? 'EEXIST'
          : o.flags === BPF_EXIST && !had ? 'ENOENT'
            : !had && model.size >= maxEntries ? 'ENOSPC' : 'ok';
        expect(errno(() => map.update(key, o.value, o.flags))).toBe(want);
        if (want === 'ok') model.set(id(p), { p: { len: p.len, addr: (p.addr & maskOf(p.len)) >>> 0 }, value: o.value });
      }
      const keys = [...map.keys()].map((k) => ({ len: k[0]!, addr: new DataView(k.buffer, k.byteOffset).getUint32(4, false) }));
      expect(keys.map(id).sort()).toEqual([...model.keys()].sort());
      // Post-order: a prefix comes after every stored prefix it covers.
      keys.forEach((a, i) => keys.slice(i + 1).forEach((b) => {
        expect(b.len < a.len || ((a.addr ^ b.addr) & maskOf(b.len)) !== 0 || b.len === a.len).toBe(true);
      }));
      for (const [, e] of model) expect(map.lookupNumber(keyOf(e.p.len, e.p.addr))).toBe(e.value);
    }), { numRuns: 300 });
  });
});

// --- Programs: allow/deny on the source address of an IPv4 header, in every engine. ---

beforeAll(() => loadOptimizer());

/**
 * r1 points at a 20-byte IPv4 header: the key {32, source address} on the stack, then the rule's
 * verdict (the u32 value), or 0 when no prefix matches.
 */
const FILTER = `
ldxw %r2, [%r1+12]
stxw [%r10-4], %r2
stw [%r10-8], 32
mov %r2, %r10
add %r2, -8
lddw %r1, map_by_idx(0)
call 1
mov %r6, 0
jeq %r0, 0, out
ldxw %r6, [%r0]
out:
mov %r0, %r6
exit`;

const ALLOW = 1;
const DENY = 2;

/** An IPv4 header from a source address. */
function header(src: string): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = 0x45;
  h.set(cidrKey(src).subarray(4), 12);
  h.set([192, 0, 2, 1], 16);
  return h;
}

/** r0 = the errno of update (flags r4) or delete of {len, 10.x.0.0} from a program, value 7. */
const change = (call: 2 | 3, len: number, second: number, flags = 0): string => `
stw [%r10-8], ${len}
stw [%r10-4], ${(second << 8) | 10}
stw [%r10-16], 7
mov %r2, %r10
add %r2, -8
mov %r3, %r10
add %r3, -16
mov %r4, ${flags}
lddw %r1, map_by_idx(0)
call ${call}
exit`;

describe.each(ENGINES)('LPM trie in programs: %s', (_name, opts) => {
  it('allows and denies by the longest matching prefix', () => {
    const vm = new Vm();
    const rules = vm.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 8, flags: BPF_F.NO_PREALLOC, name: 'rules' });
    rules.update(cidrKey('10.0.0.0/8'), ALLOW);
    rules.update(cidrKey('10.1.0.0/16'), DENY);
    rules.update(cidrKey('10.1.2.0/24'), ALLOW);
    const p = vm.load(FILTER, { ...opts, context: memory(20), maps: [rules] });
    const verdict = (src: string): bigint => p.run(header(src));
    expect([verdict('10.9.9.9'), verdict('10.1.9.9'), verdict('10.1.2.9'), verdict('8.8.8.8')]).toEqual([1n, 2n, 1n, 0n]);
    rules.update(cidrKey('0.0.0.0/0'), DENY);
    rules.delete(cidrKey('10.1.2.0/24'));
    expect([verdict('10.9.9.9'), verdict('10.1.9.9'), verdict('10.1.2.9'), verdict('8.8.8.8')]).toEqual([1n, 2n, 2n, 2n]);
  });

  it('updates and deletes with the kernel\'s return codes', () => {
    const vm = new Vm();
    const rules = vm.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 2, flags: BPF_F.NO_PREALLOC, name: 'rules' });
    const run = (src: string): bigint => BigInt.asIntN(64, vm.load(src, { ...opts, context: memory(0), maps: [rules] }).run());
    expect(run(change(2, 16, 1))).toBe(0n);
    expect(rules.lookupNumber(cidrKey('10.1.2.3'))).toBe(7);
    expect(run(change(2, 16, 1, BPF_NOEXIST))).toBe(-17n); // EEXIST
    expect(run(change(2, 16, 2, BPF_EXIST))).toBe(-2n); // ENOENT
    expect(run(change(2, 33, 1))).toBe(-22n); // EINVAL: longer than the data
    expect(run(change(2, 16, 2))).toBe(0n);
    expect(run(change(2, 8, 0))).toBe(-28n); // ENOSPC: full
    expect(run(change(3, 8, 0))).toBe(-2n); // ENOENT
    expect(run(change(3, 16, 1))).toBe(0n);
    expect([...rules.keys()].map(show)).toEqual(['10.2.0.0/16']);
  });
});

it('the JIT calls the LPM lookup directly from verified code: no JavaScript', () => {
  const vm = new Vm();
  const rules = vm.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 8, flags: BPF_F.NO_PREALLOC });
  const p = vm.load(FILTER, { engine: 'jit', tier: 'baseline', context: memory(20), maps: [rules] });
  const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [rules], tier: 'baseline' });
  expect(wat).toContain('(import "maps" "lpm_lookup"');
  expect(wat).not.toContain('(import "env" "helper"');
});

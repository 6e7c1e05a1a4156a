/**
 * include/bpf, the headers C programs are written against: every helper bpfjit registers is declared
 * under its number and name (always), the generator reproduces the declarations from the kernel's
 * UAPI header (when it is installed), and a libbpf-style program compiles with `-I include`, alone
 * or after <linux/bpf.h> (when clang is installed; skipped otherwise).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { standardRegistry } from '../src/runtime/standard-helpers.js';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
const INCLUDE = join(TEST_DIR, '..', 'include');
const DEFS = join(INCLUDE, 'bpf', 'bpf_helper_defs.h');
const PROGRAM = join(TEST_DIR, 'fixtures', 'include', 'libbpf-style.bpf.c');
const UAPI = '/usr/include/linux/bpf.h';
/** Where Debian puts asm/types.h, which <linux/types.h> needs and -target bpf does not search. */
const ASM_DIR = '/usr/include/x86_64-linux-gnu';

/** name -> [number, declaration] of every `static T (* const bpf_name)(args) = (void *) N;`. */
function declarations(text: string): Map<string, [number, string]> {
  const found = new Map<string, [number, string]>();
  for (const m of text.matchAll(/^static [^(]*\(\* const bpf_(\w+)\)\(.*\) = \(void \*\) (\d+);$/gm)) {
    expect(found.has(m[1]!), `bpf_${m[1]} declared twice`).toBe(false);
    found.set(m[1]!, [Number(m[2]), m[0]]);
  }
  return found;
}

const registered = (): Array<[number, string]> => {
  const registry = standardRegistry();
  const out: Array<[number, string]> = [];
  for (let id = 0; id < 1024; id++) {
    const spec = registry.get(id);
    if (spec) out.push([id, spec.name]);
  }
  return out;
};

describe('bpf_helper_defs.h', () => {
  const defs = declarations(readFileSync(DEFS, 'utf8'));

  it('declares every helper bpfjit registers, under its number and name', () => {
    const helpers = registered();
    expect(helpers.length).toBeGreaterThan(30);
    for (const [id, name] of helpers) expect([name, defs.get(name)?.[0]]).toEqual([name, id]);
  });

  it('gives each number to one helper, and the kernel\'s well-known ones theirs', () => {
    const numbers = [...defs.values()].map(([n]) => n);
    expect(new Set(numbers).size).toBe(numbers.length);
    const known: Array<[string, number]> = [['map_lookup_elem', 1], ['trace_printk', 6], ['tail_call', 12], ['skb_store_bytes', 9],
      ['redirect', 23], ['xdp_adjust_head', 44], ['ringbuf_output', 130], ['loop', 181]];
    for (const [name, id] of known) expect([name, defs.get(name)?.[0]]).toEqual([name, id]);
    expect(defs.get('map_lookup_elem')![1]).toBe('static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;');
  });

  it.skipIf(!existsSync(UAPI))('is what include/gen-helper-defs.mjs makes of the installed UAPI header, for every helper both know', () => {
    const r = spawnSync(process.execPath, [join(INCLUDE, 'gen-helper-defs.mjs'), UAPI], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const fresh = declarations(r.stdout);
    // Another kernel's header may know more or fewer helpers; the ones both know must agree.
    const common = [...defs.keys()].filter((name) => fresh.has(name));
    expect(common.length).toBeGreaterThan(150);
    for (const name of common) expect(fresh.get(name)).toEqual(defs.get(name));
  });
});

const has = (tool: string): boolean => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
const haveClang = has('clang');
if (!haveClang) console.warn('include-header: clang not found; compiling C against include/ skipped');

describe.skipIf(!haveClang)('a libbpf-style program compiles against include/', () => {
  const work = mkdtempSync(join(tmpdir(), 'bpfjit-include-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const compile = (args: string[], out: string): void => {
    const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-Wall', '-Werror', '-I', INCLUDE, ...args, '-c', PROGRAM, '-o', join(work, out)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  };

  it('alone: the types, maps, helpers, CO-RE reads and byte order come from include/', () => {
    compile([], 'alone.o');
    expect(existsSync(join(work, 'alone.o'))).toBe(true);
  });

  it.skipIf(!existsSync(UAPI) || !existsSync(ASM_DIR))('after <linux/bpf.h>: no definition clashes', () => {
    compile(['-include', 'linux/bpf.h', '-idirafter', ASM_DIR], 'kernel.o');
    expect(existsSync(join(work, 'kernel.o'))).toBe(true);
  });
});

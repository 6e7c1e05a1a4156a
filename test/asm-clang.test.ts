/**
 * Our assembler against the real LLVM toolchain, when installed (skipped otherwise):
 * - clang compiles C for -target bpf; our assembly of `llvm-objdump -d` text must equal the .text
 *   bytes that llvm-objcopy extracts;
 * - llvm-mc assembles our LLVM-syntax disassembly of the conformance programs; its bytes must equal
 *   ours (this checks that what we print is LLVM's syntax, not just something we can read back).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceFiles, conformancePresent, readConformance } from './conformance-suite.js';
import { assembleBytes, disassemble } from '../src/asm/index.js';
import { decode } from '../src/isa/decode.js';
import type { Insn } from '../src/isa/insn.js';

const has = (tool: string): boolean => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
const haveClang = has('clang') && has('llvm-objdump') && has('llvm-objcopy');
const haveMc = has('llvm-mc') && has('llvm-objcopy');
if (!haveClang) console.warn('asm-clang: clang, llvm-objdump or llvm-objcopy not found; clang comparison skipped');
if (!haveMc) console.warn('asm-clang: llvm-mc not found; llvm-mc comparison skipped');

const work = mkdtempSync(join(tmpdir(), 'bpfjit-asm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function textSection(obj: string): Buffer {
  const bin = obj.replace(/\.o$/, '.bin');
  run('llvm-objcopy', ['-O', 'binary', '--only-section=.text', obj, bin]);
  return readFileSync(bin);
}

const PROGRAMS: Record<string, string> = {
  filter: `
    typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
    int filter(u8 *pkt, long len) {
      if (len < 54) return 0;
      u16 proto = (u16)(pkt[12] << 8 | pkt[13]);
      if (proto != 0x0800 || (pkt[23] != 6)) return 0;
      u32 ihl = (pkt[14] & 0xf) * 4;
      u16 dport = (u16)(pkt[14 + ihl + 2] << 8 | pkt[14 + ihl + 3]);
      switch (dport) { case 80: return 1; case 443: return 2; case 8080: return 3; default: return -1; }
    }`,
  arith: `
    typedef unsigned long u64; typedef long s64;
    u64 arith(u64 *p, s64 x, int y) {
      u64 v = p[1] + 0x1122334455667788ULL;
      if (x > 5) v ^= (u64)x << 3; if ((s64)v < -3) v = v / (u64)x; if (y == 5) v %= 13;
      v += (s64)(signed char)y + (short)x + ((s64)v >> 7) - (unsigned)x % 13 + __builtin_bswap64(v);
      *((unsigned short *)p + 7) = (unsigned short)x; *((int *)p + 9) = -1; *((u64 *)p + 5) = -100;
      for (int i = 0; i < 8; i++) v = v * 31 + ((unsigned char *)p)[i];
      return v;
    }`,
  atomics: `
    typedef unsigned long u64; typedef unsigned int u32;
    u64 atomics(u64 *p, u64 x, u32 *q) {
      __sync_fetch_and_add(p, 5);
      u64 old = __sync_fetch_and_add(p + 2, x);
      __sync_fetch_and_or(p, 1);
      u64 o2 = __sync_fetch_and_xor(p + 3, x);
      u64 z = __sync_lock_test_and_set(p + 4, x);
      u64 w = __sync_val_compare_and_swap(p + 5, x, old);
      __sync_fetch_and_add(q, 3u);
      return old + o2 + z + w;
    }`,
  calls: `
    static __attribute__((noinline)) int twice(int a) { return a * 2 + 1; }
    static __attribute__((noinline)) long sum(long *p, int n) { long s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }
    long calls(long *p, int n) { return twice(n) + sum(p, n) + twice((int)p[0]); }`,
};

/** The -mcpu values this clang accepts, from v1 up to v4 where available. */
const CPUS = haveClang ? ['v1', 'v2', 'v3', 'v4'].filter((cpu) =>
  spawnSync('clang', ['-target', 'bpf', `-mcpu=${cpu}`, '-x', 'c', '-c', '-o', '/dev/null', '-'], { input: 'int f(void){return 0;}' }).status === 0) : [];

describe.skipIf(!haveClang)('llvm-objdump output of clang -target bpf', () => {
  const cases = Object.keys(PROGRAMS).flatMap((name) => CPUS.map((cpu) => [name, cpu] as const));
  it.each(cases)('%s at -mcpu=%s', (name, cpu) => {
    const src = join(work, `${name}.c`);
    const obj = join(work, `${name}-${cpu}.o`);
    writeFileSync(src, PROGRAMS[name]!);
    run('clang', ['-O2', '-target', 'bpf', `-mcpu=${cpu}`, '-c', src, '-o', obj]);
    const expected = textSection(obj).toString('hex');
    for (const extra of [[], ['--mattr=+alu32']]) {
      const listing = run('llvm-objdump', ['-d', ...extra, obj]);
      expect(Buffer.from(assembleBytes(listing)).toString('hex'), `${name} ${cpu} ${extra.join(' ')}\n${listing}`).toBe(expected);
    }
    // Without the bytes column the text alone must do, unless it holds something only bytes can say.
    const bare = run('llvm-objdump', ['-d', '--no-show-raw-insn', '--mattr=+alu32', obj]);
    if (!/<unknown>|\bcall\b/.test(bare)) expect(Buffer.from(assembleBytes(bare)).toString('hex'), bare).toBe(expected);
  });
});

/**
 * Forms LLVM 14's assembler parses: it predates cpu v4 and the fetch-atomic syntax, and its parser
 * lacks jset, store-immediate and `%=` (newer releases parse all of these).
 */
function llvmMcKnows(insn: Insn): boolean {
  switch (insn.kind) {
    case 'alu': return !['sdiv', 'smod', 'mod', 'movsx8', 'movsx16', 'movsx32'].includes(insn.op);
    case 'end': return insn.order !== 'swap';
    case 'ja': return !insn.long;
    case 'ldx': return !insn.signed;
    case 'atomic': return !insn.fetch && insn.op === 'add';
    case 'call': return insn.mode !== 'kfunc';
    case 'callx': return false;
    case 'lddw': return insn.src === 0;
    case 'jmp': return insn.cond !== 'jset';
    case 'st': return false;
    case 'exit': case 'stx': case 'ldabs': return true;
  }
}

describe.skipIf(!haveMc || !conformancePresent)('llvm-mc reads our LLVM-syntax disassembly', () => {
  it('reproduces the bytes of every conformance program whose forms it knows', () => {
    let checked = 0;
    for (const file of conformanceFiles()) {
      const data = readConformance(file);
      const bytes = data.raw ?? assembleBytes(data.asm!, 'ubpf');
      const insns = decode(bytes);
      if (!insns.every(llvmMcKnows)) continue;
      const asm = join(work, file.replace(/\.data$/, '.s'));
      const obj = asm.replace(/\.s$/, '.o');
      writeFileSync(asm, disassemble(insns, 'llvm', { labels: true }) + '\n');
      run('llvm-mc', ['-triple', 'bpfel', '-filetype=obj', '-o', obj, asm]);
      expect(textSection(obj).toString('hex'), file).toBe(Buffer.from(bytes).toString('hex'));
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mixedProgram } from '../bench/load-1m.js';
import { disassemble } from '../src/asm/index.js';
import { decode } from '../src/isa/decode.js';
import { cli, expectOneLineFailure, scratch } from './cli-helpers.js';

const { dir, write } = scratch('bpfjit-cli-');

// Sum of the first two bytes of the input: exercises r1/r2 set-up and loads.
const SUM = write('sum.s', 'ldxb %r0, [%r1]\nldxb %r3, [%r1+1]\nadd %r0, %r3\nexit\n');
const LEN = write('len.s', 'r0 = r2\nexit\n');

describe('bpfjit run', () => {
  for (const engine of ['interp', 'jit']) {
    it(`prints r0 with --engine ${engine}`, () => {
      const r = cli('run', SUM, '--engine', engine, '--mem-hex', '05 fa');
      expect(r.err).toBe('');
      expect(r.out).toBe('0xff\n');
      expect(r.code).toBe(0);
    });
  }

  it('builds a kernel context around the packet with --context, verified and unverified', () => {
    const ethertype = write('ethertype.s', 'r6 = r1\nr0 = *(u16 *)skb[12]\nr2 = *(u32 *)(r6 + 0)\nr0 += r2\nexit\n');
    const frame = '000000000000 000000000000 86dd 00';
    for (const extra of [[], ['--unverified']]) {
      const r = cli('run', ethertype, '--context', 'socket', '--mem-hex', frame, ...extra);
      expect(r.out).toBe(`0x${(0x86dd + 15).toString(16)}\n`); // the Ethernet type plus skb->len
      expect(r.code).toBe(0);
    }
    const refused = cli('run', ethertype, '--context', 'xdp', '--mem-hex', frame);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('E_VERIFY_LD_ABS');
    expect(cli('run', ethertype, '--context', 'bogus', '--mem-hex', frame).code).toBe(2);
    expect(cli('run', ethertype, '--context', 'tc', '--type', 'xdp', '--mem-hex', frame).code).toBe(2);
  });

  it('passes the input length in r2', () => {
    expect(cli('run', LEN, '--mem-hex', '010203').out).toBe('0x3\n');
    const memFile = write('mem.bin', 'abcdefg');
    expect(cli('run', LEN, '--mem', memFile).out).toBe('0x7\n');
  });

  it('prints a median with --repeat, and how it was measured', () => {
    const r = cli('run', SUM, '--mem-hex', '0102', '--repeat', '200');
    expect(r.out).toMatch(/^0x3\nmedian [\d.,]+ ns per run \(\d+ samples of [\d,]+ runs, after [\d.]+ s of warm-up(; not stable: .*)?\)\n$/);
  });

  it('runs raw bytecode files', () => {
    const bin = join(dir, 'sum.bin');
    expect(cli('asm', SUM, '-o', bin).code).toBe(0);
    expect(readFileSync(bin).length).toBe(4 * 8);
    expect(cli('run', bin, '--mem-hex', '0102').out).toBe('0x3\n');
  });

  it('uses a .data file\'s memory', () => {
    const data = write('t.data', '-- asm\nldxh %r0, [%r1+1]\nexit\n-- mem\n00 34 12\n-- result\n0x1234\n');
    expect(cli('run', data, '--engine', 'interp').out).toBe('0x1234\n');
  });

  const OOB = write('oob.s', 'mov %r0, 0\nldxw %r0, [%r1+100]\nexit\n');

  it('refuses an out-of-bounds read before running, naming the pc', () => {
    const r = cli('run', OOB, '--mem-hex', '00');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pc 1: r0 = \*\(u32 \*\)\(r1 \+ 100\)/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  for (const engine of ['interp', 'jit']) {
    it(`--unverified runs checked and faults at the pc (${engine})`, () => {
      const r = cli('run', OOB, '--mem-hex', '00', '--unverified', '--engine', engine);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/pc 1: .*E_RUN_MEMORY|pc 1:/);
      expect(r.out).toBe('');
    });
  }

  it('runs a packet program with --type packet', () => {
    const pkt = write('pkt.s', [
      'r2 = *(u64 *)(r1 + 0)', 'r3 = *(u64 *)(r1 + 8)', 'r0 = 0', 'r4 = r2', 'r4 += 2',
      'if r4 > r3 goto +1', 'r0 = *(u16 *)(r2 + 0)', 'exit',
    ].join('\n'));
    expect(cli('run', pkt, '--type', 'packet', '--mem-hex', '3412ff').out).toBe('0x1234\n');
    expect(cli('run', pkt, '--type', 'packet', '--mem-hex', '34').out).toBe('0x0\n');
  });
});

describe('bpfjit verify and run --termination budget', () => {
  // strcmp of two strings in the input, scanned to a NUL or the end: bounded by the data only.
  const strcmp = join(import.meta.dirname, '..', 'bench', 'programs', 'strcmp.bin');
  const input = '08000000' + '10000000' + '61626300' + '00000000' + '61626400' + '000000'.padEnd(8 * 200, '0');

  it('prove a loop bounded by the data safe in a few rounds, and run it with the budget', () => {
    // 808 bytes: the default verifier follows every round and proves the loop ends.
    expect(cli('verify', strcmp, '--mem-hex', input).out).toMatch(/^verified: 26 instructions/);
    const v = cli('verify', strcmp, '--mem-hex', input, '--termination', 'budget');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^verified \(safe; a loop is not proven to end: runs keep the instruction budget\): 26 instructions/);
    for (const engine of ['interp', 'jit']) {
      expect(cli('run', strcmp, '--mem-hex', input, '--termination', 'budget', '--engine', engine).out.trim()).toBe('0xffffffff');
    }
  });
});

describe('bpfjit verify', () => {
  it('prints a one-line summary and exits 0 for a safe program', () => {
    const r = cli('verify', SUM, '--mem-hex', '0102');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^verified: 4 instructions, memory\(2\): \d+ instructions processed, \d+ states stored \(peak \d+\), [\d.]+ ms\n$/);
  });

  it('exits 1 with the pc, instruction and code for an unsafe one', () => {
    const r = cli('verify', SUM, '--mem-hex', '01');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pc 1: r3 = \*\(u8 \*\)\(r1 \+ 1\).*\[E_VERIFY_\w+\]/);
  });

  it('refuses reading a 64-byte event at offset 62 with a 4-byte load', () => {
    const prog = write('ev.s', 'r0 = *(u32 *)(r1 + 62)\nexit\n');
    expect(cli('verify', prog, '--type', 'event:64').code).toBe(1);
    expect(cli('verify', prog, '--type', 'event:66').code).toBe(0);
  });

  it('prints the state at every instruction with --log-level 2', () => {
    const r = cli('verify', SUM, '--mem-hex', '0102', '--log-level', '2');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').length).toBeGreaterThan(4);
    expect(r.out).toMatch(/r1/);
  });

  it('run --log-level 1 prints the path to a refusal, like verify', () => {
    const prog = write('far.s', 'r0 = *(u8 *)(r1 + 8)\nexit\n');
    const r = cli('run', prog, '--mem-hex', '0102', '--log-level', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/path to the refused instruction[^]*\nbpfjit: refused: pc 0: .*\[E_VERIFY_MEM_ACCESS\]\n$/);
  });

  it('rejects a bad --type or --log-level with exit 2', () => {
    expect(cli('verify', SUM, '--type', 'tape').code).toBe(2);
    expect(cli('verify', SUM, '--log-level', '7').code).toBe(2);
    expect(cli('verify', SUM, '--termination', 'maybe').err).toMatch(/--termination must be prove or budget/);
  });
});

describe('bad input exits 2 with one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown engine', ['run', SUM, '--engine', 'fast'], /--engine/],
    ['missing file', ['run', join(dir, 'nope.s')], /cannot read/],
    ['bad hex', ['run', SUM, '--mem-hex', 'zz'], /hex/],
    ['bad repeat', ['run', SUM, '--repeat', '-3'], /--repeat/],
    ['bad syntax name', ['asm', SUM, '-o', join(dir, 'x'), '--syntax', 'att'], /--syntax/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['assembly error', ['run', write('bad.s', 'mov %r0, 1\nfrob %r1\nexit\n')], /bad\.s:2:1: .*\[E_ASM_MNEMONIC\]$/m],
    ['missing conformance dir', ['conformance', join(dir, 'no-such-dir')], /does not exist/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, () => {
      expectOneLineFailure(cli(...args), 2, pattern);
    });
  }
});

describe('bpfjit conformance', () => {
  it('prints failures and a closing count, exiting 1 on failure', () => {
    const suite = mkdtempSync(join(tmpdir(), 'bpfjit-suite-'));
    writeFileSync(join(suite, 'good.data'), '-- asm\nmov %r0, 7\nexit\n-- result\n0x7\n');
    writeFileSync(join(suite, 'wrong.data'), '-- asm\nmov %r0, 7\nexit\n-- result\n0x8\n');
    writeFileSync(join(suite, 'refused.data'), '-- asm\nfrob %r0\nexit\n-- error\nInvalid mnemonic\n');
    const r = cli('conformance', suite, '--engine', 'both');
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines[lines.length - 1]).toBe('2 passed, 1 failed');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([expect.stringMatching(/wrong\.data: .*expected 0x8, got 0x7/)]);
  });

  it('counts a file expecting an error as refused when the verifier refuses it, --unverified too', () => {
    const suite = mkdtempSync(join(tmpdir(), 'bpfjit-suite-'));
    writeFileSync(join(suite, 'uninit.data'), '-- asm\nor %r0, %r10\nexit\n-- error\nInvalid\n');
    for (const flags of [[], ['--unverified']]) {
      const r = cli('conformance', suite, '--engine', 'both', '-v', ...flags);
      expect(r.out, flags.join(' ')).toMatch(/^pass .*uninit\.data: E_VERIFY_UNINIT_REGISTER/);
      expect(r.code).toBe(0);
    }
  });
});

describe('inspection commands', () => {
  it('disassembles in both syntaxes', () => {
    expect(cli('disasm', SUM, '--syntax', 'ubpf').out).toContain('add %r0, %r3');
    expect(cli('disasm', SUM, '--syntax', 'llvm').out).toContain('r0 += r3');
  });

  it('prints the CFG as dot', () => {
    const branchy = write('branch.s', 'mov %r0, 0\njeq %r2, 0, out\nmov %r0, 1\nout:\nexit\n');
    const r = cli('cfg', branchy, '--dot');
    expect(r.out).toMatch(/^digraph cfg \{/);
    expect(r.out).toContain('b0 -> b3 [label="taken"]');
    expect(r.out).toContain('b0 -> b2;');
  });

  it('dumps the generated WebAssembly', () => {
    const r = cli('dump-wasm', SUM);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\(module/);
    expect(r.out).toContain('$err_code'); // checked mode: the loads are bounds-checked
  });

  it('runs in either tier, and refuses an unknown one', () => {
    for (const tier of ['baseline', 'optimized', 'auto']) expect(cli('run', SUM, '--mem-hex', '05fa', '--tier', tier).out).toBe('0xff\n');
    expect(cli('run', SUM, '--mem-hex', '05fa', '--tier', 'fast').code).toBe(2);
  });

  it('dumps either tier', () => {
    const baseline = cli('dump-wasm', SUM, '--type', 'memory:2');
    const optimized = cli('dump-wasm', SUM, '--type', 'memory:2', '--tier', 'optimized');
    expect([baseline.code, optimized.code]).toEqual([0, 0]);
    // binaryen's passes fold the chains of local writes the code generator emits, one per instruction.
    const sets = (wat: string): number => wat.split('local.set').length;
    expect(sets(optimized.out)).toBeLessThan(sets(baseline.out));
    expect(cli('dump-wasm', SUM, '--tier', 'fast').code).toBe(2);
  });

  it('dumps the verified code with --type, and refuses what the verifier refuses', () => {
    const verified = cli('dump-wasm', SUM, '--type', 'memory:2');
    expect(verified.code).toBe(0);
    // No bounds check traps: only take_error's reset of the code is left.
    expect(verified.out.match(/global\.set \$err_code/g)).toHaveLength(1);
    const refused = cli('dump-wasm', SUM, '--type', 'memory:1');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/pc 1: .*outside the 1-byte memory region/);
    expect(cli('dump-wasm', SUM, '--type', 'memory').code).toBe(2);
  });
});

describe('programs that are well formed but unsafe', () => {
  const UNINIT = write('uninit.s', 'r0 = r5\nexit\n');
  const FP_WRITE = write('fp.s', 'r0 = 0\nr10 = 0\nexit\n');

  it('are refused by verify with exit 1 and the verifier\'s code', () => {
    const uninit = cli('verify', UNINIT);
    expect(uninit.code).toBe(1);
    expect(uninit.err).toMatch(/pc 0: r0 = r5: .*\[E_VERIFY_UNINIT_REGISTER\]/);
    const fp = cli('verify', FP_WRITE);
    expect(fp.code).toBe(1);
    expect(fp.err).toMatch(/pc 1: r10 = 0: .*\[E_VERIFY_WRITE_R10\]/);
  });

  it('can still be disassembled and drawn', () => {
    for (const prog of [UNINIT, FP_WRITE]) {
      expect(cli('disasm', prog).code).toBe(0);
      expect(cli('cfg', prog).code).toBe(0);
    }
    expect(cli('disasm', UNINIT).out).toBe('r0 = r5\nexit\n');
    expect(cli('cfg', FP_WRITE).out).toContain('1: r10 = 0');
  });

  for (const engine of ['interp', 'jit']) {
    it(`run --unverified reads an uninitialized register as 0 (${engine})`, () => {
      const r = cli('run', UNINIT, '--unverified', '--engine', engine);
      expect(r.err).toBe('');
      expect(r.out).toBe('0x0\n');
    });
    it(`run --unverified refuses a write to r10, the read-only frame pointer, with exit 1 (${engine})`, () => {
      const r = cli('run', FP_WRITE, '--unverified', '--engine', engine);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/pc 1: .*\[E_VERIFY_WRITE_R10\]/);
    });
  }
});

describe('disasm decodes only', () => {
  it('prints a program whose jump leaves it, which cfg refuses', () => {
    const broken = write('broken.s', 'r0 = 1\nif r0 > 2 goto +5\nexit\n');
    const r = cli('disasm', broken);
    expect(r.code).toBe(0);
    expect(r.out).toBe('r0 = 1\nif r0 > 2 goto +5\nexit\n');
    const cfg = cli('cfg', broken);
    expect(cfg.code).toBe(2);
    expect(cfg.err).toMatch(/pc 1: jump target 7/);
  });

  it('streams a long program whole, in order', () => {
    const bin = join(dir, 'long.bin');
    const bytes = mixedProgram(20_000);
    writeFileSync(bin, bytes);
    const r = cli('disasm', bin);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${disassemble(decode(bytes), 'llvm')}\n`);
  });
});

describe('--max-insns', () => {
  const three = write('three.s', 'r0 = 1\nr0 += 1\nexit\n');

  it('refuses a larger program with exit 2, naming the size and the limit', () => {
    for (const command of ['verify', 'run', 'disasm', 'cfg', 'dump-wasm']) {
      const r = cli(command, three, '--max-insns', '2');
      expect(r.code, command).toBe(2);
      expect(r.err, command).toMatch(/program has 3 instruction slots, more than the limit of 2/);
    }
  });

  it('accepts programs up to the limit and refuses a bad value', () => {
    expect(cli('run', three, '--max-insns', '3').out).toBe('0x2\n');
    expect(cli('disasm', three, '--max-insns', 'lots').code).toBe(2);
  });
});

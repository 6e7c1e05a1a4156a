// The kernel's contexts (xdp_md, __sk_buff) and the legacy packet loads, through every engine and mode.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InputError, Vm, VerifyError, assemble, buildContext, disassemble, encode, loadObject, parseObject, socketFilter, tc, xdp,
  type ContextDescriptor,
} from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import { ENGINES } from './engines.js';

beforeAll(() => loadOptimizer());

const FIXTURES = join(__dirname, 'fixtures', 'ctx');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, `${name}.bin`)));

interface PacketSpec { etherType?: number; proto?: number; dport?: number; ihl?: number; cut?: number }

/** Ethernet + IPv4 (ihl words of header) + a TCP header, cut to `cut` bytes if given. */
function packet({ etherType = 0x0800, proto = 6, dport = 80, ihl = 5, cut }: PacketSpec = {}): Uint8Array {
  const p = new Uint8Array(14 + ihl * 4 + 20);
  p[12] = etherType >> 8;
  p[13] = etherType & 0xff;
  p[14] = 0x40 | ihl;
  p[23] = proto;
  const tcp = 14 + ihl * 4;
  p[tcp] = 0x30; // source port 12345, ignored
  p[tcp + 2] = dport >> 8;
  p[tcp + 3] = dport & 0xff;
  return cut === undefined ? p : p.slice(0, cut);
}

const XDP_DROP = 1n;
const XDP_PASS = 2n;

const CASES: ReadonlyArray<[string, PacketSpec, boolean]> = [
  ['TCP to port 80', {}, true],
  ['TCP to port 80 behind IP options', { ihl: 6 }, true],
  ['TCP to port 22', { dport: 22 }, false],
  ['UDP to port 80', { proto: 17 }, false],
  ['IPv6', { etherType: 0x86dd }, false],
  ['a packet cut inside the TCP header', { cut: 14 + 20 + 3 }, false],
  ['a packet cut inside the Ethernet header', { cut: 10 }, false],
];

describe.each(ENGINES)('programs compiled against the kernel headers (%s)', (_name, options) => {
  it('an XDP filter reading ctx->data / data_end drops TCP to port 80 and passes the rest', () => {
    const prog = new Vm().load(fixture('xdp_port80'), { ...options, context: xdp() });
    for (const [what, spec, port80] of CASES) expect(prog.run(packet(spec)), what).toBe(port80 ? XDP_DROP : XDP_PASS);
  });

  it('a socket filter reading the packet with LD_ABS / LD_IND keeps TCP to port 80', () => {
    const prog = new Vm().load(fixture('socket_port80'), { ...options, context: socketFilter() });
    for (const [what, spec, port80] of CASES) {
      const p = packet(spec);
      expect(prog.run(p), what).toBe(port80 ? BigInt(p.length) : 0n);
    }
  });

  it('both filters load from their objects as clang wrote them, on the contexts their sections name', () => {
    for (const name of ['xdp_port80', 'socket_port80']) {
      const spec = parseObject(new Uint8Array(readFileSync(join(FIXTURES, `${name}.o`))));
      const prog = loadObject(new Vm(), spec, options).program(name);
      expect(prog.context?.name).toBe(name === 'xdp_port80' ? xdp().name : socketFilter().name);
      for (const [what, spec_, port80] of CASES) {
        const p = packet(spec_);
        const want = name === 'xdp_port80' ? (port80 ? XDP_DROP : XDP_PASS) : port80 ? BigInt(p.length) : 0n;
        expect(prog.run(p), `${name}: ${what}`).toBe(want);
      }
    }
  });

  it('an out-of-range legacy load ends the program with r0 = 0, whatever follows', () => {
    const prog = new Vm().load('r6 = r1\nr0 = 5\nr0 = *(u32 *)skb[60]\nr0 = 9\nexit', { ...options, context: tc() });
    expect(prog.run(new Uint8Array(64))).toBe(9n);
    expect(prog.run(new Uint8Array(63))).toBe(0n);
    const negative = new Vm().load('r6 = r1\nr2 = -1\nr0 = *(u8 *)skb[r2]\nr0 = 9\nexit', { ...options, context: tc() });
    expect(negative.run(new Uint8Array(64))).toBe(0n);
  });

  it('LD_IND takes the low 32 bits of src + imm as the offset, and reads in network order', () => {
    const prog = new Vm().load('r6 = r1\nr2 = 0x10000000a ll\nr0 = *(u32 *)skb[r2 + 2]\nexit', { ...options, context: socketFilter() });
    const p = new Uint8Array(20);
    p.set([0xde, 0xad, 0xbe, 0xef], 12);
    expect(prog.run(p)).toBe(0xdeadbeefn);
  });

  it('tc reads the fields the host gave and writes mark', () => {
    const text = 'r0 = *(u32 *)(r1 + 40)\nr2 = *(u32 *)(r1 + 16)\nr0 += r2\n*(u32 *)(r1 + 8) = 77\nexit';
    const vm = new Vm();
    const prog = vm.load(text, { ...options, context: tc() });
    const { addr, len } = buildContext(vm.mem, 'tc', packet(), { ifindex: 3 });
    expect(prog.exe.run(addr, len)).toBe(3n + 0x0008n); // skb->protocol: ETH_P_IP as on the wire
    expect(vm.mem.view.getUint32(addr + 8, true)).toBe(77);
  });
});

describe('the entry checks of the kernel contexts', () => {
  it.each(ENGINES.filter(([name]) => !name.endsWith('checked')))('refuse data_meta != data and a packet outside the heap (%s)', (_name, options) => {
    const vm = new Vm();
    const prog = vm.load('r2 = *(u32 *)(r1 + 8)\nr0 = 0\nexit', { ...options, context: xdp() });
    const { addr, len } = buildContext(vm.mem, 'xdp', packet());
    expect(prog.exe.run(addr, len)).toBe(0n);
    vm.mem.view.setUint32(addr + 8, vm.mem.view.getUint32(addr, true) - 4, true);
    expect(() => prog.exe.run(addr, len)).toThrow(InputError);
    vm.mem.view.setUint32(addr + 8, vm.mem.view.getUint32(addr, true), true);
    vm.mem.view.setUint32(addr + 4, 0xfffffff0, true);
    expect(() => prog.exe.run(addr, len)).toThrow(/data_end/);
  });
});

function refused(text: string, context: ContextDescriptor): { code: string; pc: number } {
  try {
    new Vm().load(text, { context });
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    return { code: (e as VerifyError).code, pc: (e as VerifyError).pc };
  }
  throw new Error('expected a refusal');
}

const accepted = (text: string, context: ContextDescriptor): void => {
  expect(() => new Vm().load(text, { context })).not.toThrow();
};

describe('the kernel contexts in the verifier', () => {
  it('refuse what the kernel refuses, at the access', () => {
    expect(refused('r0 = 0\nr2 = *(u32 *)(r1 + 76)\nexit', socketFilter())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\n*(u32 *)(r1 + 8) = 1\nexit', socketFilter())).toEqual({ code: 'E_VERIFY_CTX_READONLY', pc: 1 });
    expect(refused('r0 = 0\n*(u32 *)(r1 + 12) = 1\nexit', xdp())).toEqual({ code: 'E_VERIFY_CTX_READONLY', pc: 1 });
    expect(refused('r0 = 0\nr2 = *(u32 *)(r1 + 24)\nexit', xdp())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\nr2 = *(u8 *)(r1 + 12)\nexit', xdp())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\nr2 = *(u16 *)(r1 + 76)\nexit', tc())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\n*(u16 *)(r1 + 8) = 1\nexit', tc())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\nr2 = *(u16 *)(r1 + 1)\nexit', tc())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
    expect(refused('r0 = 0\n*(u32 *)(r1 + 0) = 1\nexit', tc())).toEqual({ code: 'E_VERIFY_CTX_READONLY', pc: 1 });
    expect(refused('r0 = 0\nr2 = *(u32 *)(r1 + 88)\nexit', tc())).toEqual({ code: 'E_VERIFY_CTX_ACCESS', pc: 1 });
  });

  it('allow what the kernel allows', () => {
    accepted('r0 = *(u16 *)(r1 + 2)\n*(u8 *)(r1 + 49) = 1\nexit', socketFilter()); // narrow len, cb[] bytes
    accepted('r2 = *(u32 *)(r1 + 8)\nr3 = *(u32 *)(r1 + 0)\nr4 = *(u32 *)(r1 + 4)\nr0 = *(u32 *)(r1 + 20)\nexit', xdp());
    accepted('*(u32 *)(r1 + 8) = 1\n*(u32 *)(r1 + 32) = 2\n*(u64 *)(r1 + 152) = 3\nr2 = *(u32 *)(r1 + 140)\nr0 = 0\nexit', tc());
  });

  it('refuse LD_ABS / LD_IND where the kernel does', () => {
    expect(refused('r6 = r1\nr0 = *(u8 *)skb[0]\nexit', xdp())).toEqual({ code: 'E_VERIFY_LD_ABS', pc: 1 });
    expect(refused('r0 = *(u8 *)skb[0]\nexit', tc())).toEqual({ code: 'E_VERIFY_UNINIT_REGISTER', pc: 0 });
    expect(refused('r6 = r1\nr6 += 4\nr0 = *(u8 *)skb[0]\nexit', tc())).toEqual({ code: 'E_VERIFY_LD_ABS', pc: 2 });
    expect(refused('r6 = r10\nr0 = *(u8 *)skb[0]\nexit', tc())).toEqual({ code: 'E_VERIFY_LD_ABS', pc: 1 });
    expect(refused('r6 = r1\nr0 = *(u8 *)skb[r7]\nexit', tc())).toEqual({ code: 'E_VERIFY_UNINIT_REGISTER', pc: 1 });
    expect(refused('r6 = r1\nr0 = *(u8 *)skb[0]\nr0 = r1\nexit', tc())).toEqual({ code: 'E_VERIFY_UNINIT_REGISTER', pc: 2 });
    expect(refused('call pc+2\nr0 = 0\nexit\nr6 = r1\nr0 = *(u8 *)skb[0]\nexit', tc())).toEqual({ code: 'E_VERIFY_LD_ABS', pc: 4 });
  });
});

describe('the legacy packet loads in assembly', () => {
  const LLVM = [
    'r0 = *(u8 *)skb[12]', 'r0 = *(u16 *)skb[-2]', 'r0 = *(u32 *)skb[2147483647]',
    'r0 = *(u8 *)skb[r3]', 'r0 = *(u16 *)skb[r3 + 2]', 'r0 = *(u32 *)skb[r9 - 2147483648]',
  ];
  it('round-trip exactly in both syntaxes, with the kernel opcodes', () => {
    const insns = assemble(LLVM.join('\n'), 'llvm');
    expect(insns.map((i) => i.opcode)).toEqual([0x30, 0x28, 0x20, 0x50, 0x48, 0x40]);
    expect(disassemble(insns, 'llvm').split('\n')).toEqual(LLVM);
    const ubpf = disassemble(insns, 'ubpf');
    expect(ubpf.split('\n')).toEqual(['ldabsb 12', 'ldabsh -2', 'ldabsw 2147483647', 'ldindb %r3, 0', 'ldindh %r3, 2', 'ldindw %r9, -2147483648']);
    expect(encode(assemble(ubpf, 'ubpf'))).toEqual(encode(insns));
  });

  it('refuse a destination other than r0 and 8-byte loads', () => {
    expect(() => assemble('r1 = *(u8 *)skb[12]', 'llvm')).toThrow(/r0/);
    expect(() => assemble('r0 = *(u64 *)skb[12]', 'llvm')).toThrow(/u8, u16 or u32/);
  });
});

const clang = (() => {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!clang)('the committed fixtures (clang is installed: rebuilding them)', () => {
  it('match what build.sh makes from the C sources', () => {
    const out = mkdtempSync(join(tmpdir(), 'ctx-'));
    execFileSync(join(FIXTURES, 'build.sh'), [out]);
    const version = readFileSync(join(out, 'clang-version.txt'), 'utf8');
    if (version !== readFileSync(join(FIXTURES, 'clang-version.txt'), 'utf8')) return; // another clang may emit other, valid, code
    for (const name of ['xdp_port80', 'socket_port80']) {
      for (const ext of ['bin', 'o']) expect(readFileSync(join(out, `${name}.${ext}`)), `${name}.${ext}`).toEqual(readFileSync(join(FIXTURES, `${name}.${ext}`)));
    }
  });
});

/**
 * End-to-end soundness: random programs over a memory region; whenever the verifier accepts one, it
 * runs in the interpreter in checked mode and in the JIT compiled with the verifier's facts, the code
 * users run: no bounds checks, no budget, and no guard on a division the verifier called safe. On
 * random inputs neither may fault in any way, and both must leave the same r0 and the same memory
 * (the context and the stack). A bug in range tracking, branch refinement or pruning shows up as a
 * fault in the checked interpreter; a fact that is wrong (a divisor called non-zero that is zero, an
 * access called in bounds that is not) shows up as a trap or a different result in the JIT. Programs
 * accepted with `termination: 'budget'` may run out of budget instead, and must do so in both alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfError, BpfRuntimeError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import { compileJit } from '../src/jit/index.js';
import { buildProgram, type Program } from '../src/program/program.js';
import type { ExecOptions, Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { CONFORMANCE_PROTOS, memory, packet, verify, type VerifierFacts } from '../src/verifier/index.js';

const SIZE = 32;
const REGS = ['r0', 'r2', 'r3', 'r4', 'r5', 'r6'];
const ALU = ['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', 's>>='];
const CMP = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'];
const SIZES = ['u8', 'u16', 'u32', 'u64'];

const reg = fc.constantFrom(...REGS);
const imm = fc.oneof(fc.integer({ min: -4, max: 40 }), fc.constantFrom(0xff, 0xffff, -1, 1 << 30));

/** Straight-line pieces (no jumps). */
const simple = fc.oneof(
  fc.tuple(reg, imm).map(([d, v]) => `${d} = ${v}`),
  fc.tuple(reg, fc.constantFrom(...ALU), imm).map(([d, op, v]) => `${d} ${op} ${v}`),
  fc.tuple(reg, fc.constantFrom(...ALU), reg).map(([d, op, s]) => `${d} ${op} ${s}`),
  fc.tuple(reg, fc.constantFrom('+=', '&=', '>>=', '-='), reg).map(([d, op, s]) => `${d.replace('r', 'w')} ${op} ${s.replace('r', 'w')}`),
  fc.tuple(reg, fc.constantFrom(...SIZES), fc.integer({ min: 0, max: SIZE })).map(([d, sz, off]) => `${d} = *(${sz} *)(r1 + ${off})`),
  // Pointer arithmetic on a copy of r1, then a load through it.
  fc.tuple(reg, reg, fc.constantFrom(...SIZES), fc.integer({ min: -2, max: 8 }))
    .map(([d, idx, sz, off]) => `r7 = r1\nr7 += ${idx}\n${d} = *(${sz} *)(r7 ${off < 0 ? '-' : '+'} ${Math.abs(off)})`),
  // Copies stay linked to the original (also across constant adds), so a test on one bounds both.
  fc.tuple(reg, reg).map(([d, s]) => `${d} = ${s}`),
  // A pointer walked to an end computed from r2 (the region size) and compared before the load.
  fc.tuple(reg, reg, fc.integer({ min: -3, max: 3 })).map(([d, idx, k]) =>
    `r7 = r1\nr7 += ${idx}\nr9 = r1\nr9 += r2\nr9 += ${k}\nif r7 >= r9 goto +1\n${d} = *(u8 *)(r7 + 0)`),
  fc.tuple(reg, fc.integer({ min: 1, max: 8 })).map(([s, slot]) => `*(u64 *)(r10 - ${8 * slot}) = ${s}`),
  fc.tuple(reg, fc.integer({ min: 1, max: 8 })).map(([d, slot]) => `${d} = *(u64 *)(r10 - ${8 * slot})`),
);

/** 32-bit name of a register (w3 for r3) when asked. */
const narrow = (r: string, yes: boolean): string => (yes ? r.replace('r', 'w') : r);

/** Tests of a divisor: the division after `if rS <test> goto +1` runs when the test is false. */
const DIVISOR_TESTS = ['== 0', '< 1', '<= 0', '!= 0', '> 0', 's< 1', 's<= 0', 's> 0', '== 1', '!= -1', 's< 0'];

/**
 * A division by a register behind a test of that register, its operands often loaded from the input
 * just before: after `if rS == 0 goto +1` the divisor is non-zero, after `if rS s< 1`, or a 64-bit test
 * of a 32-bit divisor (0x100000000 is not 0), it may be zero. The verifier's divisorNonZero fact must
 * tell these apart, since the JIT drops its x/0 guard on it (and its INT_MIN / -1 guard on
 * noSignedOverflow).
 */
const guardedDivision = fc.tuple(
  reg, reg, fc.constantFrom(...DIVISOR_TESTS), fc.boolean(), fc.boolean(), fc.constantFrom('/=', '%=', 's/=', 's%='),
  fc.option(fc.tuple(fc.constantFrom(...SIZES), fc.integer({ min: 0, max: SIZE / 8 - 1 }))),
  fc.option(fc.integer({ min: 0, max: SIZE / 8 - 1 })),
).map(([d, s, test, narrowTest, narrowOp, op, load, dividend]) => [
  ...(dividend === null ? [] : [`${d} = *(u64 *)(r1 + ${8 * dividend})`]),
  ...(load ? [`${s} = *(${load[0]} *)(r1 + ${8 * load[1]})`] : []),
  `if ${narrow(s, narrowTest)} ${test} goto +1`,
  `${narrow(d, narrowOp)} ${op} ${narrow(s, narrowOp)}`,
].join('\n'));

/** 64-bit words that make divisors 0, 0 in their low 32 bits only, -1, or INT_MIN. */
const EDGE_WORDS = [0n, 1n, 1n << 32n, 0xffffffffn, 0xffffffff00000000n, 1n << 63n, 1n << 31n, 2n ** 64n - 1n];

/** Inputs made of such words and of bytes rich in zeros and all-ones. */
const inputBytes = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...EDGE_WORDS).map((w) => Array.from({ length: 8 }, (_, i) => Number((w >> BigInt(8 * i)) & 0xffn))) },
    { weight: 1, arbitrary: fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.constant(0xff), fc.nat(255)), { minLength: 8, maxLength: 8 }) },
  ),
  { minLength: SIZE / 8, maxLength: SIZE / 8 },
).map((words) => Uint8Array.from(words.flat()));

/** A counted loop around straight-line pieces; r8 is the counter, also usable as an index. */
const loop = fc.tuple(fc.array(simple, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 40 }), reg)
  .map(([body, n, d]) => {
    const inner = [...body.flatMap((l) => l.split('\n')), 'r7 = r1', 'r7 += r8', `${d} = *(u8 *)(r7 + 0)`];
    return ['r8 = 0', ...inner, 'r8 += 1', `if r8 < ${n} goto -${inner.length + 2}`].join('\n');
  });

/** One piece of a body; `{n}` in a jump is replaced by a forward distance that stays in the body. */
const line = fc.oneof(
  simple,
  loop,
  guardedDivision,
  fc.tuple(reg, fc.constantFrom(...CMP), fc.oneof(reg, imm.map(String))).map(([a, c, b]) => `if ${a} ${c} ${b} goto {n}`),
  fc.tuple(reg, fc.constantFrom(...CMP), reg).map(([a, c, b]) => `if ${a.replace('r', 'w')} ${c} ${b.replace('r', 'w')} goto {n}`),
);

/** Every register starts initialized, stack slots too, so refusals come from the interesting rules. */
function programText(body: readonly string[], jumps: readonly number[]): string {
  const init = [...REGS.map((r, i) => `${r} = ${i}`), 'r7 = 0', 'r8 = 0', 'r9 = 0', ...[1, 2, 3, 4, 5, 6, 7, 8].map((s) => `*(u64 *)(r10 - ${8 * s}) = ${s}`)];
  const lines = body.flatMap((l) => l.split('\n'));
  let j = 0;
  const resolved = lines.map((l, i) => l.replace('{n}', () => `+${Math.min(jumps[j++ % jumps.length]!, lines.length - i - 1)}`));
  return [...init, ...resolved, 'exit'].join('\n');
}

const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry(conformanceHelpers()) };
const mem = rt.mem;
/** The entry frame: the programs here make no calls, so this is all of the stack they can write. */
const frame = { start: mem.frameTop(0) - 512, end: mem.frameTop(0) };

/** One run: what it starts from, the context it gets and the bytes it may write besides its frame. */
interface RunSetup {
  /** Writes the run's input (context, packet) into memory. */
  readonly prepare: () => void;
  readonly ctx: readonly [addr: number, len: number];
  readonly watch: ReadonlyArray<{ readonly start: number; readonly end: number }>;
  /** Regions the checked interpreter allows besides the stack and the context (a packet). */
  readonly regions?: ExecOptions['regions'];
}

const bytesOf = (r: { readonly start: number; readonly end: number }): string => Buffer.from(mem.read(r.start, r.end - r.start)).toString('hex');

/**
 * How a run ended and the memory it may have written, from the same start every time (the input
 * rewritten, the frame zeroed). A fault of any kind means a proof or a fact was wrong, except running
 * out of budget where the program was accepted on the budget.
 */
function outcome(exe: Executable, run: RunSetup, text: string, budgetMayEnd: boolean): string {
  run.prepare();
  mem.bytes.fill(0, frame.start, frame.end);
  let end: string;
  try {
    end = `r0=0x${exe.run(run.ctx[0], run.ctx[1]).toString(16)}`;
  } catch (e) {
    // Faults are BpfRuntimeErrors; a trap outside the JIT's checks is an InternalError (E_INTERNAL).
    if (!(e instanceof BpfError)) throw e;
    const pc = e instanceof BpfRuntimeError ? e.pc : -1;
    if (!(budgetMayEnd && e.code === 'E_RUN_BUDGET')) {
      const engine = exe.engine === 'jit' ? 'JIT compiled with its facts' : 'checked interpreter';
      throw new Error(`accepted program faulted in the ${engine}: ${e.code} at pc ${pc}: ${e.message}\n${text}`);
    }
    end = `${e.code}@${pc}`;
  }
  return [end, ...run.watch.map(bytesOf), `frame=${bytesOf(frame)}`].join(' ');
}

/**
 * Runs an accepted program in the checked interpreter and in the JIT compiled with the verifier's
 * facts; neither may fault, and both must end alike.
 */
function checkAccepted(program: Program, text: string, facts: VerifierFacts, budget: number, runs: readonly RunSetup[]): void {
  const jit = compileJit(program, rt, { facts, budget });
  for (const run of runs) {
    const interp = createInterpreter(program, rt, { budget, regions: run.regions ?? [] });
    const expected = outcome(interp, run, text, facts.needsBudget === true);
    expect(outcome(jit, run, text, facts.needsBudget === true), text).toBe(expected);
  }
}

/** Runs on `inputs` written to a memory(SIZE) context at `addr`. */
const memoryRuns = (addr: number, inputs: readonly Uint8Array[]): RunSetup[] => inputs.map((input) => ({
  prepare: () => mem.write(addr, input), ctx: [addr, SIZE], watch: [{ start: addr, end: addr + SIZE }],
}));

describe('accepted programs run safely', () => {
  const addr = mem.alloc(SIZE);
  let accepted = 0;

  it('on random programs and inputs, in the checked interpreter and in the JIT with the facts', () => {
    fc.assert(fc.property(
      fc.array(line, { minLength: 1, maxLength: 14 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(inputBytes, { minLength: 3, maxLength: 3 }),
      (body, jumps, inputs) => {
        const text = programText(body, jumps);
        const program = buildProgram(assemble(text));
        const result = verify(program, { context: memory(SIZE), helpers: CONFORMANCE_PROTOS });
        if (!result.ok) return;
        accepted++;
        checkAccepted(program, text, result.facts, 100_000, memoryRuns(addr, inputs));
      },
    ), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 1500) });
    // The generator must produce enough accepted programs for the property to mean something.
    expect(accepted).toBeGreaterThan(150);
    if (process.env.VERIFIER_FUZZ_RUNS) console.log(`accepted ${accepted}`);
  });
});

/** Packet programs: r8 = data, r9 = data_end; loads through data and derived pointers after checks. */
const pktLine = fc.oneof(
  fc.tuple(reg, imm).map(([d, v]) => `${d} = ${v}`),
  fc.tuple(reg, fc.constantFrom(...ALU), imm).map(([d, op, v]) => `${d} ${op} ${v}`),
  fc.tuple(reg, fc.constantFrom(...SIZES), fc.integer({ min: -1, max: 24 })).map(([d, sz, off]) => `${d} = *(${sz} *)(r8 ${off < 0 ? '-' : '+'} ${Math.abs(off)})`),
  fc.tuple(reg, fc.constantFrom(...SIZES), fc.integer({ min: -4, max: 8 })).map(([d, sz, off]) => `${d} = *(${sz} *)(r7 ${off < 0 ? '-' : '+'} ${Math.abs(off)})`),
  fc.integer({ min: 0, max: 24 }).map((k) => `r7 = r8\nr7 += ${k}`),
  fc.tuple(reg, fc.constantFrom(0xf, 0x1f, 0xff)).map(([idx, m]) => `r7 = r8\n${idx} &= ${m}\nr7 += ${idx}`),
  fc.constantFrom('>', '>=', '<', '<=').map((c) => `if r7 ${c} r9 goto {n}`),
  fc.constantFrom('>', '>=', '<', '<=').map((c) => `if r9 ${c} r7 goto {n}`),
  fc.tuple(reg, fc.constantFrom(...CMP), imm).map(([a, c, b]) => `if ${a} ${c} ${b} goto {n}`),
);

function packetText(body: readonly string[], jumps: readonly number[]): string {
  const init = ['r8 = *(u64 *)(r1 + 0)', 'r9 = *(u64 *)(r1 + 8)', 'r7 = r8', ...REGS.map((r, i) => `${r} = ${i}`)];
  const lines = body.flatMap((l) => l.split('\n'));
  let j = 0;
  const resolved = lines.map((l, i) => l.replace('{n}', () => `+${Math.min(jumps[j++ % jumps.length]!, lines.length - i - 1)}`));
  return [...init, ...resolved, 'exit'].join('\n');
}

describe('accepted packet programs run safely', () => {
  const data = mem.alloc(64);
  const ctx = mem.alloc(16);
  let accepted = 0;

  /** A run on a packet of `len` bytes at `data` (its bytes are left as they are: the programs only read them). */
  const packetRun = (len: number): RunSetup => ({
    prepare: () => {
      mem.view.setBigUint64(ctx, BigInt(data), true);
      mem.view.setBigUint64(ctx + 8, BigInt(data + len), true);
    },
    ctx: [ctx, 16],
    watch: [{ start: data, end: data + 64 }, { start: ctx, end: ctx + 16 }],
    regions: [{ start: data, end: data + len }],
  });

  it('on random programs and packet lengths, in the checked interpreter and in the JIT with the facts', () => {
    fc.assert(fc.property(
      fc.array(pktLine, { minLength: 1, maxLength: 14 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 3, maxLength: 3 }),
      (body, jumps, lengths) => {
        const text = packetText(body, jumps);
        const program = buildProgram(assemble(text));
        const result = verify(program, { context: packet(), helpers: CONFORMANCE_PROTOS });
        if (!result.ok) return;
        accepted++;
        checkAccepted(program, `${text}\n(packet lengths ${lengths.join(', ')})`, result.facts, 100_000, lengths.map(packetRun));
      },
    ), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 1000) });
    expect(accepted).toBeGreaterThan(100);
    if (process.env.VERIFIER_FUZZ_RUNS) console.log(`accepted ${accepted}`);
  });
});

/**
 * Loops bounded by the input data or not at all, which only `termination: 'budget'` accepts: a
 * counter compared with a loaded value (its index checked, or not, against the region) and a
 * pointer walked to the end of the region until it reads a given byte (its load at +0 or +1).
 */
const dataLoop = fc.tuple(fc.array(simple, { maxLength: 3 }), reg, reg, fc.option(fc.integer({ min: 1, max: SIZE + 2 })))
  .map(([body, d, bound, limit]) => {
    const inner = [
      ...body.flatMap((l) => l.split('\n')),
      ...(limit === null ? [] : [`if r8 >= ${limit} goto +3`]),
      'r7 = r1', 'r7 += r8', `${d} = *(u8 *)(r7 + 0)`, 'r8 += 1',
    ];
    return ['r8 = 0', ...inner, `if r8 < ${bound} goto -${inner.length + 1}`].join('\n');
  });
const walk = fc.tuple(reg, fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })).map(([d, off, k]) =>
  ['r7 = r1', 'r9 = r1', 'r9 += r2', 'if r7 >= r9 goto +3', `${d} = *(u8 *)(r7 + ${off})`, 'r7 += 1', `if ${d} != ${k} goto -4`].join('\n'));
const budgetLine = fc.oneof(line, dataLoop, walk);

describe("programs accepted with termination 'budget' run safely", () => {
  const addr = mem.alloc(SIZE);
  let accepted = 0;
  let needBudget = 0;

  it('on random programs with data-bounded loops, in the checked interpreter and in the JIT with the facts', () => {
    fc.assert(fc.property(
      fc.array(budgetLine, { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(inputBytes, { minLength: 2, maxLength: 2 }),
      (body, jumps, inputs) => {
        const text = programText(body, jumps);
        const program = buildProgram(assemble(text));
        const result = verify(program, { context: memory(SIZE), helpers: CONFORMANCE_PROTOS, termination: 'budget' });
        if (!result.ok) return;
        accepted++;
        if (result.facts.needsBudget) needBudget++;
        checkAccepted(program, text, result.facts, 20_000, memoryRuns(addr, inputs));
      },
    ), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 800) });
    expect(accepted).toBeGreaterThan(100);
    expect(needBudget).toBeGreaterThan(30);
    if (process.env.VERIFIER_FUZZ_RUNS) console.log(`accepted ${accepted}, ${needBudget} with the budget`);
  });
});

/**
 * Found by the fuzzer's jit-facts engine (fuzz/differential.ts): the verifier accepted atomics at
 * misaligned addresses. The checked engines fault on them (atomics must be naturally aligned, as in
 * WebAssembly), and the JIT compiled with the facts traps outside its checks (E_RUN_MEMORY at pc -1).
 * Contexts and stacks are 8-aligned, so the verifier can tell from the offset alone.
 */
describe('atomics the verifier accepts are aligned', () => {
  const verdict = (text: string): { code: string; pc: number } | 'accepted' => {
    const result = verify(buildProgram(assemble(text)), { context: memory(SIZE), helpers: CONFORMANCE_PROTOS });
    return result.ok ? 'accepted' : { code: result.error.code, pc: result.error.pc };
  };

  it.each([
    ['on the input', 'r0 = 0\nlock *(u32 *)(r1 + 1) ^= w0\nexit', 1],
    ['on the stack', 'r0 = 0\n*(u64 *)(r10 - 8) = r0\nlock *(u32 *)(r10 - 6) += w0\nexit', 2],
    ['of 8 bytes 4 bytes into the input', 'r0 = 0\nlock *(u64 *)(r1 + 4) += r0\nexit', 1],
    ['at a variable offset that may be 4', 'r0 = 0\nr2 = *(u8 *)(r1 + 0)\nr2 &= 4\nr3 = r1\nr3 += r2\nlock *(u64 *)(r3 + 0) += r0\nexit', 5],
  ])('a misaligned atomic %s is refused', (_, text, pc) => {
    expect(verdict(text)).toEqual({ code: 'E_VERIFY_ATOMIC', pc });
  });

  it('aligned ones are accepted, and the JIT with the facts runs them', () => {
    const text = 'r0 = 1\n*(u64 *)(r10 - 8) = r0\nlock *(u32 *)(r10 - 4) += w0\nlock *(u64 *)(r1 + 8) += r0\nr2 = *(u8 *)(r1 + 0)\nr2 &= 8\nr3 = r1\nr3 += r2\nlock *(u32 *)(r3 + 4) += w0\nexit';
    expect(verdict(text)).toBe('accepted');
    const program = buildProgram(assemble(text));
    const result = verify(program, { context: memory(SIZE), helpers: CONFORMANCE_PROTOS });
    if (!result.ok) return;
    const inputs = [new Uint8Array(SIZE), Uint8Array.from({ length: SIZE }, (_, i) => (i === 0 ? 8 : i))];
    checkAccepted(program, text, result.facts, 1000, memoryRuns(mem.alloc(SIZE, 8), inputs));
  });
});

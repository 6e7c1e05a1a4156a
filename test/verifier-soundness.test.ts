/**
 * End-to-end soundness: random programs over a memory region; whenever the verifier accepts one, the
 * interpreter in checked mode must run it on random inputs without a memory fault or hitting its
 * budget, and every division the verifier called safe must have a non-zero divisor. A bug in range
 * tracking, branch refinement or pruning shows up here as an accepted program that faults. Programs
 * accepted with `termination: 'budget'` may run out of budget instead, and the JIT, compiled with
 * their facts (no bounds checks), must end them exactly as the checked interpreter does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfRuntimeError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import { compileJit } from '../src/jit/index.js';
import { buildProgram } from '../src/program/program.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { CONFORMANCE_PROTOS, memory, packet, verify } from '../src/verifier/index.js';

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

describe('accepted programs run safely', () => {
  const mem = new EngineMemory();
  const rt = { mem, helpers: new HelperRegistry(conformanceHelpers()) };
  const addr = mem.alloc(SIZE);
  let accepted = 0;

  it('on random programs and inputs', () => {
    fc.assert(fc.property(
      fc.array(line, { minLength: 1, maxLength: 14 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.uint8Array({ minLength: SIZE, maxLength: SIZE }), { minLength: 3, maxLength: 3 }),
      (body, jumps, inputs) => {
        const program = buildProgram(assemble(programText(body, jumps)));
        const result = verify(program, { context: memory(SIZE), helpers: CONFORMANCE_PROTOS });
        if (!result.ok) return;
        accepted++;
        const exe = createInterpreter(program, rt, { budget: 100_000 });
        for (const input of inputs) {
          mem.write(addr, input);
          try {
            exe.run(addr, SIZE);
          } catch (e) {
            if (e instanceof BpfRuntimeError) throw new Error(`accepted program faulted: ${e.message}\n${programText(body, jumps)}`);
            throw e;
          }
        }
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
  const mem = new EngineMemory();
  const rt = { mem, helpers: new HelperRegistry(conformanceHelpers()) };
  const data = mem.alloc(64);
  const ctx = mem.alloc(16);
  let accepted = 0;

  it('on random programs and packet lengths', () => {
    fc.assert(fc.property(
      fc.array(pktLine, { minLength: 1, maxLength: 14 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 3, maxLength: 3 }),
      (body, jumps, lengths) => {
        const program = buildProgram(assemble(packetText(body, jumps)));
        const result = verify(program, { context: packet(), helpers: CONFORMANCE_PROTOS });
        if (!result.ok) return;
        accepted++;
        for (const len of lengths) {
          const exe = createInterpreter(program, rt, { budget: 100_000, regions: [{ start: data, end: data + len }] });
          const view = new DataView(mem.buffer);
          view.setBigUint64(ctx, BigInt(data), true);
          view.setBigUint64(ctx + 8, BigInt(data + len), true);
          try {
            exe.run(ctx, 16);
          } catch (e) {
            if (e instanceof BpfRuntimeError) throw new Error(`accepted program faulted with a ${len}-byte packet: ${e.message}\n${packetText(body, jumps)}`);
            throw e;
          }
        }
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
  const mem = new EngineMemory();
  const rt = { mem, helpers: new HelperRegistry(conformanceHelpers()) };
  const addr = mem.alloc(SIZE);
  let accepted = 0;
  let needBudget = 0;

  it('on random programs with data-bounded loops, in the interpreter and in the JIT with the facts', () => {
    fc.assert(fc.property(
      fc.array(budgetLine, { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.uint8Array({ minLength: SIZE, maxLength: SIZE }), { minLength: 2, maxLength: 2 }),
      (body, jumps, inputs) => {
        const text = programText(body, jumps);
        const program = buildProgram(assemble(text));
        const result = verify(program, { context: memory(SIZE), helpers: CONFORMANCE_PROTOS, termination: 'budget' });
        if (!result.ok) return;
        accepted++;
        if (result.facts.needsBudget) needBudget++;
        const interp = createInterpreter(program, rt, { budget: 20_000 });
        const jit = compileJit(program, rt, { facts: result.facts, budget: 20_000 });
        for (const input of inputs) {
          const outcome = (exe: typeof interp): string => {
            mem.write(addr, input);
            try {
              return `r0=${exe.run(addr, SIZE)} mem=${Buffer.from(mem.read(addr, SIZE)).toString('hex')}`;
            } catch (e) {
              if (!(e instanceof BpfRuntimeError)) throw e;
              // Running out of budget is how such a run may end; a fault means the proof was wrong.
              if (e.code !== 'E_RUN_BUDGET') throw new Error(`accepted program faulted: ${e.message}\n${text}`);
              return `${e.code}@${e.pc} mem=${Buffer.from(mem.read(addr, SIZE)).toString('hex')}`;
            }
          };
          expect(outcome(jit), text).toBe(outcome(interp));
        }
      },
    ), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 800) });
    expect(accepted).toBeGreaterThan(100);
    expect(needBudget).toBeGreaterThan(30);
    if (process.env.VERIFIER_FUZZ_RUNS) console.log(`accepted ${accepted}, ${needBudget} with the budget`);
  });
});

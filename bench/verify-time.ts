/**
 * Verification time: how long `verify()` takes on a 1,000-instruction and a 4,096-instruction
 * straight-line program (the generated ALU programs of alu-program.ts, under memory(32)) and on a
 * loop of 10,000 iterations (under memory(8)), with the work the verifier reports: instructions
 * processed over all paths, states stored at prune points and the most alive at once.
 */
import { assemble } from '../src/asm/index.js';
import { buildProgram, loadBytes, type Program } from '../src/program/program.js';
import { memory, verify, type ContextDescriptor } from '../src/verifier/index.js';
import { ALU_INPUT_BYTES, aluProgram } from './alu-program.js';
import { timeTask, type Budget } from './measure.js';
import type { VerifierRecord } from './report.js';

interface VerifyCase {
  /** Record name (`workload` in the JSON). */
  readonly name: string;
  readonly program: () => Program;
  readonly context: ContextDescriptor;
}

const LOOP_ITERATIONS = 10_000;

/** r0 folds the input with a counter that runs to 10,000: the verifier follows every iteration. */
const loopProgram = (): Program => buildProgram(assemble([
  'ldxdw %r4, [%r1]', 'mov %r0, 0', 'mov %r3, 0',
  'loop:', 'add %r0, %r3', 'xor %r0, %r4', 'add %r3, 1', `jlt %r3, ${LOOP_ITERATIONS}, loop`,
  'exit',
].join('\n'), 'ubpf'));

export const VERIFY_CASES: readonly VerifyCase[] = [
  { name: 'verify-straight-1000', program: () => loadBytes(aluProgram(1000)), context: memory(ALU_INPUT_BYTES) },
  { name: 'verify-straight-4096', program: () => loadBytes(aluProgram(4096)), context: memory(ALU_INPUT_BYTES) },
  { name: `verify-loop-${LOOP_ITERATIONS}`, program: loopProgram, context: memory(8) },
];

/** Measures verify() on each case; throws when a case is refused (the verifier regressed). */
export async function measureVerifyTimes(budget: Budget): Promise<VerifierRecord[]> {
  const records: VerifierRecord[] = [];
  for (const c of VERIFY_CASES) {
    const program = c.program();
    const once = (): ReturnType<typeof verify> => verify(program, { context: c.context, helpers: new Map() });
    const t0 = performance.now();
    const first = once();
    const callMs = performance.now() - t0;
    if (!first.ok) throw new Error(`${c.name}: the verifier refused it: ${first.error.message}`);
    const { medianMs, samples } = await timeTask(c.name, () => void once(), callMs, budget);
    const nsPerOp = medianMs * 1e6;
    records.push({
      workload: c.name, engine: 'verifier', mode: 'verify', nsPerOp, opsPerSec: 1e9 / nsPerOp, samples,
      insns: program.insns.length, insnsProcessed: first.stats.insnsProcessed,
      statesStored: first.stats.statesStored, peakStates: first.stats.peakStates,
    });
  }
  return records;
}

/**
 * Runs region programs (regions.ts) as users run them: each engine in a Vm of its own, as `bpfjit run`
 * does, loaded unverified (checked mode), on an input the Vm places; the JIT in each tier asked for
 * (the optimized one needs loadOptimizer() first). Every JIT run must leave what the interpreter's
 * leaves: the same r0 or the same error (code and pc), the same input bytes and the same top of the
 * stack: addresses leak into all three, so the engines must lay a run out alike. Each run must also
 * end as the runtime rules fix it (`expectation`): an access inside a region succeeds, one just
 * outside faults at its pc.
 */
import { asRunError, type RunError } from './differential.js';
import { expectation, lowerRegions, type Expectation, type RegionProgram, type RegionSpec } from './regions.js';
import { toHex } from './report.js';
import { assemble } from '../src/asm/index.js';
import { buildProgram } from '../src/program/program.js';
import { Vm, type EngineName } from '../src/vm.js';

/** Stack bytes compared: the two frames region programs use (main's and its callee's). */
const STACK_BYTES = 1024;
const BUDGET = 10_000;

export interface VmOutcome {
  /** What ran the program, as the Vm reported it. */
  readonly tier: 'interp' | 'baseline' | 'optimized';
  readonly r0: bigint | undefined;
  readonly error: RunError | undefined;
  /** The input's bytes after the run. */
  readonly input: Uint8Array;
  /** The STACK_BYTES below the entry's r10 after the run. */
  readonly stack: Uint8Array;
}

/** The JIT's tiers a region program runs through. */
export type RegionTier = 'baseline' | 'optimized';
export const REGION_TIERS: readonly RegionTier[] = ['baseline', 'optimized'];

export interface RegionResult {
  readonly program: RegionProgram;
  readonly interp: VmOutcome;
  /** The JIT's run in each tier asked for. */
  readonly jit: ReadonlyArray<{ readonly tier: RegionTier; readonly outcome: VmOutcome }>;
  readonly expected: Expectation;
  /** The engines' first difference, or the first break of the rules; undefined when all is well. */
  readonly difference: string | undefined;
}

/** One run of `text` on `input` in a fresh Vm, through `engine` (the JIT in `tier`), unverified. */
export function runInVm(engine: EngineName, text: string, input: Uint8Array, tier: RegionTier = 'baseline'): VmOutcome {
  const vm = new Vm();
  const loaded = vm.load(buildProgram(assemble(text)), { engine, unverified: true, budget: BUDGET, ...(engine === 'jit' ? { tier } : {}) });
  const { addr, len } = loaded.placeInput(input);
  let r0: bigint | undefined;
  let error: RunError | undefined;
  try {
    r0 = loaded.exe.run(addr, len);
  } catch (e) {
    error = asRunError(e);
  }
  const top = vm.mem.frameTop(0);
  return { tier: loaded.tier, r0, error, input: vm.mem.read(addr, len), stack: vm.mem.read(top - STACK_BYTES, STACK_BYTES) };
}

export function describeVmOutcome(o: VmOutcome): string {
  return o.error ? `error ${o.error.code} at pc ${o.error.pc} (${o.error.message})` : `r0 = 0x${o.r0!.toString(16)}`;
}

function differs(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The first way the two runs differ, in words (`name`: the JIT's); undefined when they are the same. */
export function compareVmOutcomes(interp: VmOutcome, jit: VmOutcome, name = 'JIT'): string | undefined {
  const ie = interp.error, je = jit.error;
  if ((ie || je) && (!ie || !je || ie.code !== je.code || ie.pc !== je.pc)) {
    return `outcomes differ: interpreter ${describeVmOutcome(interp)}; ${name} ${describeVmOutcome(jit)}`;
  }
  if (!ie && interp.r0 !== jit.r0) return `r0 differs: interpreter ${describeVmOutcome(interp)}; ${name} ${describeVmOutcome(jit)}`;
  const i = differs(interp.input, jit.input);
  if (i >= 0) return `input byte ${i} differs: interpreter ${toHex(interp.input)}; ${name} ${toHex(jit.input)}`;
  const s = differs(interp.stack, jit.stack);
  if (s >= 0) return `stack differs at entry r10-${STACK_BYTES - s} (${name})`;
  return undefined;
}

const jitName = (tier: RegionTier): string => (tier === 'baseline' ? 'JIT' : 'optimized JIT');

/** How a run breaks the rules' expectation, if it does. */
function breaksRules(o: VmOutcome, expected: Expectation): string | undefined {
  if (expected === undefined) return undefined;
  if (expected === 'exit') return o.error ? `every access lies inside a region, yet it stopped: ${describeVmOutcome(o)}` : undefined;
  if (o.error?.code === 'E_RUN_MEMORY' && o.error.pc === expected.fault) return undefined;
  return `the access at pc ${expected.fault} touches a guard gap or the stack below the frames in use and must fault there; got ${describeVmOutcome(o)}`;
}

/** Runs a region program through the interpreter and the JIT in each of `tiers`, and judges the runs. */
export function runRegionCase(spec: RegionSpec, tiers: readonly RegionTier[] = REGION_TIERS): RegionResult {
  const program = lowerRegions(spec);
  const interp = runInVm('interp', program.text, spec.input);
  const jit = tiers.map((tier) => ({ tier, outcome: runInVm('jit', program.text, spec.input, tier) }));
  const expected = expectation(program);
  const runs: Array<readonly [string, VmOutcome]> = [['interpreter', interp], ...jit.map((j) => [jitName(j.tier), j.outcome] as const)];
  const ruleBreak = runs.map(([name, o]) => ((r) => r && `${name}: ${r}`)(breaksRules(o, expected))).find((r) => r !== undefined);
  const difference = jit.map((j) => compareVmOutcomes(interp, j.outcome, jitName(j.tier))).find((d) => d !== undefined);
  return { program, interp, jit, expected, difference: difference ?? ruleBreak };
}

const describeExpectation = (e: Expectation): string =>
  (e === undefined ? 'nothing (a layout-dependent access comes first)' : e === 'exit' ? 'a normal exit' : `E_RUN_MEMORY at pc ${e.fault}`);

/** A counterexample: the program, the input, both outcomes, what the rules expect, and a test to paste. */
export function formatRegionCase(spec: RegionSpec, result: RegionResult): string {
  const numbered = result.program.text.split('\n').reduce<{ pc: number; out: string[] }>((acc, line) => {
    const label = line.endsWith(':');
    acc.out.push(label ? line : `${String(acc.pc).padStart(4)}  ${line}`);
    if (!label) acc.pc++;
    return acc;
  }, { pc: 0, out: [] }).out;
  return [
    `difference:  ${result.difference ?? '(none on replay)'}`,
    `interpreter: ${describeVmOutcome(result.interp)}`,
    ...result.jit.map((j) => `${`${jitName(j.tier)}:`.padEnd(12)} ${describeVmOutcome(j.outcome)}`),
    `rules:       ${describeExpectation(result.expected)}`,
    `input:       ${spec.input.length} bytes: ${toHex(spec.input) || '(empty)'}`,
    'program (LLVM syntax, unverified, each engine in its own Vm):',
    ...numbered,
    '',
    'as a regression test (test/regions.test.ts):',
    `it('<describe the difference>', () => {`,
    `  const text = \`\n${result.program.text}\`;`,
    `  const input = fromHex('${toHex(spec.input)}');`,
    `  const interp = runInVm('interp', text, input);`,
    ...result.jit.map((j) => `  expect(compareVmOutcomes(interp, runInVm('jit', text, input, '${j.tier}'))).toBeUndefined();`),
    ...(typeof result.expected === 'object' ? [`  expect(interp.error).toMatchObject({ code: 'E_RUN_MEMORY', pc: ${result.expected.fault} });`] : []),
    `});`,
  ].join('\n');
}

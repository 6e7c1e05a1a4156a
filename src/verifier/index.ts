/**
 * The verifier: proves a program safe to run without runtime checks, or says precisely why not.
 * Abstract interpretation over register and stack states (scalars as ranges + known bits, pointers by
 * kind and offset), path by path with state pruning (explore.ts says why), under an instruction
 * budget. Its output feeds the JIT: facts that let it drop bounds checks and division guards.
 */
import { InputError } from '../errors.js';
import type { Program } from '../program/program.js';
import { HelperRegistry } from '../runtime/helpers.js';
import { StateStore, type Termination } from './checkpoints.js';
import { programThresholds } from './widen.js';
import { entryContract, entryState, type ContextDescriptor } from './context.js';
import { Explorer } from './explore.js';
import { FactsCollector, type VerifierFacts } from './facts.js';
import type { HelperLookup, MapDescriptor } from './helper-call.js';
import type { HelperProto } from '../runtime/helper-proto.js';
import { analyzeRegisters } from './liveness.js';
import { VerifierLog, insnText, type LogLevel } from './log.js';
import { VerifyError, withSourceLine } from './refusal.js';
import { checkRegisterUse } from './register-use.js';
import { checkStackChains } from './stack-depth.js';
import type { StepEnv } from './step.js';

export { VerifyError } from './refusal.js';
export { memory, event, packet, structContext, type ContextDescriptor, type ContextLayout, type CtxField, type CtxLoad, type CtxNarrow, type ContextOptions, type ReturnRange } from './context.js';
export { xdp, socketFilter, tc, kernelContextByName } from './kernel-contexts.js';
export type { HelperProto, ArgKind, RetKind } from '../runtime/helper-proto.js';
export type { MapDescriptor } from './helper-call.js';
export type { VerifierFacts, InsnFacts, ConstPointer } from './facts.js';
export type { PtrKind } from './reg-state.js';
export type { LogLevel } from './log.js';
export type { Termination } from './checkpoints.js';
export { conformanceProtos, CONFORMANCE_PROTOS } from './conformance-protos.js';

export const DEFAULT_VERIFY_BUDGET = 1_000_000;

export interface VerifyOptions {
  readonly context: ContextDescriptor;
  /** Helpers by id: a registry (each spec's `proto` is used) or prototypes directly. */
  readonly helpers: HelperRegistry | ReadonlyMap<number, HelperProto>;
  /** Maps the program names with `lddw rX, map_by_idx(N)` / `map_value_by_idx(N, off)` (the fd forms index the same list). */
  readonly maps?: readonly MapDescriptor[];
  /** 0: no log; 1: the path to a refusal; 2: the state at every processed instruction. */
  readonly logLevel?: LogLevel;
  /** Most instructions processed over all paths (default 1,000,000). */
  readonly budget?: number;
  /**
   * 'prove' (default): every loop must be proven to end, as the Linux verifier requires. 'budget':
   * loops only have to be proven safe, and runs rely on their instruction budget to end; a loop
   * bounded by input data (a string scan, a parser) then verifies once its state at the loop head
   * stops growing. The facts say so (`needsBudget`), and the engines keep the budget for them. A loop
   * of more than a few rounds is widened rather than followed to its end, so it needs the budget even
   * where 'prove' would have shown it ends: verify with 'prove' first when that matters (the bench does).
   */
  readonly termination?: Termination;
}

export interface VerifyStats {
  /** Instructions processed over all explored paths. */
  readonly insnsProcessed: number;
  /** States stored at prune points. */
  readonly statesStored: number;
  /** Most states stored at once. */
  readonly peakStates: number;
  /** Paths ended because a stored state subsumed theirs. */
  readonly statesPruned: number;
  readonly timeMs: number;
}

export type VerifyResult =
  | { readonly ok: true; readonly facts: VerifierFacts; readonly stats: VerifyStats; readonly log: string }
  | { readonly ok: false; readonly error: VerifyError; readonly stats: VerifyStats; readonly log: string };

/** A registry (also one from another copy of the module, hence the structural test) or a map of prototypes. */
const isRegistry = (h: VerifyOptions['helpers']): h is HelperRegistry =>
  h instanceof HelperRegistry || typeof (h as Partial<HelperRegistry>).register === 'function';

function helperLookup(helpers: VerifyOptions['helpers']): (id: number) => HelperLookup {
  if (isRegistry(helpers)) {
    return (id) => {
      const spec = helpers.get(id);
      if (!spec) return { found: false, why: `helper ${id} is not registered` };
      if (!spec.proto) return { found: false, why: `helper ${spec.name}#${id} has no prototype, so verified programs cannot call it` };
      return { found: true, label: `helper ${spec.name}#${id}`, proto: spec.proto };
    };
  }
  return (id) => {
    const proto = helpers.get(id);
    return proto ? { found: true, label: `helper #${id}`, proto } : { found: false, why: `helper ${id} has no prototype (unknown helper)` };
  };
}

function stackError(program: Program, pc: number, total: number): VerifyError {
  const rule = `the combined stack of this call chain is ${total} bytes; at most 512 are allowed`;
  return new VerifyError('E_VERIFY_STACK_DEPTH', pc, rule, `${insnText(program.insnAt[pc]!)}: ${rule}`);
}

function checkOptions(options: VerifyOptions): { budget: number; termination: Termination } {
  const budget = options.budget ?? DEFAULT_VERIFY_BUDGET;
  if (!Number.isSafeInteger(budget) || budget <= 0) throw new InputError(`verifier budget ${budget} must be a positive integer`);
  const termination = options.termination ?? 'prove';
  if (termination !== 'prove' && termination !== 'budget') throw new InputError(`termination must be 'prove' or 'budget', got ${String(termination)}`);
  return { budget, termination };
}

interface Explored {
  readonly failure: VerifyError | undefined;
  readonly facts: FactsCollector;
  readonly store: StateStore;
  readonly processed: number;
  readonly maxStack: number;
}

/** Path-by-path exploration, then the stack depth of every call chain. */
function explore(program: Program, options: VerifyOptions, log: VerifierLog): Explored {
  const { budget, termination } = checkOptions(options);
  const lookupHelper = helperLookup(options.helpers);
  const facts = new FactsCollector(program);
  let ids = 0;
  const env: StepEnv = {
    program, facts, ctx: options.context, maps: options.maps ?? [],
    depth: (fn, bytes) => facts.depth(fn, bytes),
    lookupHelper, newId: () => ++ids,
  };
  const masks = analyzeRegisters(program, (id) => {
    const h = lookupHelper(id);
    return h.found ? h.proto.args.length : 5;
  }, options.context.ret !== undefined);
  const store = new StateStore(program.slotCount, masks, termination, termination === 'budget' ? programThresholds(program) : undefined);
  const explorer = new Explorer(env, store, log, budget, masks.live);
  const { error, processed } = explorer.run(entryState(options.context));
  if (error) return { failure: error, facts, store, processed, maxStack: 0 };
  const chains = checkStackChains(program, facts.stackDepth, facts.reached);
  const failure = chains.problem ? stackError(program, chains.problem.pc, chains.problem.total) : undefined;
  return { failure, facts, store, processed, maxStack: chains.max };
}

function refused(program: Program, found: VerifyError, stats: VerifyStats, log: VerifierLog): VerifyResult {
  const error = withSourceLine(found, program.lines);
  if (log.level >= 1) log.add(error.message);
  return { ok: false, error, stats, log: log.text() };
}

function verifyWith(program: Program, options: VerifyOptions, prePass: boolean): VerifyResult {
  const started = performance.now();
  checkOptions(options); // bad options are the caller's error, even for a program the pre-pass refuses
  const log = new VerifierLog(options.logLevel ?? 0, program.lines);
  // The linear register-use pass first: what it refuses, the exploration would refuse too, only later.
  const early = prePass ? checkRegisterUse(program) : undefined;
  if (early) {
    return refused(program, early, { insnsProcessed: 0, statesStored: 0, peakStates: 0, statesPruned: 0, timeMs: performance.now() - started }, log);
  }
  const run = explore(program, options, log);
  const { store } = run;
  const stats: VerifyStats = {
    insnsProcessed: run.processed, statesStored: store.stored, peakStates: store.peak, statesPruned: store.pruned,
    timeMs: performance.now() - started,
  };
  if (run.failure) return refused(program, run.failure, stats, log);
  return { ok: true, facts: run.facts.finish(program, entryContract(options.context, run.facts.atomicsOn('mem')), run.maxStack, store.loopsClosed > 0), stats, log: log.text() };
}

export function verify(program: Program, options: VerifyOptions): VerifyResult {
  return verifyWith(program, options, true);
}

/** verify() without its register-use pre-pass: for tests that the exploration refuses the same reads and writes. */
export function exploreOnly(program: Program, options: VerifyOptions): VerifyResult {
  return verifyWith(program, options, false);
}

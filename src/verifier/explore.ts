/**
 * The exploration loop: kernel-style path exploration with state pruning.
 *
 * Why paths and pruning rather than PREVAIL-style joins and widening: a join merges the states of all
 * paths reaching an instruction, which loses the correlations BPF programs depend on (the length
 * check on one path and the load on the same path, the null check and the dereference); recovering
 * them needs relational domains (zones, octagons) that are costly in a language without machine
 * integers. Following each path keeps every branch's facts exact with plain intervals and known bits,
 * messages can name the exact path that fails, and bounded loops verify by simply running their
 * iterations abstractly. The cost, exponential paths, is what pruning fights: at jump targets a state
 * already proven safe that subsumes the new one (only live registers compared) ends the new path.
 * Unbounded loops never stop producing new states and run into the instruction budget; loops whose
 * state repeats exactly are refused at once.
 */
import type { Insn } from '../isa/insn.js';
import { depthFirst } from '../program/cfg.js';
import type { Program } from '../program/program.js';
import { readMask } from '../program/registers.js';
import { StateStore, pathDone, type Checkpoint } from './checkpoints.js';
import { insnText, type PathNode, type VerifierLog } from './log.js';
import { formatReg } from './reg-state.js';
import { Refusal, VerifyError } from './refusal.js';
import { step, type StepEnv } from './step.js';
import { topFrame, type VState } from './state.js';
import { branchTarget, calleeTarget } from '../isa/insn.js';

interface Pending {
  readonly state: VState;
  readonly pc: number;
  readonly parent: Checkpoint | undefined;
  readonly path: PathNode | undefined;
  /** Jumps and instructions since the path last stored a state. */
  readonly jumps: number;
  readonly insns: number;
}

/**
 * A path stores its state at a prune point only after this many jumps and instructions since it last
 * stored one, and always at a loop head: states stored at every branch of a compare tree cost more to
 * copy than they save in pruning. The kernel's is_state_visited waits for 2 jumps and 8 instructions;
 * 4 instructions keep the pruning of short diamonds (bench/README.md, "Design measurements").
 */
const STORE_AFTER_JUMPS = 2;
const STORE_AFTER_INSNS = 4;

export interface ExploreResult {
  readonly error?: VerifyError;
  readonly processed: number;
}

/** Where states are stored and compared: jump targets, fall-throughs of conditional jumps, call sites. */
export function prunePoints(program: Program): Uint8Array {
  const points = new Uint8Array(program.slotCount);
  for (const insn of program.insns) {
    const target = branchTarget(insn) ?? calleeTarget(insn);
    if (target !== undefined) points[target] = 1;
    if ((insn.kind === 'jmp' || (insn.kind === 'call' && insn.mode === 'local')) && insn.pc + 1 < points.length) {
      points[insn.pc + 1] = 1;
    }
  }
  return points;
}

/** The loop headers of every function (program/cfg.ts), where a loop that does not end is reported. */
function loopHeads(program: Program): Set<number> {
  const heads = new Set<number>();
  for (const fn of program.functions) for (const h of depthFirst(fn).headers) heads.add(h);
  return heads;
}

export function refusalError(r: Refusal, insn: Insn, state: VState): VerifyError {
  const regs = topFrame(state).regs;
  const mask = readMask(insn);
  const shown = r.regs.length > 0 ? r.regs : Array.from({ length: 11 }, (_, i) => i).filter((i) => (mask & (1 << i)) !== 0);
  const states = shown.filter((i) => i !== 10).map((i) => `r${i}=${formatReg(regs[i]!)}`);
  const detail = states.length > 0 ? ` (${states.join(', ')})` : '';
  return new VerifyError(r.code, insn.pc, r.rule, `${insnText(insn)}: ${r.rule}${detail}`);
}

export class Explorer {
  private processed = 0;
  private readonly points: Uint8Array;
  private readonly heads: Set<number>;

  constructor(
    private readonly env: StepEnv,
    private readonly store: StateStore,
    private readonly log: VerifierLog,
    private readonly budget: number,
    private readonly liveIn: Uint16Array,
  ) {
    this.points = prunePoints(env.program);
    this.heads = loopHeads(env.program);
  }

  private budgetError(pc: number): VerifyError {
    let head = -1;
    for (const h of this.heads) if (head < 0 || this.store.visits[h]! > this.store.visits[head]!) head = h;
    const insnAt = this.env.program.insnAt;
    if (head >= 0 && this.store.visits[head]! > 1) {
      const rule = `the loop starting here has not ended after ${this.budget} processed instructions: the verifier cannot prove it terminates (bound its counter with a comparison it can track)`;
      return new VerifyError('E_VERIFY_LOOP', head, rule, `${insnText(insnAt[head]!)}: ${rule}`);
    }
    const rule = `the program is too complex to verify within ${this.budget} processed instructions`;
    return new VerifyError('E_VERIFY_BUDGET', pc, rule, `${insnText(insnAt[pc]!)}: ${rule}`);
  }

  private loopError(pc: number, state: VState): VerifyError {
    const rule = 'infinite loop: the state at this loop head repeats exactly, so nothing the verifier can see ever ends the loop';
    const regs = topFrame(state).regs;
    const live = this.liveIn[pc]!;
    const shown = regs.flatMap((r, i) => ((live & (1 << i)) !== 0 && r.t !== 'uninit' ? [`r${i}=${formatReg(r)}`] : []));
    const detail = shown.length > 0 ? ` (${shown.join(', ')})` : '';
    return new VerifyError('E_VERIFY_LOOP', pc, rule, `${insnText(this.env.program.insnAt[pc]!)}: ${rule}${detail}`);
  }

  /** Follows one path until it ends; returns an error when it is refused. */
  private runPath(start: Pending, pending: Pending[]): VerifyError | undefined {
    const { state } = start;
    let { pc, parent, path, jumps, insns } = start;
    const { insnAt } = this.env.program;
    const log = this.log;
    for (;;) {
      if (this.points[pc]) {
        const mayStore = (jumps >= STORE_AFTER_JUMPS && insns >= STORE_AFTER_INSNS) || this.heads.has(pc);
        const seen = this.store.visit(pc, state, parent, mayStore);
        if (seen.kind === 'prune') {
          if (log.level >= 2) log.add(`${pc}: safe (a stored state subsumes this one)`);
          pathDone(parent);
          return undefined;
        }
        if (seen.kind === 'loop') {
          if (log.level >= 1) log.path(path, insnAt);
          return this.loopError(pc, state);
        }
        if (seen.kind === 'stored') {
          parent = seen.checkpoint;
          jumps = 0;
          insns = 0;
        }
      }
      if (this.processed >= this.budget) {
        if (log.level >= 1) log.path(path, insnAt);
        return this.budgetError(pc);
      }
      this.processed++;
      insns++;
      const insn = insnAt[pc]!;
      if (insn.kind === 'jmp' || insn.kind === 'ja') jumps++;
      this.env.facts.reached[pc] = 1;
      if (log.level >= 2) log.insn(insn, state);
      if (log.level >= 1) path = { pc, prev: path };
      let out;
      try {
        out = step(this.env, state, insn);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        if (log.level >= 1) log.path(path, insnAt);
        return refusalError(e, insn, state);
      }
      if (out.kind === 'done') {
        pathDone(parent);
        return undefined;
      }
      if (out.kind === 'fork') {
        if (parent) parent.branches++;
        pending.push({ state: out.taken, pc: out.takenPc, parent, path, jumps, insns });
      }
      pc = out.pc;
    }
  }

  run(entry: VState): ExploreResult {
    const pending: Pending[] = [{ state: entry, pc: 0, parent: undefined, path: undefined, jumps: 0, insns: 0 }];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (this.log.level >= 2 && next.path) this.log.add(`from ${next.path.pc} to ${next.pc}:`);
      const error = this.runPath(next, pending);
      if (error) return { error, processed: this.processed };
    }
    return { processed: this.processed };
  }
}

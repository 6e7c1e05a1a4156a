/**
 * Builds the whole wasm module for a program: the engine's shared memory as an import, the run-wide
 * globals, one function per BPF function, and the entry points the wrapper calls (see abi.ts).
 */
import { EXPORT, GLOBAL, HELPER_IMPORT, IMPORT_MODULE, ctxLimitGlobal, functionName, trapCode } from './abi.js';
import { analyzeProgram, callDepthIsStatic, maxCost } from './analysis.js';
import { WasmModule, i32, i64, i64Const, none, tupleType, type Expr } from '../wasm/builder.js';
import type { FnEmitter, ModuleContext, Structure } from './emitter.js';
import { scratchSlot } from './constants.js';
import { compileFunction, emitterFor, functionBody } from './function.js';
import { InputError } from '../errors.js';
import type { Program } from '../program/program.js';
import { STACK_PER_CPU, WASM_PAGE, type Region } from '../runtime/memory.js';
import { programRegions, refuseFrameWrites, type Runtime } from '../runtime/executable.js';
import type { BpfMap } from '../maps/map.js';
import type { VerifierFacts } from '../verifier/facts.js';
import { mayTailCall } from '../runtime/tail-call.js';
import { addTailExports, addTailGlobals, tailEventEnd, tailEventSetup } from './tail-call.js';

/** wasm32's largest memory; declaring it accepts the engine memory whatever maximum it was created with. */
const MAX_WASM32_PAGES = 65536;

export interface ModuleOptions {
  readonly budget: number;
  readonly regions: readonly Region[];
  /** The maps lddw names, by index (ExecOptions.maps). */
  readonly maps: readonly BpfMap[];
  readonly checked: boolean;
  readonly structure: Structure;
  /** The verifier's facts: the program is verified (see JitOptions.facts). */
  readonly facts: VerifierFacts | undefined;
  readonly jumpTables: boolean;
  readonly valueTables: boolean;
}

/** The globals; the fuel only with budget checks and the context limits only with bounds checks. */
function addGlobals(mc: ModuleContext): void {
  const m = mc.m;
  m.addGlobal(GLOBAL.errCode, i32, true, m.i32.const(0));
  m.addGlobal(GLOBAL.errPc, i32, true, m.i32.const(0));
  m.addGlobal(GLOBAL.unwinding, i32, true, m.i32.const(0));
  m.addGlobal(GLOBAL.ctxLen, i32, true, m.i32.const(0));
  if (mc.budgetChecks) m.addGlobal(GLOBAL.fuel, i64, true, i64Const(m, 0n));
  for (const name of [GLOBAL.stackStart, GLOBAL.ctxStart]) m.addGlobal(name, i64, true, i64Const(m, 0n));
  if (mc.checked) for (const size of mc.facts.accessSizes) m.addGlobal(ctxLimitGlobal(size), i64, true, i64Const(m, 0n));
}

/** Small exports for the wrapper's slow paths (errors, helper environment, unwinding). */
function addServiceExports(mc: ModuleContext): void {
  const m = mc.m;
  // take_error() clears the code, so a later unplanned trap is not misread; take_tail() likewise the next program.
  const takes: Array<[string, string]> = [[EXPORT.takeError, GLOBAL.errCode], ...(mc.tails ? [[EXPORT.takeTail, GLOBAL.tailTarget] as [string, string]] : [])];
  for (const [name, global] of takes) {
    const take = m.block(null, [m.local.set(0, m.global.get(global, i32)), m.global.set(global, m.i32.const(0)), m.local.get(0, i32)], i32);
    m.addFunction(name, none, i32, [i32], take);
  }
  m.addFunction(EXPORT.errorAt, none, i32, [], m.global.get(GLOBAL.errPc, i32));
  m.addFunction(EXPORT.setUnwind, none, none, [], m.global.set(GLOBAL.unwinding, m.i32.const(1)));
  m.addFunction(EXPORT.ctxStart, none, i32, [], m.i32.wrap(m.global.get(GLOBAL.ctxStart, i64)));
  m.addFunction(EXPORT.ctxLen, none, i32, [], m.global.get(GLOBAL.ctxLen, i32));
  for (const name of [EXPORT.takeError, EXPORT.errorAt, EXPORT.setUnwind, EXPORT.ctxStart, EXPORT.ctxLen]) m.addFunctionExport(name, name);
}

const DRIVE_FUNCTION = 'drive';
/**
 * drive's parameters (all i32). Its locals are the entry function's, inlined into its event loop
 * (emitter.ts), plus the context limits for access sizes 1, 2, 4, 8. The loop stores every event's r0
 * without testing whether anyone wants it, which is faster than the test; single runs store theirs in
 * a scratch slot (constants.ts) and take it from drive's return value. The limits are locals computed
 * here, not i64 parameters, which measured slower (bench/README.md, "Design measurements").
 */
const D = { BASE: 0, STRIDE: 1, LEN: 2, COUNT: 3, RESULTS: 4, STACK: 5 } as const;
const DRIVE_PARAMS = 6;
const LIMIT_SIZES = [1, 2, 4, 8] as const;

/**
 * Whether anything but the entry's own code reads the run-wide globals (stack start, context, limits,
 * unwinding): local-call targets, helpers called through JavaScript (the wrapper's ctx_start and
 * ctx_len), a tail-call chain. The entry gets them as locals. Known once the entry is emitted: a
 * helper call the JIT runs in WebAssembly itself (map-calls.ts) imports no JavaScript helper. Stores
 * nobody reads are not free: they keep the globals' base in a register across the event loop, and
 * with one register fewer V8 spilled the event pointer to its stack (bench/README.md, "Design measurements").
 */
const needsRunGlobals = (mc: ModuleContext): boolean =>
  mc.program.functions.length > 1 || mc.imports.has(HELPER_IMPORT) || mc.tails;

/**
 * Once per drive call: the context limits max(len - size + 1, 0) (an access of `size` bytes at
 * ctx + d is inside the context iff d <u limit), and the globals that callees and helpers read.
 */
function sharedSetup(mc: ModuleContext, limits: readonly number[]): Expr[] {
  const m = mc.m;
  const get = (i: number): Expr => m.local.get(i, i32);
  const stmts: Expr[] = [];
  LIMIT_SIZES.forEach((size, k) => {
    if (!mc.checked || !mc.facts.accessSizes.has(size)) return;
    const spare = (): Expr => m.i64.sub(m.i64.extend_u(get(D.LEN)), i64Const(m, BigInt(size - 1)));
    stmts.push(m.local.set(limits[k]!, m.select(m.i64.gt_s(spare(), i64Const(m, 0n)), spare(), i64Const(m, 0n))));
    if (needsRunGlobals(mc)) stmts.push(m.global.set(ctxLimitGlobal(size), m.local.get(limits[k]!, i64)));
  });
  if (needsRunGlobals(mc)) {
    stmts.push(m.global.set(GLOBAL.stackStart, m.i64.extend_u(get(D.STACK))));
    stmts.push(m.global.set(GLOBAL.ctxLen, get(D.LEN)));
  }
  return stmts;
}

/**
 * A verified program's packet context must describe a packet in the heap (src/runtime/entry.ts): the
 * wrapper checked the struct's own address, this checks the pointers in it, once per event.
 */
function packetCheck(mc: ModuleContext): Expr[] {
  const p = mc.verified?.entry.packet;
  if (!p) return [];
  const m = mc.m;
  const base = (): Expr => m.local.get(D.BASE, i32);
  const field = (off: number): Expr => (p.width === 8 ? m.i64.load(off, 8, base()) : m.i64.load32_u(off, 4, base()));
  const data = (): Expr => field(p.data);
  const end = (): Expr => field(p.end);
  const memEnd = m.i64.shl(m.i64.extend_u(m.memory.size('memory')), i64Const(m, 16n));
  let bad = m.i32.or(
    m.i32.or(m.i64.lt_u(data(), i64Const(m, BigInt(mc.mem.heapStart))), m.i64.lt_u(end(), data())),
    m.i64.gt_u(end(), memEnd),
  );
  if (p.meta !== undefined) bad = m.i32.or(bad, m.i64.ne(field(p.meta), data()));
  return [m.if(bad, m.block(null, [
    m.global.set(GLOBAL.errCode, m.i32.const(trapCode('E_INPUT'))),
    m.global.set(GLOBAL.errPc, base()),
    m.unreachable(),
  ]))];
}

/** Only calls (calls.ts) read `unwinding`; without them nothing that sets it has a reader. */
const resetsUnwinding = (mc: ModuleContext): boolean => mc.facts.unwinds && needsRunGlobals(mc);

/** Once per event: the packet check, the context, a full budget, no unwinding. */
function perEventSetup(mc: ModuleContext, budget: number): Expr[] {
  const m = mc.m;
  const stmts: Expr[] = packetCheck(mc);
  if (needsRunGlobals(mc)) stmts.push(m.global.set(GLOBAL.ctxStart, m.i64.extend_u(m.local.get(D.BASE, i32))));
  if (mc.budgetChecks) stmts.push(m.global.set(GLOBAL.fuel, i64Const(m, BigInt(budget))));
  if (resetsUnwinding(mc)) stmts.push(m.global.set(GLOBAL.unwinding, m.i32.const(0)));
  stmts.push(...tailEventSetup(mc));
  return stmts;
}

/**
 * The entry's registers and run-wide values for one event: r1 = ctx, r2 = len, r3..r5 = 0, r10 =
 * frame top, stack start, ctx start, limits. A function's locals start at 0 on every call, the
 * inlined entry's would keep the last event's: unverified code may read r0 and r6-r9 before writing
 * them (they read 0, src/runtime/executable.ts), and the flat layout dispatches on the label local.
 */
function entryRegisters(e: FnEmitter, limits: readonly number[]): Expr[] {
  const m = e.m;
  const ctx = (): Expr => m.i64.extend_u(m.local.get(D.BASE, i32));
  const stack = (): Expr => m.i64.extend_u(m.local.get(D.STACK, i32));
  const zero = (): Expr => i64Const(m, 0n);
  const top = m.i64.add(stack(), i64Const(m, BigInt(STACK_PER_CPU)));
  const values = [ctx(), m.i64.extend_u(m.local.get(D.LEN, i32)), zero(), zero(), zero(), top, stack(), ctx(), ...limits.map((l) => m.local.get(l, i64))];
  const stmts = values.map((value, i) => m.local.set(e.paramLocal(i), value));
  if (!e.mc.verified) for (const r of [0, 6, 7, 8, 9]) stmts.push(e.set(r, zero()));
  stmts.push(m.local.set(e.labelLocal, m.i32.const(0)));
  return stmts;
}

/**
 * drive(base, stride, len, count, results, stackStart) -> r0 of the last event: the event loop, with
 * the program's entry function written into it (no call per event). Both single runs (count 1) and
 * batches go through it. The loop is do-while, so count must be at least 1 (the wrapper never calls
 * run_batch for no events): a guard in front of it, or the count tested at the top, measured slower
 * (bench/README.md, "Design measurements").
 */
function addDriveFunction(mc: ModuleContext, budget: number): void {
  const m = mc.m;
  const e = emitterFor(mc, mc.program.functions[0]!, { base: DRIVE_PARAMS, label: 'ran' });
  const limits = LIMIT_SIZES.map(() => e.temp(i64));
  const r0 = e.result!;
  const bump = (i: number, by: Expr): Expr => m.local.set(i, m.i32.add(m.local.get(i, i32), by));
  const entry = functionBody(e); // first: the setup depends on the calls it emitted (needsRunGlobals)
  const body = m.block(null, [
    ...sharedSetup(mc, limits),
    m.loop('next', m.block(null, [
      ...perEventSetup(mc, budget),
      ...entryRegisters(e, limits),
      m.block('ran', [...entry, m.unreachable()]),
      // A helper may start a nested run of this program; it must not see this run's unwinding.
      ...(resetsUnwinding(mc) ? [m.global.set(GLOBAL.unwinding, m.i32.const(0))] : []),
      m.i64.store(0, 8, m.local.get(D.RESULTS, i32), m.local.get(r0, i64)),
      bump(D.BASE, m.local.get(D.STRIDE, i32)),
      bump(D.RESULTS, m.i32.const(8)),
      bump(D.COUNT, m.i32.const(-1)),
      ...tailEventEnd(mc, D.COUNT, r0),
      m.br('next', m.local.get(D.COUNT, i32)),
    ])),
    m.local.get(r0, i64),
  ], i64);
  m.addFunction(DRIVE_FUNCTION, tupleType(new Array(DRIVE_PARAMS).fill(i32)), i64, e.localTypes(), body);
}

/** run64 / run32 (ctx, len, stackStart) and run_batch (base, stride, len, count, results, stackStart). */
function addEntryExports(mc: ModuleContext, scratch: number): void {
  const m = mc.m;
  const get = (i: number): Expr => m.local.get(i, i32);
  const k = (n: number): Expr => m.i32.const(n);
  const single = (): Expr => m.call(DRIVE_FUNCTION, [get(0), k(0), get(1), k(1), k(scratch), get(2)], i64);
  // A chain started by these entries has made no tail call yet (run_tail starts one further on).
  const fromZero = (run: Expr, type: typeof i32 | typeof i64 | typeof none): Expr =>
    (mc.tails ? m.block(null, [m.global.set(GLOBAL.tailStart, m.i32.const(0)), run], type) : run);
  const three = tupleType([i32, i32, i32]);
  m.addFunction(EXPORT.run64, three, i64, [], fromZero(single(), i64));
  m.addFunction(EXPORT.run32, three, i32, [], fromZero(m.i32.wrap(single()), i32));
  const batch = m.call(DRIVE_FUNCTION, [get(0), get(1), get(2), get(3), get(4), get(5)], i64);
  m.addFunction(EXPORT.runBatch, tupleType([i32, i32, i32, i32, i32, i32]), none, [], fromZero(m.drop(batch), none));
  addTailExports(mc, single);
  for (const name of [EXPORT.run64, EXPORT.run32, EXPORT.runBatch]) m.addFunctionExport(name, name);
}

const isMemoryInsn = (kind: string): boolean => kind === 'ldx' || kind === 'st' || kind === 'stx' || kind === 'atomic';

/**
 * Facts from verifying another program would make unchecked code unsafe: refuse facts whose shape
 * does not fit (slots, functions, an entry reached, a fact on the second slot of an lddw, a reached
 * memory access not proved in bounds). Facts of another program of the same shape cannot be told apart.
 */
function checkFacts(program: Program, facts: VerifierFacts | undefined): void {
  if (!facts) return;
  const refuse = (why: string): never => {
    throw new InputError(`the verifier facts do not describe this program: ${why}`);
  };
  if (facts.insns.length !== program.slotCount || facts.stackDepth.length !== program.functions.length) {
    refuse(`they are for ${facts.insns.length} slots and ${facts.stackDepth.length} functions, ` +
      `not ${program.slotCount} slots and ${program.functions.length} functions`);
  }
  if (facts.insns[0] === undefined) refuse('they do not reach the entry instruction');
  facts.insns.forEach((f, pc) => {
    if (f === undefined) return;
    const insn = program.insnAt[pc];
    if (!insn) refuse(`they describe slot ${pc}, the second half of an lddw`);
    else if (isMemoryInsn(insn.kind) && f.inBounds !== true) refuse(`the memory access at pc ${pc} is not proved in bounds`);
  });
}

/**
 * What the module checks at run time. A verified program (facts given) needs no budget (the verifier
 * bounds every loop, unless its facts say `needsBudget`) and no call-depth check (it refuses a ninth
 * frame), and by default no bounds checks; `checked: true` keeps bounds checks and the budget anyway.
 */
function moduleContext(m: WasmModule, program: Program, rt: Runtime, options: ModuleOptions, memoryEnd: number): ModuleContext {
  refuseFrameWrites(program);
  checkFacts(program, options.facts);
  const facts = analyzeProgram(program);
  const trusted = options.facts !== undefined && !options.checked;
  return {
    m, program, facts, checked: options.checked, regions: programRegions(rt.mem, options), maps: options.maps, imports: new Set(), memoryEnd, helpers: rt.helpers,
    structure: options.structure, verified: options.facts, jumpTables: options.jumpTables, valueTables: options.valueTables, mem: rt.mem,
    // Each walk of the call graph only where its answer matters (a verified load needs neither).
    budgetChecks: (!trusted || options.facts.needsBudget === true) && maxCost(program) > options.budget,
    depthChecks: options.facts === undefined && !callDepthIsStatic(program),
    tails: mayTailCall(program, rt.helpers),
  };
}

/** The module for `program`, as the baseline tier runs it. */
export function buildModule(program: Program, rt: Runtime, options: ModuleOptions): WasmModule {
  const memoryEnd = rt.mem.memory.buffer.byteLength;
  const m = new WasmModule();
  const scratch = scratchSlot(rt.mem); // before any value table takes the internal area's room
  const mc = moduleContext(m, program, rt, options, memoryEnd);
  m.importMemory(IMPORT_MODULE, 'memory', Math.floor(memoryEnd / WASM_PAGE), MAX_WASM32_PAGES, true);
  addGlobals(mc);
  addTailGlobals(mc);
  for (const fn of program.functions.slice(1)) compileFunction(mc, fn); // the entry is written into drive
  addDriveFunction(mc, options.budget);
  // V8 (Node 20) compiles a wrapper for every JS function import with each module, ~0.1 ms
  // (bench/README.md): only code that calls a helper through JavaScript imports it.
  if (mc.imports.has(HELPER_IMPORT)) m.addFunctionImport(HELPER_IMPORT, IMPORT_MODULE, HELPER_IMPORT, tupleType([i32, i32, i64, i64, i64, i64, i64, i64]), i64);
  addEntryExports(mc, scratch);
  addServiceExports(mc);
  return m;
}

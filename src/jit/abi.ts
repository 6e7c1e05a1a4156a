/**
 * The contract between generated WebAssembly and its JavaScript wrapper: import and export names,
 * module globals, and the numbers a trap leaves behind.
 *
 * Errors raised inside WebAssembly store (code, pc) in globals and execute `unreachable`; the wrapper
 * catches the RuntimeError and reads them back through the `take_error` export. Errors raised
 * by helpers are thrown as BpfRuntimeErrors from the import and pass through WebAssembly untouched.
 */
import { InternalError, type ErrorCode } from '../errors.js';

export const IMPORT_MODULE = 'env';
/**
 * (pc: i32, id: i32, r1..r5: i64, r10: i64) -> i64; also serves callx, with the id taken from the
 * register. r10 tells the helper which stack frames are in use (its regions, executable.ts).
 */
export const HELPER_IMPORT = 'helper';

export const EXPORT = {
  /** (ctx: i32, len: i32, stackStart: i32) -> i64. */
  run64: 'run64',
  /** Same parameters, -> i32: only i32 crosses, so no BigInt on the hot path. */
  run32: 'run32',
  /** (base: i32, stride: i32, len: i32, count: i32, results: i32, stackStart: i32) -> () */
  runBatch: 'run_batch',
  /** () -> the code of the last trap (0: none recorded), clearing it. */
  takeError: 'take_error',
  /** () -> where the last trap happened: its pc, or for E_INPUT the address of the event's context. */
  errorAt: 'error_at',
  /** Called from the helper import when an unwindOnZero helper returned 0. */
  setUnwind: 'set_unwind',
  ctxStart: 'ctx_start',
  ctxLen: 'ctx_len',
  /** Programs that may tail call (src/jit/tail-call.ts): (ctx, len, stackStart, count) -> i64, a chain's next run. */
  runTail: 'run_tail',
  /** () -> the next program's id after a tail call (0: none), clearing it. */
  takeTail: 'take_tail',
  /** () -> the run's tail calls so far. */
  tailCount: 'tail_count',
  /** () -> the events run_batch had left when a tail call stopped it. */
  batchLeft: 'batch_left',
  /** (target, count): what the JS tail_call helper decided (callx). */
  setTail: 'set_tail',
} as const;

/** Module globals (never exported: the wrapper goes through the small functions above). */
export const GLOBAL = {
  errCode: 'err_code',
  errPc: 'err_pc',
  unwinding: 'unwinding',
  fuel: 'fuel',
  stackStart: 'stack_start',
  ctxStart: 'ctx_start',
  ctxLen: 'ctx_len',
  tailCount: 'tail_count',
  tailTarget: 'tail_target',
  tailStart: 'tail_start',
  batchLeft: 'batch_left',
} as const;

/** Name of the global holding max(ctxLen - size + 1, 0): an access of `size` bytes at ctx + d is inside iff d <u it. */
export const ctxLimitGlobal = (size: number): string => `ctx_limit${size}`;

export const functionName = (index: number): string => `bpf_fn${index}`;

/**
 * Trap codes stored in `err_code`; 0 means "no error recorded" (a trap the JIT did not plan).
 * E_INPUT: the event loop found a packet context whose pointers break the entry checks.
 * E_RUN_HELPER: a helper run inside WebAssembly failed (bpf_spin_lock gave up on a lock never released).
 * E_RUN_CALLBACK: a callback helper was given something other than one of the program's callbacks (checked code).
 */
export const TRAP_CODES: ReadonlyArray<ErrorCode> = ['E_RUN_MEMORY', 'E_RUN_BUDGET', 'E_RUN_CALL_DEPTH', 'E_RUN_UNKNOWN_HELPER', 'E_INPUT', 'E_RUN_HELPER', 'E_RUN_CALLBACK'];

export function trapCode(code: ErrorCode): number {
  const index = TRAP_CODES.indexOf(code);
  if (index < 0) throw new InternalError(`no trap code for ${code}`);
  return index + 1;
}

export function trapErrorCode(value: number): ErrorCode | undefined {
  return TRAP_CODES[value - 1];
}

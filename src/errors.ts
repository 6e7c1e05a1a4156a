/**
 * Every error bpfjit raises on purpose is a BpfError with a stable `code`, so callers and tests can
 * match on the code and the location instead of the text. Anything else escaping is a bug.
 */
export type ErrorCode =
  // decoding (bytes to instructions)
  | 'E_DECODE_LENGTH'
  | 'E_DECODE_EMPTY'
  | 'E_DECODE_OPCODE'
  | 'E_DECODE_REGISTER'
  /** A decoded instruction's field that its bits cannot hold (off beyond int16, imm beyond int32). */
  | 'E_DECODE_FIELD'
  | 'E_DECODE_RESERVED'
  | 'E_DECODE_LDDW_TRUNCATED'
  | 'E_DECODE_LDDW_SECOND'
  | 'E_DECODE_PROGRAM_TOO_LARGE'
  // structure (control flow over the decoded program)
  | 'E_JUMP_OUT_OF_RANGE'
  | 'E_JUMP_INTO_LDDW'
  | 'E_CALL_TARGET'
  | 'E_FALLS_OFF_END'
  | 'E_RECURSION'
  | 'E_UNKNOWN_HELPER'
  /** An lddw naming a map the loader was not given, or a map value it cannot address. */
  | 'E_PROGRAM_MAP'
  // verifier (src/verifier): a well-formed program that is unsafe
  | 'E_VERIFY_UNINIT_REGISTER'
  | 'E_VERIFY_WRITE_R10'
  | 'E_VERIFY_UNINIT_STACK'
  | 'E_VERIFY_STACK_BOUNDS'
  | 'E_VERIFY_STACK_ACCESS'
  | 'E_VERIFY_STACK_DEPTH'
  | 'E_VERIFY_CALL_DEPTH'
  | 'E_VERIFY_CTX_ACCESS'
  | 'E_VERIFY_CTX_READONLY'
  | 'E_VERIFY_PKT_ACCESS'
  | 'E_VERIFY_MEM_ACCESS'
  | 'E_VERIFY_INVALID_DEREF'
  | 'E_VERIFY_NULL_DEREF'
  | 'E_VERIFY_ATOMIC'
  | 'E_VERIFY_PTR_ARITH'
  | 'E_VERIFY_PTR_COMPARE'
  | 'E_VERIFY_PTR_LEAK'
  | 'E_VERIFY_RETURN'
  | 'E_VERIFY_HELPER'
  | 'E_VERIFY_HELPER_ARG'
  | 'E_VERIFY_CALLX'
  | 'E_VERIFY_MAP'
  | 'E_VERIFY_REF_LEAK'
  | 'E_VERIFY_REF_RELEASED'
  /** A tail call where the kernel refuses one (inside a subprogram). */
  | 'E_VERIFY_TAIL_CALL'
  | 'E_VERIFY_SPIN_LOCK'
  /** LD_ABS / LD_IND where the kernel refuses them (no __sk_buff context, r6 not the context, a subprogram). */
  | 'E_VERIFY_LD_ABS'
  /** A bpf_loop / for_each_map_elem callback that is not a subprogram or may return other than 0 or 1. */
  | 'E_VERIFY_CALLBACK'
  /** A reached instruction that a failed CO-RE relocation poisoned (`call 0xbad2310`). */
  | 'E_VERIFY_CORE'
  | 'E_VERIFY_UNSUPPORTED'
  | 'E_VERIFY_LOOP'
  | 'E_VERIFY_BUDGET'
  // assembler
  | 'E_ASM_SYNTAX'
  | 'E_ASM_MNEMONIC'
  | 'E_ASM_OPERANDS'
  | 'E_ASM_REGISTER'
  | 'E_ASM_RANGE'
  | 'E_ASM_LABEL'
  /** A `.map` declaration the kernel would refuse, a duplicate, or an unknown map name. */
  | 'E_ASM_MAP'
  // runtime (interpreter and JIT must raise the same ones, at the same pc)
  | 'E_RUN_MEMORY'
  | 'E_RUN_BUDGET'
  | 'E_RUN_CALL_DEPTH'
  | 'E_RUN_HELPER'
  | 'E_RUN_UNKNOWN_HELPER'
  /** Unverified code passed a callback helper something that is not a subprogram's code address. */
  | 'E_RUN_CALLBACK'
  // a map operation the kernel would answer with an errno (src/maps)
  | 'E_MAP'
  // input files and arguments
  | 'E_INPUT'
  // objects from clang (src/elf, src/btf): the ELF file, its BTF, its CO-RE relocations
  | 'E_ELF'
  | 'E_BTF'
  | 'E_CORE'
  /** A worker thread of a pool (src/workers) died, or could not start. */
  | 'E_WORKER'
  // a bug in bpfjit itself, never the user's input
  | 'E_INTERNAL';

export class BpfError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A program (bytes or instructions) that cannot be accepted; `pc` is the slot index. */
export class ProgramError extends BpfError {
  readonly pc: number;
  constructor(code: ErrorCode, pc: number, message: string) {
    super(code, `pc ${pc}: ${message}`);
    this.pc = pc;
  }
}

/**
 * Assembly text that cannot be assembled; line and column are 1-based. With a `file` the message
 * reads `file:line:column: reason`, the form editors jump to.
 */
export class AsmError extends BpfError {
  readonly line: number;
  readonly column: number;
  /** The message without the position. */
  readonly reason: string;
  readonly file: string | undefined;
  constructor(code: ErrorCode, line: number, column: number, reason: string, file?: string) {
    super(code, file === undefined ? `line ${line}, column ${column}: ${reason}` : `${file}:${line}:${column}: ${reason}`);
    this.line = line;
    this.column = column;
    this.reason = reason;
    this.file = file;
  }

  /** The same error placed in `file`, where the assembled text starts on line `firstLine`. */
  inFile(file: string, firstLine = 1): AsmError {
    return new AsmError(this.code, this.line + firstLine - 1, this.column, this.reason, file);
  }
}

/** A program stopped while running; `pc` is the slot index of the instruction that failed. */
export class BpfRuntimeError extends BpfError {
  readonly pc: number;
  constructor(code: ErrorCode, pc: number, message: string) {
    super(code, `pc ${pc}: ${message}`);
    this.pc = pc;
  }
}

/** Bad user input outside a program: a file, an argument, a data file. */
export class InputError extends BpfError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/**
 * An object file (ELF, BTF, CO-RE) that cannot be loaded. `section` names the ELF section ('' for the
 * file header), `offset` is the byte offset inside it; the message starts with both.
 */
export class ObjectError extends BpfError {
  readonly section: string;
  readonly offset: number;
  readonly reason: string;
  constructor(code: 'E_ELF' | 'E_BTF' | 'E_CORE', section: string, offset: number, reason: string) {
    super(code, `${section === '' ? 'ELF header' : `section ${section}`}, offset 0x${offset.toString(16)}: ${reason}`);
    this.section = section;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * A map update or delete that the kernel would refuse with an errno (EEXIST, ENOENT, E2BIG, EINVAL):
 * `errno` is its name, and the message names the map and the operation.
 */
export class MapError extends BpfError {
  readonly errno: string;
  constructor(errno: string, message: string) {
    super('E_MAP', message);
    this.errno = errno;
  }
}

/**
 * An error in a worker thread of a pool (src/workers): a run that failed there (its `code` and `pc`,
 * as the thread's engine raised them: E_RUN_*, E_INPUT, ...), or the thread itself dying (E_WORKER,
 * pc -1). `cpu` is the worker's CPU; the message starts with it.
 */
export class WorkerError extends BpfError {
  readonly cpu: number;
  readonly pc: number;
  constructor(code: ErrorCode, cpu: number, pc: number, message: string) {
    super(code, `cpu ${cpu}: ${message}`);
    this.cpu = cpu;
    this.pc = pc;
  }
}

/** A broken invariant inside bpfjit: a bug to report, never the user's fault (CLI exit 70). */
export class InternalError extends BpfError {
  constructor(message: string) {
    super('E_INTERNAL', `internal error: ${message}`);
  }
}

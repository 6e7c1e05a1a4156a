/** bpfjit's library entry point. */
export { Vm, LoadedProgram, type VmOptions, type LoadOptions, type EngineOptions, type EngineName } from './vm.js';
export type { CurrentTask, CurrentTaskFn, TracePrintkSink, AddressSpace, ProbeReadFn } from './helpers/index.js';
export { toProgram, loadProgramFile, decodeProgramFile, decodeProgramFileUnit, type ProgramSource, type ProgramFile, type BuildOptions } from './source.js';
export {
  assemble, assembleBytes, assembleUnit, disassemble, disassembleChunks, formatInsn,
  type AsmUnit, type DisassembleOptions, type Listable,
} from './asm/index.js';
export { decode, decodeSlots, toSlots } from './isa/decode.js';
export { encode } from './isa/encode.js';
export { OPCODE_TABLE, type OpcodeRow } from './isa/table.js';
export type { Insn, RawSlot, Form } from './isa/insn.js';
export { buildProgram, decodeProgram, loadBytes, type Program, type BpfFunction, type BasicBlock } from './program/program.js';
export { EngineMemory, type MemoryShare, type Region } from './runtime/memory.js';
export { HelperRegistry, HelperFault, checkedAddress, type HelperSpec, type HelperImpl, type HelperEnv } from './runtime/helpers.js';
export type { Executable, ExecOptions, Runtime } from './runtime/executable.js';
export { createInterpreter } from './interp/index.js';
export { compileJit, loadOptimizer, optimizerLoaded, type Tier } from './jit/index.js';
export { BpfError, ProgramError, AsmError, BpfRuntimeError, InputError, MapError, ObjectError, WorkerError, type ErrorCode } from './errors.js';
export { createMap, attachMap, BpfMap, RingBuf, PerfEventArray, ProgArray, type MapShare, type MapValues, type TailProgram } from './maps/map.js';
export type { PerfRecord, PerfCallback } from './maps/perf.js';
export type { Batch, BatchCursor } from './maps/batch.js';
export { BpfQueue, BpfBloomFilter } from './maps/map-keyless.js';
export type { PollOptions, RawRecordCallback, RecordCallback } from './maps/ringbuf.js';
export type { MapSpec } from './maps/spec.js';
export type { MapBytes } from './maps/values.js';
export {
  BPF_MAP_TYPE, BPF_F, BPF_ANY, BPF_NOEXIST, BPF_EXIST, type MapTypeId, type MapTypeName, type PerCpuMapType,
} from './maps/types.js';
export { mapOperations, type MapOpsExports } from './maps/ops.js';
export { lpmKey, cidrKey, lpmKeyText } from './maps/lpm-key.js';
export {
  verify, memory, event, packet, structContext, xdp, socketFilter, tc, kernelContextByName, VerifyError, DEFAULT_VERIFY_BUDGET,
  type ContextDescriptor, type ContextLayout, type CtxField, type CtxNarrow, type HelperProto, type ArgKind, type RetKind, type VerifierFacts,
  type VerifyOptions, type VerifyResult, type VerifyStats, type LogLevel,
} from './verifier/index.js';
export { type Verification } from './vm.js';
export {
  parseObject, loadObject, ObjectVariables, sectionType, programInsnOf, sourceOf,
  type ParseObjectOptions, type ObjectLoadOptions, type LoadedObject, type ContextKind, type SectionType,
  type ObjectSpec, type ProgramSpec, type ObjectMapSpec, type ObjectMapKind, type VariableSpec, type KconfigExtern, type CodeRange,
  type VariableValue, type KconfigValue,
} from './elf/index.js';
export { buildContext, writeContext, contextBytes, type ContextFieldValues } from './runtime/build-context.js';
export { XDP_MD, SK_BUFF } from './runtime/kernel-layout.js';
export type { WorkerPool, PoolOptions, PlacedBatch } from './workers/pool.js';
export type { HelperModule } from './workers/replica.js';

import type { Command } from 'commander';
import { assembleUnit, disassembleChunks, type AsmUnit } from '../asm/index.js';
import { AsmError, InputError } from '../errors.js';
import { encode } from '../isa/encode.js';
import { programToDot } from '../program/dot.js';
import type { Program } from '../program/program.js';
import { readInputFile, readTextFile, type BuildOptions } from '../source.js';
import { verify, type LogLevel, type Termination, type VerifierFacts } from '../verifier/index.js';
import type { HelperRegistry } from '../runtime/helpers.js';
import { standardRegistry } from '../runtime/standard-helpers.js';
import { bindMaps, declaredDescriptors } from '../maps/bind.js';
import { parseEngine, parseHexBytes, parsePositiveInt, parseSyntax } from './args.js';
import { registerBench } from './bench.js';
import { registerConformance } from './conformance.js';
import { parseContextType } from './context-arg.js';
import { REPEAT_HELP } from './timing.js';
import { helpersFor } from './helpers.js';
import { checkOutputPath, writeOutputFile } from './output-path.js';
import { decodeProgramNamed, loadAnyProgram } from './program-file.js';
import { verifyCommand } from './verify.js';
import { isObjectFile, parseSets } from './object-args.js';
import { registerObjectCommands } from './object-commands.js';
import type { VariableValue } from '../elf/index.js';

const MAX_INSNS_HELP = 'refuse programs of more than N instruction slots (default 1000000, the kernel\'s limit)';

function buildOptions(opts: { maxInsns?: string }): BuildOptions {
  return opts.maxInsns === undefined ? {} : { maxSlots: parsePositiveInt('--max-insns', opts.maxInsns) };
}

/** Resolves when `out` can take more, or will take nothing more (main.ts handles its errors). */
function drained(out: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'error', 'close']) out.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'error', 'close']) out.on(event, done);
  });
}

/** Writes to stdout, waiting whenever its buffer is full, so a long listing never piles up in memory. */
async function writeChunks(chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!process.stdout.write(chunk)) await drained(process.stdout);
  }
}

function registerAsm(cli: Command): void {
  cli.command('asm')
    .description('assemble a text file (either syntax) into little-endian bytecode')
    .argument('<in>', 'assembly file')
    .requiredOption('-o, --output <file>', 'bytecode output file')
    .option('--syntax <syntax>', 'llvm or ubpf (default: detected)')
    .addHelpText('after', ASM_MAPS_HELP)
    .action((input: string, opts: { output: string; syntax?: string }) => {
      const syntax = parseSyntax(opts.syntax);
      checkOutputPath('-o', opts.output);
      const text = readTextFile(input);
      let unit: AsmUnit;
      try {
        unit = assembleUnit(text, syntax);
      } catch (err) {
        throw err instanceof AsmError ? err.inFile(input) : err;
      }
      writeOutputFile('-o', opts.output, encode(unit.insns));
      if (unit.maps.length > 0) process.stderr.write(`${mapsDroppedWarning(input, unit.maps.map((m) => m.name ?? ''))}\n`);
    });
  cli.command('disasm')
    .description('print a program (bytecode, assembly, .data file or ELF object) as assembly; only decoded, so broken jumps print too')
    .argument('<in>', 'program file')
    .option('--syntax <syntax>', 'llvm or ubpf', 'llvm')
    .option('--section <name>', SECTION_HELP)
    .option('--source', 'an object\'s program: the C source lines above their instructions (needs clang -g)')
    .option('--max-insns <n>', MAX_INSNS_HELP)
    .action(async (input: string, opts: { syntax: string; maxInsns?: string; section?: string; source?: boolean }) => {
      const syntax = parseSyntax(opts.syntax) ?? 'llvm';
      if (!isObjectFile(input)) {
        if (opts.section !== undefined || opts.source) throw new InputError(`${opts.source ? '--source' : '--section'}: ${input} is not an ELF object`);
        await writeChunks(disassembleChunks(decodeProgramNamed(input, buildOptions(opts)), syntax));
        return;
      }
      const program = (await loadAnyProgram(input, { ...buildOptions(opts), ...sectionOption(opts) })).program;
      if (opts.source && !program.lines?.length) throw new InputError(`--source: ${input} has no line info (compile it with clang -g)`);
      await writeChunks(disassembleChunks(program, syntax, opts.source ? { lines: program.lines! } : {}));
    });
}

const ASM_MAPS_HELP = `
Maps: bytecode has no room for the maps a file declares (.map lines). asm still writes the
instructions, whose lddw map_by_idx(N) number the maps in declaration order, and prints one
warning line on stderr naming the maps left behind (exit 0). To keep them, keep the .s file: the
commands that take a program (disasm, run, verify, ...) read its declarations.`;

/** The one stderr line of `asm` for a file with maps. */
const mapsDroppedWarning = (input: string, names: readonly string[]): string =>
  `bpfjit asm: warning: ${input} declares ${names.length === 1 ? 'map' : 'maps'} ${names.join(', ')}, which bytecode cannot hold: the output has the instructions only`;

function registerRun(cli: Command): void {
  cli.command('run')
    .description('run a program once (r1 = input memory, r2 = its length) and print r0')
    .argument('<prog>', 'program: .s/.asm text, .bin bytecode, conformance .data or an ELF object (.o)')
    .option('--engine <engine>', 'interp or jit', 'jit')
    .option('--tier <tier>', 'the JIT\'s tier: baseline, optimized (binaryen first) or auto (baseline, optimized once hot)', 'auto')
    .option('--mem <file>', 'input memory from a file')
    .option('--mem-hex <hex>', 'input memory as hex bytes')
    .option('--repeat <n>', 'also time at least N runs and print the median time of one (see below)')
    .option('--type <type>', TYPE_HELP)
    .option('--context <kind>', 'xdp, socket or tc: build that kernel context (struct xdp_md or __sk_buff) around the packet given by --mem/--mem-hex')
    .option('--section <name>', SECTION_HELP)
    .option('--set <name=value>', SET_HELP, collect, [])
    .option('--events <file>', 'run once per record of the file (an object\'s tracing program: its event records; a packet program: packets of --stride bytes) and count the r0 values')
    .option('--stride <n>', 'the size of each --events record (default: the size of the record the program reads)')
    .option('--workers <n>', 'run the --events records on N worker threads (CPUs 0..N-1), split in order')
    .option('--unverified', 'skip the verifier; run with bounds checks and an instruction budget')
    .option('--log-level <n>', 'verifier log: 0, 1 (path to a refusal) or 2 (every state)', '0')
    .option('--termination <mode>', TERMINATION_HELP, 'prove')
    .option('--max-insns <n>', MAX_INSNS_HELP)
    .option('--dump-maps', 'after the run, print the program\'s maps (per-CPU values per CPU and summed)')
    .option('--json', 'print r0 (with --dump-maps, the maps too) as one JSON object')
    .addHelpText('after', REPEAT_HELP)
    .action(async (prog: string, opts: RunOpts) => {
      const repeat = opts.repeat === undefined ? undefined : parsePositiveInt('--repeat', opts.repeat);
      const tier = parseEngine(opts.tier, ['baseline', 'optimized', 'auto'] as const, '--tier');
      const { runCommand } = await import('./run.js');
      if (tier === 'optimized') await (await import('../jit/index.js')).loadOptimizer();
      await runCommand(prog, {
        engine: parseEngine(opts.engine, ['interp', 'jit'] as const), tier, mem: memOption(opts), repeat,
        ...typeOption(contextOption(opts)), context: opts.context !== undefined, unverified: opts.unverified ?? false, logLevel: parseLogLevel(opts.logLevel),
        termination: parseTermination(opts.termination), ...buildOptions(opts), dumpMaps: opts.dumpMaps ?? false, json: opts.json ?? false,
        ...objectOptions(opts), ...eventsOption(opts), ...(opts.workers !== undefined ? { workers: parsePositiveInt('--workers', opts.workers) } : {}),
      });
    });
  cli.command('verify')
    .description('verify a program: exit 0 with a summary when it is safe, 1 with the reason when not')
    .argument('<prog>', 'program: .s/.asm text, .bin bytecode, conformance .data or an ELF object (.o)')
    .option('--type <type>', TYPE_HELP)
    .option('--section <name>', SECTION_HELP)
    .option('--set <name=value>', SET_HELP, collect, [])
    .option('--mem <file>', 'input memory (its size sets the memory context size)')
    .option('--mem-hex <hex>', 'input memory as hex bytes')
    .option('--log-level <n>', '0, 1 (the path to a refusal) or 2 (the state at every instruction)', '0')
    .option('--termination <mode>', TERMINATION_HELP, 'prove')
    .option('--max-insns <n>', MAX_INSNS_HELP)
    .action(async (prog: string, opts: RunOpts) => {
      await verifyCommand(prog, {
        ...(opts.type !== undefined ? { type: opts.type } : {}), mem: memOption(opts), logLevel: parseLogLevel(opts.logLevel),
        termination: parseTermination(opts.termination), ...buildOptions(opts), ...objectOptions(opts),
      });
    });
}

const TERMINATION_HELP = 'prove (loops must be proven to end) or budget (loops only proven safe; runs keep the instruction budget)';

interface RunOpts {
  engine: string; tier: string; mem?: string; memHex?: string; repeat?: string; type?: string; unverified?: boolean; logLevel: string; termination: string;
  maxInsns?: string; dumpMaps?: boolean; json?: boolean; context?: string; section?: string; set: string[]; events?: string; stride?: string; workers?: string;
}

const TYPE_HELP = 'context to verify against: memory, memory:SIZE, event:SIZE, packet, xdp, socket or tc (default: memory; an object\'s program: its section\'s)';
const SECTION_HELP = 'an ELF object\'s program, by section or program name (default: its only program)';
const SET_HELP = 'an ELF object\'s global variable (.rodata, .data, .bss) before load: NAME=VALUE, decimal or 0x hex, true or false; repeatable';
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const sectionOption = (opts: { section?: string }): { section?: string } => (opts.section === undefined ? {} : { section: opts.section });

/** --section and --set, for the commands that load an object. */
function objectOptions(opts: { section?: string; set: string[] }): { section?: string; set?: Record<string, VariableValue> } {
  return { ...sectionOption(opts), ...(opts.set.length > 0 ? { set: parseSets(opts.set) } : {}) };
}

function eventsOption(opts: RunOpts): { events?: Uint8Array; stride?: number } {
  if (opts.events === undefined) {
    if (opts.stride !== undefined) throw new InputError('--stride goes with --events');
    return {};
  }
  return { events: new Uint8Array(readInputFile(opts.events)), ...(opts.stride !== undefined ? { stride: parsePositiveInt('--stride', opts.stride) } : {}) };
}

/** `--context KIND` names one of the kernel contexts; it stands for `--type KIND`, and both together must agree. */
function contextOption(opts: RunOpts): string | undefined {
  const kind = opts.context;
  if (kind === undefined) return opts.type;
  if (!['xdp', 'socket', 'tc'].includes(kind)) throw new InputError(`--context must be xdp, socket or tc, not '${kind}'`);
  if (opts.type !== undefined && opts.type !== kind) throw new InputError(`--context ${kind} and --type ${opts.type} disagree: give one of them`);
  return kind;
}

const typeOption = (type: string | undefined): { type?: string } => (type === undefined ? {} : { type });

function parseTermination(value: string): Termination {
  if (value === 'prove' || value === 'budget') return value;
  throw new InputError(`--termination must be prove or budget, not '${value}'`);
}

function memOption(opts: { mem?: string; memHex?: string }): Uint8Array | undefined {
  if (opts.mem !== undefined && opts.memHex !== undefined) throw new InputError('give --mem or --mem-hex, not both');
  if (opts.mem !== undefined) return new Uint8Array(readInputFile(opts.mem));
  return opts.memHex !== undefined ? parseHexBytes(opts.memHex) : undefined;
}

function parseLogLevel(value: string): LogLevel {
  if (value === '0' || value === '1' || value === '2') return Number(value) as LogLevel;
  throw new InputError(`--log-level must be 0, 1 or 2, not '${value}'`);
}

function registerInspect(cli: Command): void {
  cli.command('cfg')
    .description('print the control-flow graph of a program')
    .argument('<prog>', 'program file')
    .option('--dot', 'as Graphviz dot (the default and only format)')
    .option('--section <name>', SECTION_HELP)
    .option('--max-insns <n>', MAX_INSNS_HELP)
    .action(async (prog: string, opts: { maxInsns?: string; section?: string }) => {
      process.stdout.write(programToDot((await loadAnyProgram(prog, { ...buildOptions(opts), ...sectionOption(opts) })).program) + '\n');
    });
  cli.command('dump-wasm')
    .description('print the WebAssembly module the JIT generates for a program, as text')
    .argument('<prog>', 'program file')
    .option('--tier <tier>', 'baseline (as the code generator writes it) or optimized (after binaryen\'s passes)', 'baseline')
    .option('--type <type>', 'verify against memory:SIZE, event:SIZE or packet and show the verified code (default: checked mode)')
    .option('--section <name>', SECTION_HELP)
    .option('--max-insns <n>', MAX_INSNS_HELP)
    .action(async (prog: string, opts: { tier: string; type?: string; maxInsns?: string; section?: string }) => {
      const tier = parseEngine(opts.tier, ['baseline', 'optimized'] as const, '--tier');
      const program = (await loadAnyProgram(prog, { ...buildOptions(opts), ...sectionOption(opts) })).program;
      const helpers = standardRegistry(helpersFor(prog));
      const facts = opts.type === undefined ? undefined : verifiedFacts(program, helpers, opts.type);
      const { jitToWat, loadOptimizer } = await import('../jit/index.js');
      const { EngineMemory } = await import('../runtime/memory.js');
      await loadOptimizer(); // binaryen prints the text
      const mem = new EngineMemory();
      const maps = bindMaps(mem, program.maps, undefined); // the declared maps, so lddw has addresses
      process.stdout.write(jitToWat(program, { mem, helpers }, { tier, maps, ...(facts ? { facts } : {}) }));
    });
}

/** The verifier's facts for dump-wasm --type; a refusal is thrown (exit 1, like `run`). */
function verifiedFacts(program: Program, helpers: HelperRegistry, type: string): VerifierFacts {
  if (type === 'memory') throw new InputError('dump-wasm --type memory needs a size (there is no input): memory:SIZE');
  const result = verify(program, { context: parseContextType(type, undefined), helpers, maps: declaredDescriptors(program.maps) });
  if (!result.ok) throw result.error;
  return result.facts;
}

export function registerCommands(cli: Command): void {
  registerAsm(cli);
  registerRun(cli);
  registerConformance(cli);
  registerInspect(cli);
  registerBench(cli);
  registerObjectCommands(cli);
}

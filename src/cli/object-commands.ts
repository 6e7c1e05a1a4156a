/**
 * Commands about ELF objects in bpftool's words — `prog list OBJ.o`, `map list OBJ.o` — and
 * `demo [NAME]`, which runs the examples (examples/host, imported only when asked for).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { parseEngine, parsePositiveInt } from './args.js';
import { alignedRows } from './dump-maps.js';
import { parseSets } from './object-args.js';

const print = (lines: readonly string[]): void => { process.stdout.write(lines.map((l) => `${l}\n`).join('')); };
const printJson = (data: unknown): void => { process.stdout.write(`${JSON.stringify(data, null, 2)}\n`); };

async function progList(path: string, opts: { json?: boolean }): Promise<void> {
  const { readObject } = await import('./object-file.js');
  const { decodeProgram } = await import('../program/program.js');
  const spec = readObject(path);
  // Instructions as verify and disasm count them (an lddw is one), before any CO-RE relocation.
  const progs = spec.programs.map((p) => ({
    name: p.name, section: p.section, type: p.type ?? null, insns: decodeProgram(p.bytes).length, maps: p.maps.map((i) => spec.maps[i]!.name),
  }));
  if (opts.json) return printJson(progs);
  if (progs.length === 0) return print([`${path} has no programs`]);
  print(alignedRows([['name', 'section', 'type', 'insns', 'maps'], ...progs.map((p) => [p.name, p.section, p.type ?? '(unknown)', String(p.insns), p.maps.join(', ')])]));
}

async function mapList(path: string, opts: { json?: boolean }): Promise<void> {
  const { readObject } = await import('./object-file.js');
  const { objectBtf } = await import('../elf/index.js');
  const { mapTypeId, mapTypeName } = await import('../maps/types.js');
  const spec = readObject(path);
  const btf = objectBtf(spec);
  const maps = spec.maps.map((m, i) => {
    const id = mapTypeId(m.spec.type);
    return {
      name: m.name, type: id === undefined ? String(m.spec.type) : mapTypeName(id), keySize: m.spec.keySize, valueSize: m.spec.valueSize,
      maxEntries: m.spec.maxEntries, flags: m.spec.flags ?? 0, kind: m.kind,
      ...(m.kind === 'user' ? {} : {
        variables: spec.variables.filter((v) => v.map === i).sort((a, b) => a.offset - b.offset)
          .map((v) => ({ name: v.name, offset: v.offset, size: v.size, type: btf && v.type ? btf.typeName(v.type) : null })),
      }),
    };
  });
  if (opts.json) return printJson(maps);
  if (maps.length === 0) return print([`${path} has no maps`]);
  const header = ['name', 'type', 'key', 'value', 'entries', 'flags', 'kind', 'variables'];
  print(alignedRows([header, ...maps.map((m) => [
    m.name, m.type, String(m.keySize), String(m.valueSize), String(m.maxEntries), `0x${m.flags.toString(16)}`, m.kind,
    (m.variables ?? []).map((v) => v.name).join(', '),
  ])]));
}

interface DemoOpts { engine: string; events?: string; seed?: string; set: string[] }

/** Seeds may be 0. */
function parseSeed(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InputError(`--seed must be a non-negative integer, not '${value}'`);
  return Number(value);
}

async function demo(name: string | undefined, opts: DemoOpts): Promise<void> {
  const { EXAMPLES } = await import('../../examples/host/index.js');
  if (name === undefined) return print(alignedRows(EXAMPLES.map((e) => [e.name, e.summary])));
  const example = EXAMPLES.find((e) => e.name === name);
  if (!example) throw new InputError(`demo: no example '${name}' (the examples: ${EXAMPLES.map((e) => e.name).join(', ')})`);
    const engine = parseEngine(opts.engine, ['interp', 'jit'] as const);
  process.stdout.write(example.run({
    engine, ...(opts.events !== undefined ? { events: parsePositiveInt('--events', opts.events) } : {}),
    ...(opts.seed !== undefined ? { seed: parseSeed(opts.seed) } : {}), ...(opts.set.length > 0 ? { set: parseSets(opts.set) } : {}),
  }));
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerObjectCommands(cli: Command): void {
  cli.command('prog').description('the programs of an ELF object (bpftool\'s vocabulary)')
    .command('list').description('each program: name, section, type, instruction count, maps used')
    .argument('<obj>', 'ELF object (clang -target bpf -c)').option('--json', 'as JSON')
    .action(progList);
  cli.command('map').description('the maps of an ELF object (bpftool\'s vocabulary)')
    .command('list').description('each map: name, type, key and value size, max entries, flags, kind and a data map\'s variables')
    .argument('<obj>', 'ELF object (clang -target bpf -c)').option('--json', 'as JSON')
    .action(mapList);
  cli.command('demo')
    .description('without NAME, list the examples (examples/*.bpf.c); with one, run it on generated events and print what the tool prints')
    .argument('[name]', 'the example')
    .option('--engine <engine>', 'interp or jit', 'jit')
    .option('--events <n>', 'how many events to generate (each example has its default)')
    .option('--seed <n>', 'the event generator\'s seed')
    .option('--set <name=value>', 'a .rodata setting of the example (e.g. targ_ms=true); repeatable', collect, [])
    .action(demo);
}

/**
 * Runs the verifier case corpus in test/verifier-cases/*.json. Each file holds an array of cases:
 *
 *   {
 *     "name": "what the case shows",
 *     "context": "memory:64" | "memory-ro:64" | "event:32" | "event-rw:32" | "packet" | "packet-ro" | "struct",
 *     "ret": [0, 4],               // optional allowed return range (unsigned)
 *     "allowedHelpers": [1, 2],    // optional helper allow-list of the context
 *     "budget": 100000,            // optional instruction budget
 *     "program": ["r0 = 0", "exit"],  // LLVM or uBPF syntax, one line per element
 *     "expect": "accepted" | { "code": "E_VERIFY_...", "pc": 3 }
 *   }
 *
 * A refusal may come from loading (buildProgram's structural checks: E_JUMP_*, E_FALLS_OFF_END, ...)
 * or from the verifier (every E_VERIFY_* code); the case asserts the code and the pc, and the runner
 * that the refusal came from the right one. Helpers: the conformance set (0-5) and the test helpers
 * below (100+); maps: map 0 has 4-byte keys and 16-byte values, map 1 8-byte keys and 64-byte values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { ProgramError } from '../src/errors.js';
import { buildProgram } from '../src/program/program.js';
import { HelperRegistry, type HelperSpec } from '../src/runtime/helpers.js';
import {
  CONFORMANCE_PROTOS, event, exploreOnly, memory, packet, structContext, verify, type ContextDescriptor, type ContextOptions,
  type HelperProto, type MapDescriptor,
} from '../src/verifier/index.js';

interface Case {
  readonly name: string;
  readonly context: string;
  readonly ret?: readonly [number, number];
  readonly allowedHelpers?: readonly number[];
  readonly budget?: number;
  readonly program: readonly string[];
  readonly expect: 'accepted' | { readonly code: string; readonly pc: number };
}

const TEST_PROTOS: ReadonlyArray<readonly [number, string, HelperProto | undefined]> = [
  [100, 'lookup', { args: ['anything'], ret: { kind: 'map_value_or_null', valueSize: 16 } }],
  [101, 'map_lookup_elem', { args: ['map', 'map_key'], ret: 'map_value_or_null' }],
  [102, 'read_buf', { args: ['mem_read', 'size'], ret: 'scalar' }],
  [103, 'fill_buf', { args: ['mem_write', 'size_or_zero'], ret: { kind: 'scalar', min: 0n, max: 1n } }],
  [104, 'takes_const', { args: ['const'], ret: 'scalar' }],
  [105, 'takes_ctx', { args: ['ctx'], ret: 'scalar' }],
  [106, 'void_helper', { args: [], ret: 'void' }],
  [107, 'no_proto', undefined],
  [108, 'map_update_elem', { args: ['map', 'map_key', 'map_value', 'scalar'], ret: 'scalar' }],
  [109, 'bad_proto', { args: ['mem_read', 'scalar'], ret: 'scalar' }],
];

function registry(): HelperRegistry {
  const specs: HelperSpec[] = [...CONFORMANCE_PROTOS].map(([id, proto]) => ({ id, name: `conf${id}`, impl: () => 0n, proto }));
  for (const [id, name, proto] of TEST_PROTOS) specs.push({ id, name, impl: () => 0n, ...(proto ? { proto } : {}) });
  return new HelperRegistry(specs);
}

const MAPS: readonly MapDescriptor[] = [{ keySize: 4, valueSize: 16 }, { keySize: 8, valueSize: 64 }];

/** u32 len (ro) @0, u32 mark @4, data @8, data_end @16, u64 cookie (ro) @24. */
function testStruct(options: ContextOptions): ContextDescriptor {
  return structContext('test_struct', 32, [
    { name: 'len', offset: 0, size: 4, readOnly: true },
    { name: 'mark', offset: 4, size: 4 },
    { name: 'data', offset: 8, size: 8, load: 'packet' },
    { name: 'data_end', offset: 16, size: 8, load: 'packet_end' },
    { name: 'cookie', offset: 24, size: 8, readOnly: true },
  ], options);
}

function contextOf(c: Case): ContextDescriptor {
  const options: ContextOptions = {
    ...(c.ret ? { ret: { min: BigInt(c.ret[0]), max: BigInt(c.ret[1]) } } : {}),
    ...(c.allowedHelpers ? { helpers: c.allowedHelpers } : {}),
  };
  const [kind, size] = c.context.split(':');
  const n = Number(size ?? 0);
  switch (kind) {
    case 'memory': return memory(n, options);
    case 'memory-ro': return memory(n, { ...options, readOnly: true });
    case 'event': return event(n, options);
    case 'event-rw': return event(n, { ...options, readOnly: false });
    case 'packet': return packet(options);
    case 'packet-ro': return packet({ ...options, writable: false });
    case 'struct': return testStruct(options);
    default: throw new Error(`unknown context '${c.context}'`);
  }
}

/** A refusal says which layer refused: loading (the structural checks) or the verifier. */
type Outcome = 'accepted' | { code: string; pc: number; message: string; by: 'load' | 'verifier' };

function run(c: Case, check: typeof verify = verify): Outcome {
  let program;
  try {
    program = buildProgram(assemble(c.program.join('\n')));
  } catch (e) {
    if (e instanceof ProgramError) return { code: e.code, pc: e.pc, message: e.message, by: 'load' };
    throw e;
  }
  const result = check(program, {
    context: contextOf(c), helpers: registry(), maps: MAPS, ...(c.budget ? { budget: c.budget } : {}),
  });
  return result.ok ? 'accepted' : { code: result.error.code, pc: result.error.pc, message: result.error.message, by: 'verifier' };
}

const DIR = join(import.meta.dirname, 'verifier-cases');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const corpus = files.map((file) => ({ file, cases: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Case[] }));

describe('verifier corpus', () => {
  it('has at least 150 cases with unique names', () => {
    const names = corpus.flatMap((f) => f.cases.map((c) => c.name));
    expect(names.length).toBeGreaterThanOrEqual(150);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const { file, cases } of corpus) {
    describe(file, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        const outcome = run(c);
        if (c.expect === 'accepted') {
          expect(outcome === 'accepted' ? outcome : outcome.message).toBe('accepted');
        } else {
          const got = outcome === 'accepted' ? outcome : { code: outcome.code, pc: outcome.pc, by: outcome.by };
          // A well-formed program that is unsafe is the verifier's refusal (E_VERIFY_*), whichever rule it breaks.
          const by = c.expect.code.startsWith('E_VERIFY_') ? 'verifier' : 'load';
          expect(got, outcome === 'accepted' ? 'accepted' : outcome.message).toEqual({ code: c.expect.code, pc: c.expect.pc, by });
        }
      });
    });
  }
});

describe('the exploration without the register-use pre-pass', () => {
  const PRE_PASS_CODES = ['E_VERIFY_UNINIT_REGISTER', 'E_VERIFY_WRITE_R10'];
  const cases = corpus.flatMap((f) => f.cases).filter((c) => c.expect !== 'accepted' && PRE_PASS_CODES.includes(c.expect.code));

  it('covers the corpus cases of both rules', () => {
    expect(new Set(cases.map((c) => (c.expect as { code: string }).code))).toEqual(new Set(PRE_PASS_CODES));
  });

  it.each(cases.map((c) => [c.name, c] as const))('refuses %s the same way', (_name, c) => {
    const outcome = run(c, exploreOnly);
    const got = outcome === 'accepted' ? outcome : { code: outcome.code, pc: outcome.pc };
    expect(got).toEqual(c.expect);
  });
});

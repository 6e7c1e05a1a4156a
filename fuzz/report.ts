/**
 * Text for a counterexample: the program as uBPF assembly, the input in hex, every engine's outcome,
 * and a ready-to-paste regression test.
 */
import { ENGINE_KINDS, describeOutcome, type CaseResult, type EngineRuns, type Outcome } from './differential.js';
import type { ProgramSpec } from './spec.js';
import { disassemble, formatInsn } from '../src/asm/index.js';

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex bytes: ${text}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** The outcome, and for an error the instruction at its pc. */
function outcomeLine(o: Outcome, result: CaseResult): string {
  const insn = o.error && o.error.pc >= 0 ? result.program.insnAt[o.error.pc] : undefined;
  return describeOutcome(o) + (insn ? `, at \`${formatInsn(insn, 'ubpf')}\`` : '');
}

/** A vitest case that replays the counterexample through Differential.runAsm. */
export function regressionSnippet(spec: ProgramSpec, result: CaseResult): string {
  const asm = disassemble(result.insns, 'ubpf', { labels: true }).split('\n').map((l) => `    ${l}`).join('\n');
  const options = `{ budget: ${spec.budget}, shift: ${spec.shift}, stackSeed: ${spec.stackSeed}, structure: '${spec.structure}', cpu: ${spec.cpu}, batch: ${spec.batch} }`;
  return [
    `it('<describe the difference>', () => {`,
    `  const asm = \``,
    asm,
    `  \`;`,
    `  const result = diff.runAsm(asm, fromHex('${toHex(spec.input)}'), ${options});`,
    `  expect(result.difference).toBeUndefined();`,
    `});`,
  ].join('\n');
}

/** The outcome lines of every engine that ran. */
function outcomeLines(spec: ProgramSpec, result: CaseResult): string[] {
  const line = (label: string, o: Outcome | undefined): string[] => (o ? [`${`${label}:`.padEnd(12)} ${outcomeLine(o, result)}`] : []);
  const batchOf = `batch of ${spec.batch}, `;
  const v = result.verified;
  const lines = (runs: readonly EngineRuns[]): string[] => runs.flatMap((r) => {
    const label = ENGINE_KINDS[r.engine].label;
    return [...line(label, r.single), ...line(batchOf + label, r.batch)];
  });
  return [
    ...line('interpreter', result.interp),
    ...line(batchOf + 'interpreter', result.interpBatch),
    ...lines(result.runs.filter((r) => !ENGINE_KINDS[r.engine].verified)),
    `verifier:    ${result.verdict === undefined ? 'not asked' : result.verdict} under memory(${spec.input.length})`,
    ...(v && v.reference !== result.interp ? line('interpreter without a budget', v.reference) : []),
    ...(v && v.referenceBatch !== result.interpBatch ? line(`${batchOf}interpreter without a budget`, v.referenceBatch) : []),
    ...lines(result.runs.filter((r) => ENGINE_KINDS[r.engine].verified)),
  ];
}

export function formatCounterexample(spec: ProgramSpec, result: CaseResult): string {
  return [
    `difference:  ${result.difference ?? '(none on replay)'}`,
    ...outcomeLines(spec, result),
    `context:     ${spec.input.length} bytes at an 8-aligned address + ${spec.shift}: ${toHex(spec.input) || '(empty)'}`,
    `run:         cpu ${spec.cpu}, budget ${spec.budget}, JIT structure ${spec.structure}, stack ${spec.stackSeed === 0 ? 'zeroed' : `filled from seed ${spec.stackSeed}`}`,
    `program (uBPF syntax, ${result.insns.length} instructions):`,
    disassemble(result.insns, 'ubpf', { labels: true }),
    '',
    'as a regression test (test/differential.test.ts):',
    regressionSnippet(spec, result),
  ].join('\n');
}

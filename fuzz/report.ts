/**
 * Text for a counterexample: the program as uBPF assembly, the input in hex, both engines' outcomes,
 * and a ready-to-paste regression test.
 */
import { describeOutcome, type CaseResult, type Outcome } from './differential.js';
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

export function formatCounterexample(spec: ProgramSpec, result: CaseResult): string {
  return [
    `difference:  ${result.difference ?? '(none on replay)'}`,
    `interpreter: ${outcomeLine(result.interp, result)}`,
    `JIT:         ${outcomeLine(result.jit, result)}`,
    ...(result.batch ? [
      `batch of ${spec.batch}, interpreter: ${outcomeLine(result.batch.interp, result)}`,
      `batch of ${spec.batch}, JIT:         ${outcomeLine(result.batch.jit, result)}`,
    ] : []),
    `context:     ${spec.input.length} bytes at an 8-aligned address + ${spec.shift}: ${toHex(spec.input) || '(empty)'}`,
    `run:         cpu ${spec.cpu}, budget ${spec.budget}, JIT structure ${spec.structure}, stack ${spec.stackSeed === 0 ? 'zeroed' : `filled from seed ${spec.stackSeed}`}`,
    `program (uBPF syntax, ${result.insns.length} instructions):`,
    disassemble(result.insns, 'ubpf', { labels: true }),
    '',
    'as a regression test (test/differential.test.ts):',
    regressionSnippet(spec, result),
  ].join('\n');
}

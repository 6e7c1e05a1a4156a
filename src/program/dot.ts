/** The control-flow graph as Graphviz dot, one cluster per function (like `bpftool ... visual`). */
import { formatInsn } from '../asm/index.js';
import type { Program } from './program.js';

const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

export function programToDot(program: Program): string {
  const lines = ['digraph cfg {', '  node [shape=box, fontname="monospace"];'];
  for (const fn of program.functions) {
    lines.push(`  subgraph cluster_fn${fn.index} {`, `    label="function ${fn.index} (pc ${fn.entry})";`);
    for (const block of fn.blocks) {
      const body = block.insns.map((i) => `${i.pc}: ${escape(formatInsn(i, 'llvm'))}\\l`).join('');
      lines.push(`    b${block.start} [label="${body}"];`);
    }
    lines.push('  }');
    for (const block of fn.blocks) {
      const last = block.insns[block.insns.length - 1]!;
      for (const succ of block.succs) {
        const taken = last.kind === 'jmp' && succ !== block.end;
        lines.push(`  b${block.start} -> b${succ}${taken ? ' [label="taken"]' : ''};`);
      }
    }
  }
  lines.push('}');
  return lines.join('\n');
}

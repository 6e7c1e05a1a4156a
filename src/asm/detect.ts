/**
 * Tells the two syntaxes apart by the first line that only one of them could have written.
 * Lines both share (`exit`, `call 5`, labels, comments, `.map` declarations) do not decide; with
 * no decisive line the answer is 'ubpf'.
 */
import { stripComment } from './lexer.js';

export type Syntax = 'ubpf' | 'llvm';

const LLVM_WORDS = /^(if|goto|gotol|callx|r\d+|w\d+)\b/;
/** llvm-objdump address prefix (`  3:`) and `<label>:` / `0000000000000000 <name>:` lines. */
const OBJDUMP = /^(\s*[0-9a-f]+:\s|\s*([0-9a-f]+\s+)?<[^>]+>:\s*$|Disassembly of section|.*file format)/;

function lineVerdict(raw: string): Syntax | undefined {
  if (OBJDUMP.test(raw)) return 'llvm';
  const line = stripComment(raw).trim();
  if (line === '' || /^[A-Za-z_.$][\w.$]*:$/.test(line) || /^\.map\s/.test(line)) return undefined;
  // Brackets are uBPF's memory operands, except llvm's legacy packet loads (`*(u8 *)skb[12]`).
  if (/%r\d|%w\d/.test(line) || (line.includes('[') && !/\bskb\[/.test(line))) return 'ubpf';
  if (line.includes('=') || line.startsWith('*(') || LLVM_WORDS.test(line)) return 'llvm';
  if (/^call\s+(pc[+-]|[A-Za-z_])/.test(line) && !/^call\s+(local|kfunc)\b/.test(line)) return 'llvm';
  if (/^(exit|call)\b/.test(line)) return undefined;
  return 'ubpf';
}

export function detectSyntax(text: string): Syntax {
  for (const line of text.split(/\r?\n/)) {
    const verdict = lineVerdict(line);
    if (verdict) return verdict;
  }
  return 'ubpf';
}

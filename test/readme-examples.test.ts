// The README's library examples run as written: each ```ts block, with 'bpfjit' pointing at this
// checkout's build, prints what its `console.log(...);  // expected` comments say.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const entry = join(root, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string }).main);

/** What a console.log line's comment promises: the text before any ':' explanation. */
function expectedLines(code: string): string[] {
  return code.split('\n').filter((l) => l.startsWith('console.log(') && l.includes('//'))
    .map((l) => l.slice(l.lastIndexOf('//') + 2).split(':')[0]!.trim());
}

describe('README examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(4));
  it.each(blocks.map((code, i) => [i + 1, code] as const))('example %i runs and prints what it says', (_i, code) => {
    const js = ts.transpileModule(code.replaceAll("from 'bpfjit'", `from ${JSON.stringify(entry)}`), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const file = join(mkdtempSync(join(tmpdir(), 'bpfjit-readme-')), 'example.mjs');
    writeFileSync(file, js);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim().split('\n');
    expect(out).toEqual(expectedLines(code));
  }, 30_000);
});

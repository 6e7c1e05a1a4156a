/** `bpfjit conformance PATH`: runs a directory of .data files, or one, and reports each failure. */
import type { Command } from 'commander';
import type { CaseResult, ConformanceEngine } from '../conformance/runner.js';
import { parseEngine } from './args.js';
import { InputError } from '../errors.js';
import type { Tier } from '../jit/index.js';
import { EXIT_REFUSED } from './failure.js';

/** One line per case: details can hold several (a crash); BPFJIT_DEBUG=1 keeps them all. */
function caseLine(r: CaseResult): string {
  const detail = process.env['BPFJIT_DEBUG'] === '1' ? r.detail : r.detail.split('\n')[0]!;
  return `${r.passed ? 'pass' : 'FAIL'} ${r.file}: ${detail}\n`;
}

/** The --tier asked for; binaryen is loaded only for 'optimized', so other runs never import it. */
async function tierOption(value: string | undefined, engine: ConformanceEngine): Promise<Tier> {
  if (value === undefined) return 'auto';
  const tier = parseEngine<Tier>(value, ['baseline', 'optimized', 'auto'], '--tier');
  if (engine === 'interp') throw new InputError('--tier applies to the JIT: give --engine jit or both');
  if (tier === 'optimized') await (await import('../jit/optimizer.js')).loadOptimizer();
  return tier;
}

export function registerConformance(cli: Command): void {
  cli.command('conformance')
    .description('run conformance tests (.data files) and report N passed, N failed')
    .argument('<path>', 'a .data file, or a directory: every .data file under it (tests/, negative/, ...)')
    .option('--engine <engine>', 'interp, jit or both', 'jit')
    .option('--tier <tier>', "the JIT's tier: baseline, optimized (through binaryen) or auto (default; one run stays in baseline)")
    .option('--unverified', 'skip the verifier; run in checked mode')
    .option('-v, --verbose', 'print every case, not only failures')
    .action(async (path: string, opts: { engine: string; tier?: string; verbose?: boolean; unverified?: boolean }) => {
      const engine = parseEngine<ConformanceEngine>(opts.engine, ['interp', 'jit', 'both']);
      const tier = await tierOption(opts.tier, engine);
      const { runConformance } = await import('../conformance/runner.js');
      const report = runConformance(path, engine, { verify: !opts.unverified, tier });
      for (const r of report.results) if (!r.passed || opts.verbose) process.stdout.write(caseLine(r));
      const unclear = report.notUnderstood > 0 ? ` (${report.notUnderstood} not understood)` : '';
      process.stdout.write(`${report.passed} passed, ${report.failed} failed${unclear}\n`);
      if (report.failed > 0) process.exitCode = EXIT_REFUSED;
    });
}

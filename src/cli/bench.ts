/** `bpfjit bench`: options, the workload list of its --help, and output paths checked up front. */
import type { Command } from 'commander';
import { benchCatalog } from '../../bench/catalog.js';
import { LINE_WIDTH, wrap } from '../../bench/report.js';
import { checkOutputPath } from './output-path.js';
import { parsePositiveInt } from './args.js';

interface BenchOpts { filter?: string; quick?: boolean; json?: string; markdown?: string; workers?: string }

/** The names --filter takes, each with its summary, wrapped to the report's width. */
function workloadHelp(): string {
  const entries = benchCatalog();
  const column = Math.max(...entries.map((e) => e.name.length)) + 4;
  const lines = entries.flatMap((e) => wrap(e.summary, '', LINE_WIDTH - column)
    .map((text, i) => (i === 0 ? `  ${e.name}`.padEnd(column) : ' '.repeat(column)) + text));
  return `\nWorkloads and tables (--filter takes any of these names; default: all):\n${lines.join('\n')}\n`
    + '\nOn a terminal a progress line is shown on stderr; piped output is the report alone.';
}

export function registerBench(cli: Command): void {
  cli.command('bench')
    .description('benchmark interpreter, JIT (per event and batch) and hand-written JavaScript')
    .option('--filter <names>', 'comma-separated workloads to run (listed below)')
    .option('--quick', 'a short run')
    .option('--json <file>', 'write the results as JSON')
    .option('--markdown <file>', 'write the results as a Markdown table')
    .option('--workers <n>', 'workers of the worker-thread table (default: the machine\'s available parallelism)')
    .addHelpText('after', workloadHelp)
    .action(async (opts: BenchOpts) => {
      // Before anything runs: a bad path found after a full run would lose its results.
      if (opts.json !== undefined) checkOutputPath('--json', opts.json);
      if (opts.markdown !== undefined) checkOutputPath('--markdown', opts.markdown);
      const workers = opts.workers === undefined ? undefined : parsePositiveInt('--workers', opts.workers);
      const { runBench } = await import('../../bench/index.js');
      await runBench({
        ...(opts.filter ? { filter: opts.filter.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        quick: opts.quick ?? false,
        ...(opts.json ? { json: opts.json } : {}),
        ...(opts.markdown ? { markdown: opts.markdown } : {}),
        ...(workers !== undefined ? { workers } : {}),
      });
    });
}

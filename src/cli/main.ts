/**
 * The `bpfjit` command line. Every failure is one line on stderr and an exit code (failure.ts):
 * 1 for a refused or faulting program, 2 for bad input or arguments, 70 for a bug in bpfjit.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { EXIT_USAGE, reportFailure } from './failure.js';

/**
 * `bpfjit disasm big.bin | head -2`: head exits and the pipe closes under us. A C tool dies of
 * SIGPIPE there, silently, and the shell reports status 141 (128 + 13); Node ignores SIGPIPE and
 * raises EPIPE instead, so we do what the C tool does: stop at once, print nothing, exit 141. That
 * is what `set -o pipefail` scripts already expect from `cat`, `grep` or `seq` in the same place.
 * Any other write error (a full disk under `> file`) is reported on stderr.
 */
const EXIT_BROKEN_PIPE = 141;

function handleOutputErrors(): void {
  for (const [stream, name] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
      if (stream === process.stdout) process.stderr.write(`bpfjit: cannot write to ${name}: ${err.code ?? err.message}\n`);
      process.exit(EXIT_USAGE);
    });
  }
}

/** The version in package.json: two levels up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bpfjit' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<void> {
  handleOutputErrors();
  const program = new Command('bpfjit')
    .description('A userspace eBPF runtime: assembler, verifier, interpreter and WebAssembly JIT')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    // Errors are printed by reportFailure, as one line; help asked for by mistake still goes to stderr.
    .configureOutput({ outputError: () => {} })
    .showHelpAfterError(false);
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
}

await main(process.argv);

/**
 * The `bpfjit` command line. Bad arguments and bad files print one line and exit 2; a program that
 * fails at run time prints its error and exits 1.
 */
import { Command, CommanderError } from 'commander';
import { BpfError } from '../errors.js';
import { registerCommands } from './commands.js';

function fail(message: string, code: number): never {
  process.stderr.write(`bpfjit: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('bpfjit')
    .description('A userspace eBPF runtime: assembler, verifier, interpreter and WebAssembly JIT')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .showHelpAfterError(false);
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return;
      fail(err.message.replace(/^error: /, ''), 2);
    }
    // A program that faults or that the verifier refuses is not bad input: exit 1, like `verify`.
    if (err instanceof BpfError) fail(err.message, /^E_(RUN|VERIFY)_/.test(err.code) ? 1 : 2);
    fail(`internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 70);
  }
}

await main(process.argv);

import { Command, CommanderError, Help } from 'commander';
import { TradekernelError } from '../domain/errors.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBacktestCommands } from './commands/backtest.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDataCommands } from './commands/data.js';
import { registerProjectionCommands } from './commands/projections.js';
import { registerResearchCommands } from './commands/research.js';
import { registerRunCommands } from './commands/run.js';
import { registerServeCommands } from './commands/serve.js';
import { ReportedError, takeExitCode } from './commands/shared.js';
import { registerStoreCommands } from './commands/store.js';
import { loadDotEnv } from './settings.js';
import { KERNEL_VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('tradekernel')
    .description('Event-sourced crypto trading kernel: one event log for backtests, paper and live trading.')
    .version(KERNEL_VERSION)
    .option(
      '--store <kind>',
      'event store: pglite (embedded, default), postgres or esdb [env TRADEKERNEL_STORE]',
    )
    .option('--data-dir <dir>', 'embedded data directory (default ./data) [env TRADEKERNEL_DATA_DIR]')
    .option(
      '--database-url <url>',
      'PostgreSQL URL for --store postgres and the read models [env DATABASE_URL]',
    )
    .option('--esdb-url <url>', 'EventStoreDB URL for --store esdb [env ESDB_URL]')
    // commander's own errors (a missing option, an unknown command) in the shape of every other
    // error, and required options marked in every --help (both settings pass to subcommands)
    .configureOutput({ outputError: (text, write) => write(`tradekernel: ${text.replace(/^error: /, '')}`) })
    .configureHelp({
      optionDescription(option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .showHelpAfterError('  hint: run the command with --help for its usage')
    .exitOverride();
  registerStoreCommands(program);
  registerProjectionCommands(program);
  registerAuditCommands(program);
  registerDataCommands(program);
  registerServeCommands(program);
  registerBacktestCommands(program);
  registerResearchCommands(program);
  registerRunCommands(program);
  registerConfigCommands(program);
  return program;
}

/** Runs the CLI; expected errors print a message and a hint, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  try {
    await buildProgram().parseAsync(argv);
    // a command may report a finding without failing (e.g. `audit verify` on a tampered file)
    return takeExitCode();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof TradekernelError) {
      // under --json the failure is JSON on stdout too, unless the command's report carried it
      if (argv.includes('--json') && !(error instanceof ReportedError))
        console.log(
          JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint ?? null } }),
        );
      console.error(`tradekernel: ${error.message}`);
      if (error.hint) console.error(`  hint: ${error.hint}`);
      return 1;
    }
    const file = fileProblem(error);
    if (file) {
      console.error(`tradekernel: ${file.message}`);
      console.error(`  hint: ${file.hint}`);
      return 1;
    }
    console.error('tradekernel: internal error (a bug; please report it with this output):');
    console.error(error);
    return 70;
  }
}

/** What the file system says about a path the user named (a missing folder, a file for a folder). */
const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist (or its folder does not)',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'has a file where a folder should be',
  EEXIST: 'already exists as something else',
  EACCES: 'is not accessible to this user',
  EPERM: 'is not accessible to this user',
  EROFS: 'is on a read-only file system',
  ENOSPC: 'cannot be written: the disk is full',
};

/** A file-system error on a path, as a message and a hint; null for anything else (a bug). */
export function fileProblem(error: unknown): { message: string; hint: string } | null {
  const e = error as NodeJS.ErrnoException;
  const problem = e?.code ? FILE_PROBLEMS[e.code] : undefined;
  if (!problem || (typeof e.path !== 'string' && e.syscall !== 'read' && e.syscall !== 'write')) return null;
  // a read or write of an open file names no path (readFileSync of a folder fails at read)
  const path = typeof e.path === 'string' ? e.path : 'a path given';
  return {
    message: `${path} ${problem} (${e.code}${e.syscall ? ` from ${e.syscall}` : ''})`,
    hint: 'check the path given on the command line or in the settings',
  };
}

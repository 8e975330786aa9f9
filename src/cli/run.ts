import { Command, CommanderError } from 'commander';
import { TradekernelError } from '../domain/errors.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBacktestCommands } from './commands/backtest.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDataCommands } from './commands/data.js';
import { registerProjectionCommands } from './commands/projections.js';
import { registerResearchCommands } from './commands/research.js';
import { registerRunCommands } from './commands/run.js';
import { registerServeCommands } from './commands/serve.js';
import { takeExitCode } from './commands/shared.js';
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
    .showHelpAfterError('(run with --help for usage)')
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
      console.error(`tradekernel: ${error.message}`);
      if (error.hint) console.error(`  hint: ${error.hint}`);
      return 1;
    }
    console.error('tradekernel: internal error (a bug; please report it with this output):');
    console.error(error);
    return 70;
  }
}

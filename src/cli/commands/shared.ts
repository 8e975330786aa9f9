import type { Command } from 'commander';
import { ConfigError, TradekernelError } from '../../domain/errors.js';
import type { StoreFlags } from '../settings.js';

export type GlobalFlags = StoreFlags;

/** The global options (--store, --data-dir, ...) wherever they were written on the command line. */
export function globalFlags(command: Command): GlobalFlags {
  return command.optsWithGlobals() as GlobalFlags;
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`${flag}: "${value}" is not a positive whole number`);
  return n;
}

let reportedExitCode = 0;

/** A command that reports a finding without failing (e.g. a tampered file) sets the exit code here. */
export function setExitCode(code: number): void {
  reportedExitCode = code;
}

/** Read once by the CLI runner at the end of a command. */
export function takeExitCode(): number {
  const code = reportedExitCode;
  reportedExitCode = 0;
  return code;
}

/** A failure the command has already printed in its report (its `error`): not printed again. */
export class ReportedError extends TradekernelError {
  constructor(error: { code: string; message: string; hint: string | null }) {
    super(error.message, error.code, error.hint ?? undefined);
  }
}

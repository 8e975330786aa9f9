/**
 * Structured logs (pino): JSON lines, one per decision with its correlation and causation ids,
 * for machines (files, journald, Loki); human-readable (pino-pretty) when the output is a
 * terminal. Pretty printing runs in this thread on the same stream, not in a transport worker:
 * the service logs a few lines an hour, and a worker would lose the last lines of a crash.
 */
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

type Destination = NodeJS.WritableStream & { isTTY?: boolean };

export function createLogger(
  level = 'info',
  options: { pretty?: boolean; destination?: Destination } = {},
): Logger {
  const base = { service: 'tradekernel' };
  const destination = options.destination ?? process.stdout;
  if (options.pretty ?? destination.isTTY === true) {
    const pretty = prettyStream(destination);
    if (pretty) return pino({ level, base }, pretty);
  }
  return pino({ level, base }, (options.destination ?? pino.destination(1)) as pino.DestinationStream);
}

/** pino-pretty writing to `destination`; null when it is not installed (a production image). */
function prettyStream(destination: Destination): pino.DestinationStream | null {
  try {
    const pinoPretty = createRequire(import.meta.url)('pino-pretty') as (
      options: Record<string, unknown>,
    ) => pino.DestinationStream;
    return pinoPretty({
      colorize: destination.isTTY === true,
      translateTime: 'SYS:standard',
      ignore: 'pid,hostname,service',
      destination,
      sync: true,
    });
  } catch {
    return null;
  }
}

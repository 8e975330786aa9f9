/**
 * Structured logs (pino): JSON lines, one per decision with its correlation and causation ids;
 * human-readable (pino-pretty) when stdout is a terminal.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(
  level = 'info',
  options: { pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !options.destination);
  if (pretty) {
    return pino({
      level,
      base: { service: 'tradekernel' },
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:standard', ignore: 'pid,hostname,service' },
      },
    });
  }
  return pino(
    { level, base: { service: 'tradekernel' } },
    (options.destination ?? pino.destination(1)) as pino.DestinationStream,
  );
}

import type { Command } from 'commander';
import { instrumentEventStore } from '../../adapters/metrics/instrumented-event-store.js';
import { TradekernelMetrics } from '../../adapters/metrics/metrics.js';
import { checkToken, TOKEN_ENV } from '../../api/auth.js';
import { ProjectionWorker } from '../../api/projection-worker.js';
import { buildApi, DEFAULT_MAX_LAG } from '../../api/server.js';
import { ConfigError, UnavailableError } from '../../domain/errors.js';
import { allProjectors, ProjectionRunner } from '../../projections/index.js';
import { withContext } from '../context.js';
import { KERNEL_VERSION } from '../version.js';
import { type GlobalFlags, globalFlags } from './shared.js';

export interface ServeOptions {
  host: string;
  port: number;
  maxLag: number;
  logLevel: string;
  /** bearer token of the control endpoints (TRADEKERNEL_API_TOKEN); undefined disables them */
  token?: string | undefined;
  /** ends the server (the command wires SIGINT and SIGTERM to it) */
  stop: AbortSignal;
  /** called once the server listens, with its base URL */
  onListening?: (url: string) => void;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Runs the API until `stop` aborts: opens the context, prepares the projections and keeps them
 * running (catch up, then poll) in the background, listens, and on stop closes in order: the
 * listener (in-flight requests finish), the projection worker (its batch commits), the store.
 */
export async function serve(flags: GlobalFlags, options: ServeOptions): Promise<void> {
  await withContext(flags, async (ctx) => {
    const metrics = new TradekernelMetrics({ version: KERNEL_VERSION });
    const store = instrumentEventStore(ctx.store, metrics);
    const projections = new ProjectionRunner(ctx.database, store, allProjectors());
    await projections.prepare();
    const worker = new ProjectionWorker(projections, {
      metrics,
      onError: (error) => app.log.error({ err: error }, 'projection run failed; retrying'),
    });
    const app = await buildApi({
      store,
      database: ctx.database,
      catalogue: ctx.catalogue,
      projections,
      worker,
      metrics,
      token: options.token,
      maxLag: options.maxLag,
      version: KERNEL_VERSION,
      logger: options.logLevel,
    });
    worker.start();
    try {
      if (options.stop.aborted) return;
      let url: string;
      try {
        url = await app.listen({ host: options.host, port: options.port });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new UnavailableError(
            `cannot listen on ${options.host}:${options.port}: ${code}`,
            'pick another --port (or --host), or stop the process that holds it',
          );
        }
        throw error;
      }
      options.onListening?.(url);
      await new Promise<void>((resolve) => {
        if (options.stop.aborted) resolve();
        else options.stop.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await app.close();
      await worker.stop();
    }
  });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new ConfigError(`--port: "${value}" is not a port (0 to 65535; 0 picks a free one)`);
  }
  return n;
}

function parseMaxLag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`--max-lag: "${value}" is not a whole number >= 0`);
  return n;
}

/** `tradekernel serve`: the query API, its docs and metrics. */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the query API (docs at /docs, metrics at /metrics) while keeping projections up to date',
    )
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option(
      '--max-lag <events>',
      '/health/ready fails when a projection lags more events',
      String(DEFAULT_MAX_LAG),
    )
    .option('--log-level <level>', `request log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .addHelpText(
      'after',
      `\nControl endpoints (pause, resume, kill switch, liquidate) need ${TOKEN_ENV} in the environment\n(or .env); without it they answer 403. See docs/api.md.`,
    )
    .action(
      async (options: { host: string; port: string; maxLag: string; logLevel: string }, command: Command) => {
        if (!LOG_LEVELS.includes(options.logLevel)) {
          throw new ConfigError(`--log-level: "${options.logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
        }
        const token = checkToken(process.env[TOKEN_ENV]);
        const stop = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          console.error(`tradekernel: ${signal}: closing the API (send it again to exit at once)`);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          stop.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          await serve(globalFlags(command), {
            host: options.host,
            port: parsePort(options.port),
            maxLag: parseMaxLag(options.maxLag),
            logLevel: options.logLevel,
            token,
            stop: stop.signal,
            onListening: (url) =>
              console.log(
                `tradekernel API on ${url}  (docs ${url}/docs, metrics ${url}/metrics; control endpoints ${token ? 'enabled' : `disabled: set ${TOKEN_ENV}`})`,
              ),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
}

import type { Command } from 'commander';
import { checkToken, TOKEN_ENV } from '../../api/auth.js';
import { DEFAULT_MAX_LAG } from '../../api/limits.js';
import { ConfigError } from '../../domain/errors.js';
import { globalFlags } from './shared.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
          // the API's modules (fastify, prom-client) load only for this command
          const { serve } = await import('../serve-api.js');
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

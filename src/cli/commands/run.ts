import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { checkToken, TOKEN_ENV } from '../../api/auth.js';
import { controlStream } from '../../api/routes/control.js';
import {
  KillSwitchEngaged,
  LiquidationRequested,
  TradingPaused,
  TradingResumed,
} from '../../domain/control/events.js';
import { ConfigError, UnavailableError } from '../../domain/errors.js';
import { newEvent } from '../../domain/events/catalogue.js';
import { deterministicId } from '../../domain/events/ids.js';
import { parseSpeed } from '../../service/clock.js';
import {
  CONFIG_FILE,
  parseConfigText,
  type ServiceConfig,
  validateServiceConfig,
} from '../../service/config.js';
import { createLogger } from '../../service/logging.js';
import { parseSource, type SourceSpec } from '../../service/sources.js';
import { withContext } from '../context.js';
import { KERNEL_VERSION } from '../version.js';
import { globalFlags, parsePositiveInt } from './shared.js';

/** The shipped demo data: a few weeks of real Binance 1h candles (BTC, ETH, SOL). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/candles', import.meta.url));

interface RunFlags {
  mode: string;
  config?: string;
  source?: string;
  speed: string;
  symbols?: string;
  strategy?: string;
  account?: string;
  port?: string;
  api: boolean;
  maxCycles?: string;
  logLevel?: string;
}

/** The file's object with the command-line overrides laid over it, validated whole. */
function effectiveConfig(raw: Record<string, unknown>, flags: RunFlags, file: string): ServiceConfig {
  const merged = { ...raw };
  if (flags.symbols)
    merged.symbols = flags.symbols
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (flags.strategy)
    merged.strategies = flags.strategy
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (flags.account) merged.account = flags.account;
  if (flags.logLevel) merged.logLevel = flags.logLevel;
  if (flags.port !== undefined)
    merged.api = { ...((merged.api as object) ?? {}), enabled: true, port: parsePort(flags.port) };
  return validateServiceConfig(merged, file);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new ConfigError(`--port: "${value}" is not a port (0-65535)`);
  return n;
}

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description(
      'the paper-trading service: hourly candles → kernel → paper fills → projections, API, reports (docs/service.md)',
    )
    .option('--mode <mode>', 'paper (live trading is not available yet)', 'paper')
    .option(
      '--config <file>',
      `service configuration (default ./${CONFIG_FILE}; without one: the offline demo)`,
    )
    .option(
      '--source <source>',
      'live (the exchange, through ccxt) or replay:<file-or-dir> (recorded candles, virtual clock)',
    )
    .option('--speed <n|max>', 'replay speed: virtual ms per real ms (3600 = an hour a second) or max', 'max')
    .option('--symbols <list>', 'override the config: BTC/USDT,ETH/USDT')
    .option('--strategy <list>', 'override the config: ema-cross,rsi-reversion')
    .option('--account <name>', 'override the config: the account name (stream paper-<name>)')
    .option('--port <port>', 'serve the API (and /metrics) on this port')
    .option('--no-api', 'do not serve the API')
    .option('--max-cycles <n>', 'stop after n cycles')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent')
    .action(async (flags: RunFlags, command: Command) => {
      if (flags.mode !== 'paper')
        throw new ConfigError(`--mode ${flags.mode}: only paper trading is available`, 'use --mode paper');
      const file = flags.config ?? CONFIG_FILE;
      const hasFile = existsSync(file);
      if (flags.config && !hasFile)
        throw new ConfigError(`--config ${flags.config}: no such file`, 'write one with `tradekernel init`');
      const demo = !hasFile && flags.source === undefined;
      let source: SourceSpec;
      let raw: Record<string, unknown>;
      if (demo) {
        source = { kind: 'replay', path: EXAMPLES_DIR };
        raw = { account: 'demo', api: { enabled: false } };
      } else {
        source = flags.source ? parseSource(flags.source) : { kind: 'live' };
        raw = hasFile ? (parseConfigText(readFileSync(file, 'utf8'), file) as Record<string, unknown>) : {};
      }
      const config = effectiveConfig(raw, flags, hasFile ? file : '(defaults)');
      const api =
        flags.api === false
          ? null
          : config.api.enabled
            ? { host: config.api.host, port: config.api.port }
            : null;
      const logger = createLogger(config.logLevel);
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        logger.warn({ signal }, 'stopping after the current cycle (send it again to exit at once)');
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const store = globalFlags(command);
      if (demo)
        console.error(
          `tradekernel: no ${CONFIG_FILE} here: running the offline demo (a replay of ${EXAMPLES_DIR} at --speed max)`,
        );
      try {
        // the service's modules (the API, mail, metrics) load only for this command
        const { runService } = await import('../../service/run-service.js');
        const result = await runService({
          store,
          config,
          source,
          speed: parseSpeed(flags.speed),
          version: KERNEL_VERSION,
          logger,
          signal: stop.signal,
          api,
          token: checkToken(process.env[TOKEN_ENV]),
          ...(flags.maxCycles ? { maxCycles: parsePositiveInt(flags.maxCycles, '--max-cycles') } : {}),
        });
        const dataDir = store.dataDir ?? process.env.TRADEKERNEL_DATA_DIR ?? './data';
        console.error(
          `tradekernel: ${result.reason === 'exhausted' ? 'replay done' : 'stopped'}: ${result.cycles} cycles, ${result.decisions} decision events in ${result.account}, ${result.alerts} alerts`,
        );
        if (result.latestReport)
          console.error(`  report: ${result.latestReport} (daily reports in the same folder)`);
        console.error(
          `  data: ${store.store && store.store !== 'pglite' ? store.store : dataDir} (query it with \`tradekernel serve\`, audit with \`tradekernel audit\`)`,
        );
        if (demo)
          console.error(
            '  go live (paper trading on real hourly Binance data): `tradekernel init`, then `npm start`',
          );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  const control = program
    .command('control')
    .description('pause, resume, kill switch, liquidation: events with who and why');
  const actions = [
    ['pause', TradingPaused],
    ['resume', TradingResumed],
    ['kill-switch', KillSwitchEngaged],
    ['liquidate', LiquidationRequested],
  ] as const;
  for (const [name, event] of actions) {
    control
      .command(name)
      .description(`append ${event.type} to control-<account>; the service takes it at its next cycle`)
      .requiredOption('--account <account>', 'the account stream, e.g. paper-main')
      .requiredOption('--reason <text>', 'why (recorded)')
      .option('--actor <name>', 'who (recorded)', process.env.USER ?? 'cli')
      .option(
        '--api <url>',
        'send it through a running service API (needs TRADEKERNEL_API_TOKEN) instead of the store',
      )
      .action(
        async (o: { account: string; reason: string; actor: string; api?: string }, command: Command) => {
          // the service only takes actions addressed to its account stream, so a bare name
          // ("main") would be recorded and never obeyed
          if (!o.account.startsWith('paper-'))
            throw new ConfigError(
              `--account ${o.account}: not an account stream`,
              `name the stream: --account paper-${o.account}`,
            );
          const data = { account: o.account, actor: o.actor, reason: o.reason };
          if (o.api) {
            const token = process.env[TOKEN_ENV];
            if (!token)
              throw new ConfigError(`--api needs ${TOKEN_ENV}`, 'set it in the environment or .env');
            let url: URL;
            try {
              url = new URL(
                `${o.api.replace(/\/$/, '')}/v1/accounts/${encodeURIComponent(o.account)}/${name}`,
              );
            } catch {
              throw new ConfigError(`--api ${o.api}: not a URL`, 'e.g. --api http://127.0.0.1:8080');
            }
            const res = await fetch(url, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ actor: o.actor, reason: o.reason }),
            }).catch((error: unknown) => {
              const cause = (error as { cause?: { code?: string; message?: string } }).cause;
              throw new UnavailableError(
                `the service API at ${o.api} cannot be reached (${cause?.code ?? cause?.message ?? String(error)})`,
                'is the service running with its API on? Without it, leave out --api: the action goes straight into the store',
              );
            });
            if (!res.ok) throw new ConfigError(`${o.api} answered ${res.status}: ${await res.text()}`);
            console.log(`${event.type} accepted by ${o.api}`);
            return;
          }
          const now = Date.now();
          await withContext(globalFlags(command), async ({ store }) => {
            // a typo would record an action that no service ever takes
            if ((await store.streamRevision(o.account)) < 0) {
              throw new ConfigError(
                `--account ${o.account}: no such account in ${store.location}`,
                'check the name: `tradekernel store tail --prefix paper- --type RunStarted` lists the accounts (the service creates one when it first runs)',
              );
            }
            const e = newEvent(
              event,
              deterministicId(now, 'control', o.account, name, now, process.pid),
              data,
              { occurredAt: now },
            );
            const r = await store.append(controlStream(o.account), [e], 'any');
            console.log(
              `${event.type} appended to ${controlStream(o.account)} at position ${r.position}; the service takes it at its next cycle`,
            );
          });
        },
      );
  }
}

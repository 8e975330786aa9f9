/**
 * The service's composition: store, single-writer lock, projections worker, API (+ /metrics),
 * candle source, clock, the loop, alerts and reports. `tradekernel run` calls runService.
 */
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import {
  type CcxtCandleSourceOptions,
  openCcxtCandleSource,
} from '../adapters/exchange/ccxt-candle-source.js';
import type { Mailer } from '../adapters/mail/smtp-mailer.js';
import { SmtpMailer } from '../adapters/mail/smtp-mailer.js';
import { instrumentEventStore } from '../adapters/metrics/instrumented-event-store.js';
import { TradekernelMetrics } from '../adapters/metrics/metrics.js';
import type { SqlDatabase } from '../adapters/sql/database.js';
import { ProjectionWorker } from '../api/projection-worker.js';
import { buildApi } from '../api/server.js';
import { openContext } from '../cli/context.js';
import type { StoreFlags } from '../cli/settings.js';
import { UnavailableError } from '../domain/errors.js';
import { timeframeMs } from '../domain/market/timeframe.js';
import type { CandleSource } from '../domain/ports/candle-source.js';
import { allProjectors, ProjectionRunner } from '../projections/index.js';
import { AbortedError, type Clock, SystemClock, VirtualClock } from './clock.js';
import { accountStreamOf, type ServiceConfig } from './config.js';
import { Notifier } from './notifications.js';
import { type CycleReport, PaperTradingService } from './paper-service.js';
import { SqlSnapshotStore } from './snapshots.js';
import { ReplayCandleSource, type SourceSpec } from './sources.js';

export interface RunServiceOptions {
  store: StoreFlags;
  config: ServiceConfig;
  source: SourceSpec;
  speed: number | 'max';
  version: string;
  logger: Logger;
  signal: AbortSignal;
  /** default: the config's api section */
  api?: { host: string; port: number } | null;
  token?: string | undefined;
  mailer?: Mailer | null;
  /** where reports go (default <data-dir>/reports) */
  reportDir?: string;
  /** a live run's clock (tests: a VirtualClock) */
  clock?: Clock;
  /** the live source's request timeout and retries (tests: fail fast, the loop retries) */
  ccxt?: Pick<CcxtCandleSourceOptions, 'retry' | 'timeoutMs' | 'sleep'>;
  /** wrap the source (the soak injects failures) */
  wrapSource?: (source: CandleSource) => CandleSource;
  /** stop after this many cycles (tests) */
  maxCycles?: number;
  retryDelayMs?: (attempt: number) => number;
  /** cycles between kernel snapshots (default 24); 0 disables them (every start replays all) */
  snapshotEvery?: number;
  onListening?: (url: string) => void;
  /** after each cycle (awaited: tests act between cycles) */
  onCycle?: (report: CycleReport, service: PaperTradingService) => void | Promise<void>;
  onStarted?: (service: PaperTradingService) => void | Promise<void>;
  onFetchAttempt?: (ok: boolean) => void;
}

export interface RunServiceResult {
  account: string;
  cycles: number;
  reason: 'exhausted' | 'stopped' | 'max-cycles';
  reports: string[];
  latestReport: string | null;
  decisions: number;
  alerts: number;
  /** events the projections applied in the final catch-up at the stop */
  projectedAtStop: number;
}

/** Holds a PostgreSQL session-level advisory lock per account: released when the process dies. */
async function lockAccount(database: SqlDatabase, account: string): Promise<() => Promise<void>> {
  if (database.kind !== 'postgres' || !database.connect) return async () => {};
  const client: pg.PoolClient = await database.connect();
  const { rows } = await client.query<{ ok: boolean }>(
    'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
    [`tradekernel:account:${account}`],
  );
  if (!rows[0]?.ok) {
    client.release();
    throw new UnavailableError(
      `account ${account} is already run by another tradekernel service`,
      'one service per account: stop the other one, or give this one another "account" in its config',
    );
  }
  return async () => {
    await client
      .query('select pg_advisory_unlock(hashtextextended($1, 0))', [`tradekernel:account:${account}`])
      .catch(() => {});
    client.release();
  };
}

export async function runService(o: RunServiceOptions): Promise<RunServiceResult> {
  const { config, logger } = o;
  const account = accountStreamOf(config);
  const ctx = await openContext(o.store);
  const cleanups: (() => Promise<unknown>)[] = [() => ctx.close()];
  const close = async () => {
    for (const c of cleanups.reverse())
      await c().catch((e) => logger.error({ err: (e as Error).message }, 'close failed'));
  };
  try {
    cleanups.push(await lockAccount(ctx.database, account));
    const metrics = new TradekernelMetrics({ version: o.version });
    const store = instrumentEventStore(ctx.store, metrics);
    const projections = new ProjectionRunner(ctx.database, store, allProjectors());
    await projections.prepare();
    // alerts go through the notifier once it exists (below); a failure before that is logged
    let notifier: Notifier | undefined;
    const worker = new ProjectionWorker(projections, {
      metrics,
      onError: (error) => {
        logger.error({ err: (error as Error).message }, 'projection run failed; retrying');
        void notifier?.onProjectionsFailed(account, error);
      },
      onRecovered: () => {
        logger.info('projections apply again');
        void notifier?.onProjectionsRecovered(account);
      },
    });
    worker.start();
    cleanups.push(() => worker.stop());

    const api =
      o.api === undefined
        ? config.api.enabled
          ? { host: config.api.host, port: config.api.port }
          : null
        : o.api;
    if (api) {
      const app = await buildApi({
        store,
        database: ctx.database,
        catalogue: ctx.catalogue,
        projections,
        worker,
        metrics,
        token: o.token,
        version: o.version,
        logger: false,
      });
      const url = await app
        .listen({ host: api.host, port: api.port })
        .catch((error: NodeJS.ErrnoException) => {
          throw new UnavailableError(
            `cannot listen on ${api.host}:${api.port}: ${error.code ?? error.message}`,
            'pick another port (api.port or --port), or --no-api',
          );
        });
      cleanups.push(() => app.close());
      logger.info({ url }, 'API listening (docs /docs, metrics /metrics)');
      o.onListening?.(url);
    }

    let source: CandleSource;
    let clock: Clock;
    let end = Number.POSITIVE_INFINITY;
    let from: number | undefined;
    const step = timeframeMs(config.timeframe);
    if (o.source.kind === 'replay') {
      const replay = await ReplayCandleSource.open(
        o.source.path,
        config.exchange,
        config.timeframe,
        config.symbols,
      );
      const range = replay.range();
      end = range.lastClose;
      from = range.first;
      source = replay;
      clock = o.clock ?? new VirtualClock(range.first + step + config.settleDelayMs, o.speed);
    } else {
      source = await openCcxtCandleSource({
        // the service retries a symbol's fetch itself (fetchAttempts, market-feed.ts): one
        // attempt per call here, or an unreachable exchange took fetchAttempts x 5 tries
        retry: { attempts: 1 },
        ...o.ccxt,
        exchange: config.exchange,
        ...(config.exchangeApiUrl ? { apiUrl: config.exchangeApiUrl } : {}),
      });
      clock = o.clock ?? new SystemClock();
    }
    if (o.wrapSource) source = o.wrapSource(source);
    cleanups.push(() => source.close());

    const mailer = o.mailer !== undefined ? o.mailer : config.smtp ? new SmtpMailer(config.smtp) : null;
    if (mailer) cleanups.push(() => mailer.close());
    const reportDir =
      o.reportDir ?? join(o.store.dataDir ?? process.env.TRADEKERNEL_DATA_DIR ?? './data', 'reports');
    notifier = new Notifier(config, logger, mailer, reportDir);
    const reports: string[] = [];
    let decisions = 0;
    let service: PaperTradingService;
    service = new PaperTradingService({
      store,
      source,
      clock,
      config,
      logger,
      version: o.version,
      ...(from !== undefined ? { from } : {}),
      ...(o.retryDelayMs ? { retryDelayMs: o.retryDelayMs } : {}),
      stop: o.signal,
      hooks: {
        onDecisions: async (events) => {
          decisions += events.length;
          metrics.recordKernelEvents(events);
          await notifier.onDecisions(service, events);
        },
        onCollectionFailed: (symbol, error) => notifier.onCollectionFailed(service, symbol, error),
        onCycle: async (report) => {
          const status = service.kernelView.status();
          metrics.setPortfolio(account, {
            equity: status.equity,
            drawdown: status.drawdown,
            openPositions: service.kernelView.openPositions().length,
          });
          await notifier.onCycle(service, report);
          reports.push(...(await notifier.reportsDue(service, clock.now())));
          await o.onCycle?.(report, service);
        },
        ...(o.onFetchAttempt ? { onFetchAttempt: o.onFetchAttempt } : {}),
      },
      snapshots: o.snapshotEvery === 0 ? null : await SqlSnapshotStore.open(ctx.database),
      ...(o.snapshotEvery ? { snapshotEvery: o.snapshotEvery } : {}),
    });
    await service.start();
    notifier.resume(service);
    await o.onStarted?.(service);
    if (clock instanceof VirtualClock && Number.isFinite(service.handledUntil))
      await clock.sleepUntil(service.handledUntil + config.settleDelayMs);

    let cycles = 0;
    let reason: RunServiceResult['reason'] = 'stopped';
    while (!o.signal.aborted) {
      if (service.handledUntil >= end) {
        reason = 'exhausted';
        break;
      }
      if (o.maxCycles !== undefined && cycles >= o.maxCycles) {
        reason = 'max-cycles';
        break;
      }
      try {
        await clock.sleepUntil(service.nextDue(), o.signal);
      } catch (error) {
        if (error instanceof AbortedError) break;
        throw error;
      }
      try {
        await service.cycle();
      } catch (error) {
        await notifier.alert({
          kind: 'error',
          subject: `${account}: cycle failed`,
          text: String((error as Error)?.stack ?? error),
        });
        throw error;
      }
      cycles++;
    }
    // a clean stop leaves a snapshot of the last cycle: the next start replays nothing
    await service.saveSnapshot();
    // everything projected before a replay reports done
    await worker.stop();
    const projectedAtStop = await projections.catchUp();
    const latestReport = reason === 'exhausted' ? await notifier.latest(service) : null;
    logger.info({ account, cycles, reason, decisions, projectedAtStop }, 'service stopped');
    return {
      account,
      cycles,
      reason,
      reports,
      latestReport,
      decisions,
      alerts: notifier.sent.length,
      projectedAtStop,
    };
  } finally {
    await close();
  }
}

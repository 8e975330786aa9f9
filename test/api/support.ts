import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { readMarketFile } from '../../src/adapters/market-files/index.js';
import { TradekernelMetrics } from '../../src/adapters/metrics/metrics.js';
import type { SqlDatabase } from '../../src/adapters/sql/database.js';
import { type BuildApiOptions, buildApi } from '../../src/api/server.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { TradingResumed } from '../../src/domain/control/events.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { CandleClosed, CandleGapDetected, marketStream } from '../../src/domain/market/events.js';
import { timeframeMs } from '../../src/domain/market/timeframe.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { allProjectors, ProjectionRunner } from '../../src/projections/index.js';
import type { Backend } from '../support/backends.js';

/** Helpers of the API tests: a store filled with real candles, projected, behind buildApi. */

export const FIXTURES = new URL('../fixtures/candles/', import.meta.url).pathname;
export const BTC_1H = `${FIXTURES}BTC_USDT-1h-first3000.json`;
export const ETH_1H = `${FIXTURES}ETH_USDT-1h-first3000.json`;
export const TOKEN = 'test-token-0123456789abcdefghijklmnop';

/** CandleClosed events of a freqtrade JSON file (real Binance candles). */
export async function candleEvents(
  file: string,
  market: { exchange: string; symbol: string; timeframe: '1h' },
  count = Number.POSITIVE_INFINITY,
): Promise<NewEvent[]> {
  const { candles } = await readMarketFile(file);
  const step = timeframeMs(market.timeframe);
  return candles.slice(0, count).map((c) =>
    newEvent(
      CandleClosed,
      deterministicId(c.openTime, 'api-test', market.exchange, market.symbol, market.timeframe, c.openTime),
      {
        ...market,
        openTime: c.openTime,
        closeTime: c.openTime + step,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
      },
      { occurredAt: c.openTime + step },
    ),
  );
}

export function gapEvent(
  market: { exchange: string; symbol: string; timeframe: '1h' },
  from: number,
  missing: number,
): NewEvent {
  const step = timeframeMs(market.timeframe);
  return newEvent(
    CandleGapDetected,
    deterministicId(from, 'api-test-gap', market.exchange, market.symbol, from),
    { ...market, from, to: from + (missing - 1) * step, missing },
    { occurredAt: from + missing * step },
  );
}

export async function appendMarket(store: EventStore, events: NewEvent[]): Promise<void> {
  const first = events[0]!.data as { exchange: string; symbol: string; timeframe: string };
  const stream = marketStream(first.exchange, first.symbol, first.timeframe);
  for (let i = 0; i < events.length; i += 1000) await store.append(stream, events.slice(i, i + 1000));
}

/** Drops the read models so each file starts from an empty projection. */
export async function freshReadModels(database: SqlDatabase): Promise<ProjectionRunner['projectors']> {
  await sql`drop schema if exists readmodel cascade`.execute(database.db);
  await sql`delete from public.tradekernel_migrations where component like 'readmodel%'`.execute(database.db);
  return allProjectors();
}

export interface ApiFixture {
  app: FastifyInstance;
  store: EventStore;
  database: SqlDatabase;
  runner: ProjectionRunner;
  metrics: TradekernelMetrics;
  close(): Promise<void>;
}

/** Opens a backend, empties the read models, prepares them and builds the API over it. */
export async function openApi(backend: Backend, options: Partial<BuildApiOptions> = {}): Promise<ApiFixture> {
  const catalogue = createCatalogue();
  const opened = await backend.open(catalogue);
  const database = opened.database!;
  const runner = new ProjectionRunner(database, opened.store, await freshReadModels(database));
  await runner.prepare();
  const metrics = options.metrics ?? new TradekernelMetrics({ defaultMetrics: false, version: 'test' });
  const app = await buildApi({
    store: opened.store,
    database,
    catalogue,
    projections: runner,
    metrics,
    token: TOKEN,
    ...options,
  });
  return {
    app,
    store: opened.store,
    database,
    runner,
    metrics,
    async close() {
      await app.close();
      await opened.close();
    },
  };
}

/** A unique exchange id per test run, so runs on a shared PostgreSQL database never collide. */
export function uniqueExchange(): string {
  return `x${Math.random().toString(36).slice(2, 10)}`;
}

/** An account stream with an event in it: the control endpoints refuse accounts that do not exist. */
export async function existingAccount(
  store: EventStore,
  account = `paper-${uniqueExchange()}`,
): Promise<string> {
  const data = { account, actor: 'test', reason: 'an account for the test' };
  await store.append(account, [
    newEvent(TradingResumed, deterministicId(0, 'test-account', account), data, {
      occurredAt: Date.UTC(2025, 0, 1),
    }),
  ]);
  return account;
}

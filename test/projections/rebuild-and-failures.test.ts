import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, type SqlDatabase } from '../../src/adapters/sql/database.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { RunStarted, type RunStartedData } from '../../src/domain/runs/events.js';
import { accountsProjector } from '../../src/projections/accounts.js';
import { equityProjector } from '../../src/projections/equity.js';
import { allProjectors, ProjectionRunner, ProjectionStoppedError } from '../../src/projections/index.js';
import { ordersProjector } from '../../src/projections/orders.js';
import { positionsProjector } from '../../src/projections/positions.js';
import type { Projector } from '../../src/projections/projector.js';
import { tradesProjector } from '../../src/projections/trades.js';
import { backends } from '../support/backends.js';
import {
  appendInOrder,
  backtestOrder,
  createCatalogue,
  defaultBars,
  freshReadModels,
  type KernelRun,
  kernelRun,
  labelOf,
  liveOrder,
  readModelBackends,
  uniqueNames,
} from './support.js';

/**
 * Rebuilding a projection gives the rows the incremental run gave, whatever the order candles
 * and decisions reached the log in, wherever the catch-ups fell and whatever the batch size;
 * a projector killed mid-batch resumes without loss or double counting; one that meets an event
 * it cannot apply stops there.
 */

const TABLES: [string, 'account' | 'exchange' | 'run_id', 'exact'?][] = [
  ['candles', 'exchange', 'exact'],
  ['runs', 'run_id', 'exact'],
  ['accounts', 'account', 'exact'],
  ['signals', 'account', 'exact'],
  ['predictions', 'account', 'exact'],
  ['prediction_accounts', 'account', 'exact'],
  ['risk_decisions', 'account', 'exact'],
  ['trading_halts', 'account', 'exact'],
  ['orders', 'account', 'exact'],
  ['stop_triggers', 'account', 'exact'],
  ['fills', 'account', 'exact'],
  ['positions', 'account', 'exact'],
  ['trades', 'account', 'exact'],
  ['equity_accounts', 'account', 'exact'],
  ['equity_ledger', 'account', 'exact'],
  ['equity_closes', 'exchange', 'exact'],
  ['equity', 'account', 'exact'],
  ['strategy_performance', 'account', 'exact'],
  ['candle_arrivals', 'exchange', 'exact'],
  // views and rollups
  ['pnl_daily', 'account'],
  ['pnl_weekly', 'account'],
  ['pnl_monthly', 'account'],
  ['strategy_stats', 'account'],
  ['open_positions', 'account'],
  ['fills_daily', 'account'],
  ['equity_latest', 'account'],
];

/**
 * Every row of every read model that belongs to the run, in a stable order: tables as JSON text
 * (bit for bit), views and rollups parsed (compared with a tolerance of 1e-12: a continuous
 * aggregate sums its buckets in the order it materialized them).
 */
async function snapshot(database: SqlDatabase, run: KernelRun): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key, exact] of TABLES) {
    const value = key === 'account' ? run.account : key === 'exchange' ? run.exchange : run.runId;
    const { rows } = await sql<{ r: string }>`
      select row_to_json(t)::text as r from ${sql.raw(`readmodel.${table}`)} t
      where ${sql.ref(`t.${key}`)} = ${value} order by 1`.execute(database.db);
    out[table] = rows.map((r) => (exact ? r.r : JSON.parse(r.r)));
  }
  return out;
}

/** Deep equality, numbers within a relative 1e-12. */
function expectSame(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  } else if (expected !== null && typeof expected === 'object') {
    expect(typeof actual, path).toBe('object');
    const keys = Object.keys(expected as object);
    expect(Object.keys(actual as object), path).toEqual(keys);
    for (const k of keys)
      expectSame(
        (actual as Record<string, unknown>)[k],
        (expected as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
  } else {
    expect(actual, path).toEqual(expected);
  }
}

async function expectKernelCurve(database: SqlDatabase, run: KernelRun) {
  const { rows } = await sql<{ t: number; equity: number }>`
    select (extract(epoch from time) * 1000)::int8 as t, equity from readmodel.equity
    where account = ${run.account} order by time`.execute(database.db);
  const curve = run.kernel.equityCurve();
  expect(rows.map((r) => Number(r.t))).toEqual([...curve.time]);
  expect(rows.map((r) => r.equity)).toEqual([...curve.equity]);
}

const BARS = defaultBars(700);

for (const backend of readModelBackends(backends)) {
  const label = labelOf(backend);
  describe.skipIf(backend.skipReason !== null)(`rebuild = incremental on ${label}`, () => {
    let store: EventStore;
    let database: SqlDatabase;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const opened = await backend.open(createCatalogue());
      ({ store, close } = opened);
      database = opened.database!;
      await freshReadModels(database);
      await new ProjectionRunner(database, store, allProjectors()).prepare();
    });
    afterAll(async () => close?.());

    it('a rebuild yields the rows of the incremental run, for random cut points, orders and batch sizes (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: 999 }), { maxLength: 5 }),
          fc.constantFrom(9, 97, 5_000),
          fc.boolean(),
          async (cutsPerMille, batchSize, asBacktest) => {
            const run = kernelRun({ ...uniqueNames('p'), bars: BARS });
            const runner = new ProjectionRunner(database, store, allProjectors(), batchSize);
            if (asBacktest) {
              // market data imported first, then the account stream; catch-ups anywhere in between
              const items = backtestOrder(run);
              const cuts = [...new Set(cutsPerMille.map((c) => Math.floor((c / 1000) * items.length)))].sort(
                (a, b) => a - b,
              );
              let done = 0;
              for (const cut of [...cuts, items.length]) {
                await appendInOrder(store, items.slice(done, cut));
                done = Math.max(done, cut);
                await runner.catchUp();
              }
            } else {
              // a live account: candles, then what the kernel decided on them, step by step
              const cuts = cutsPerMille
                .map((c) => Math.floor((c / 1000) * run.candles.length))
                .sort((a, b) => a - b);
              for (const step of liveOrder(run, cuts)) {
                await appendInOrder(store, step);
                await runner.catchUp();
              }
            }
            await expectKernelCurve(database, run);
            const incremental = await snapshot(database, run);
            expect(incremental.trades!.length).toBeGreaterThan(5);
            await runner.rebuild();
            expectSame(await snapshot(database, run), incremental);
          },
        ),
        { numRuns: Number(process.env.TK_PROPERTY_RUNS ?? (label === 'pglite' ? 6 : 3)) },
      );
    }, 1_800_000);
  });
}

describe('failures', () => {
  let database: SqlDatabase;
  let store: EventStore;

  async function fresh() {
    await database?.close();
    database = await openPglite();
    store = await PostgresEventStore.open(database, createCatalogue());
  }
  afterAll(async () => database?.close());

  it('projectors killed mid-batch resume without loss or double counting', async () => {
    await fresh();
    const run = kernelRun({ ...uniqueNames('k'), bars: BARS });
    await appendInOrder(store, backtestOrder(run));
    await new ProjectionRunner(database, store, allProjectors()).prepare();
    // each projector writes its second batch, then dies before the commit
    const calls = new Map<string, number>();
    const flaky = allProjectors().map(
      (p): Projector => ({
        ...p,
        async apply(tx, events) {
          await p.apply(tx, events);
          const n = (calls.get(p.name) ?? 0) + 1;
          calls.set(p.name, n);
          if (n === 2) throw new Error('killed mid-batch');
        },
      }),
    );
    const failing = new ProjectionRunner(database, store, flaky, 50);
    let failures = 0;
    for (;;) {
      try {
        await failing.catchUp();
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(ProjectionStoppedError);
        failures++;
      }
    }
    expect(failures).toBe([...calls.values()].filter((n) => n >= 2).length);
    expect(failures).toBeGreaterThanOrEqual(8);
    await expectKernelCurve(database, run);
    const resumed = await snapshot(database, run);
    await new ProjectionRunner(database, store, allProjectors()).rebuild();
    expectSame(await snapshot(database, run), resumed);
  });

  it('every projector stops at an event type it cannot apply, and does not move past it', async () => {
    await fresh();
    const run = kernelRun({ ...uniqueNames('u'), bars: defaultBars(200) });
    await appendInOrder(store, backtestOrder(run));
    const runner = new ProjectionRunner(database, store, allProjectors());
    await runner.prepare();
    await runner.catchUp();
    const before = await runner.status();
    await store.append('market-test-rules', [
      newEvent(
        { type: 'MarketRulesObserved', schemaVersion: 1 } as never,
        deterministicId(run.to, 'rules'),
        {
          exchange: run.exchange,
          symbol: 'BTC/USDT',
          amountStep: 0.001,
          priceStep: 0.01,
          minAmount: 0.001,
          minNotional: 5,
        },
        { occurredAt: run.to },
      ),
    ]);
    for (const p of allProjectors()) {
      const picky: Projector = { ...p, handles: [...p.handles, 'MarketRulesObserved'] };
      const error = await new ProjectionRunner(database, store, [picky]).catchUp().catch((e) => e);
      expect(error, p.name).toBeInstanceOf(ProjectionStoppedError);
      expect(error.message).toMatch(
        new RegExp(`projection ${p.name} stopped .*cannot apply MarketRulesObserved at position \\d+`),
      );
    }
    const after = await runner.status();
    expect(after.map((s) => s.position)).toEqual(before.map((s) => s.position));
  });

  async function stopsOn(projector: Projector, events: [string, NewEvent[]][], message: RegExp) {
    await fresh();
    for (const [stream, batch] of events) await store.append(stream, batch);
    const runner = new ProjectionRunner(database, store, [projector]);
    await runner.prepare();
    const error = await runner.catchUp().catch((e) => e);
    expect(error).toBeInstanceOf(ProjectionStoppedError);
    expect(error.message).toMatch(message);
    expect((await runner.status())[0]!.position).toBe(0);
  }

  it('stops on events that contradict the model instead of guessing', async () => {
    const run = kernelRun({ ...uniqueNames('c'), bars: defaultBars(400) });
    const of = (type: string) => run.outputs.flat().filter((e) => e.type === type);
    // a fill of an account that never started: its capital is unknown
    await stopsOn(equityProjector, [[run.account, of('OrderFilled').slice(0, 1)]], /no RunStarted before it/);
    // a run without its capital
    const started = run.runStarted.data as RunStartedData;
    const bare = newEvent(
      RunStarted,
      deterministicId(run.from, 'bare'),
      { ...started, settings: {} },
      { occurredAt: run.from },
    );
    await stopsOn(equityProjector, [[run.account, [bare]]], /has no settings.initialCash/);
    // a fill of an order never submitted
    await stopsOn(
      ordersProjector,
      [[run.account, of('OrderFilled').slice(0, 1)]],
      /no order .* was submitted/,
    );
    // a position closed that never opened
    await stopsOn(tradesProjector, [[run.account, of('PositionClosed').slice(0, 1)]], /was never opened/);
    await stopsOn(positionsProjector, [[run.account, of('PositionClosed').slice(0, 1)]], /is not open/);
    // a run completed that never started
    await stopsOn(accountsProjector, [[run.account, [run.runCompleted]]], /no run .* started/);
  });

  it('lag is what is left to apply, counted by the database; quiet projections skip ahead', async () => {
    await fresh();
    const run = kernelRun({ ...uniqueNames('l'), bars: defaultBars(300) });
    const items = backtestOrder(run);
    await appendInOrder(store, items);
    const runner = new ProjectionRunner(database, store, allProjectors());
    await runner.prepare();
    const lagOf = async () => Object.fromEntries((await runner.status()).map((s) => [s.name, s.lag]));
    const lag = await lagOf();
    const count = (...types: string[]) => items.filter((i) => types.includes(i.event.type)).length;
    expect(lag.candles).toBe(count('CandleClosed'));
    expect(lag.accounts).toBe(count('RunStarted', 'RunCompleted'));
    expect(lag.equity).toBe(count('RunStarted', 'OrderFilled', 'PositionClosed', 'CandleClosed'));
    expect((await runner.status(10)).every((s) => s.lag <= 10)).toBe(true);
    await runner.catchUp();
    expect(Object.values(await lagOf()).every((l) => l === 0)).toBe(true);
    // more candles: the projections that read them lag; the others have read past them already
    const more = kernelRun({ ...uniqueNames('m'), bars: defaultBars(20) });
    await appendInOrder(
      store,
      more.candles.map((c) => ({ stream: `market-${more.exchange}-x`, event: c })),
    );
    const after = await lagOf();
    expect(after).toMatchObject({
      candles: more.candles.length,
      equity: more.candles.length,
      health: more.candles.length,
      accounts: 0,
      trades: 0,
    });
    await runner.catchUp();
    const { rows } = await sql<{ projection: string; position: number; scanned: number }>`
      select projection, position, scanned from readmodel.checkpoints`.execute(database.db);
    const head = await store.headPosition();
    for (const r of rows) expect(Number(r.scanned), r.projection).toBe(head);
    expect(Number(rows.find((r) => r.projection === 'trades')!.position)).toBeLessThan(head);
  });
});

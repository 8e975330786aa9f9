import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, type SqlDatabase } from '../../src/adapters/sql/database.js';
import { KERNEL_VERSION } from '../../src/cli/version.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { runBacktest } from '../../src/replay/backtest/run-backtest.js';
import { type BacktestSpec, defaultSettings } from '../../src/replay/backtest/settings.js';
import { verifyRun } from '../../src/replay/backtest/verify-run.js';
import { importCandles } from '../../src/services/import-candles.js';
import { truncateStream } from '../support/tamper.js';
import { FIXTURE_FROM, FIXTURE_TO, FIXTURES } from './support.js';

describe('a run whose append was interrupted', () => {
  let database: SqlDatabase;
  let store: EventStore;
  beforeAll(async () => {
    database = await openPglite();
    store = await PostgresEventStore.open(database, createCatalogue());
    await importCandles(store, [FIXTURES['BTC/USDT']!]);
  });
  afterAll(() => database.close());

  const spec: BacktestSpec = {
    strategy: { name: 'ema-cross', params: {} },
    exchange: 'binance',
    timeframe: '1h',
    symbols: ['BTC/USDT'],
    from: FIXTURE_FROM,
    to: FIXTURE_TO,
    settings: defaultSettings(),
  };

  it('is completed by running the same command again; then verifies', async () => {
    const options = { kernelVersion: KERNEL_VERSION, batchSize: 100 };
    const first = await runBacktest(store, spec, options);
    expect(first.storedAs).toBe('appended');
    const total = first.sim.decisions + 2;
    expect(total).toBeGreaterThan(300);
    // as if the process died after the third batch
    await truncateStream(database, first.account, 300);
    const interrupted = await verifyRun(store, first.runId, options);
    expect(interrupted.ok).toBe(false);
    expect(interrupted.problems).toContain(
      'the run has no RunCompleted: it was interrupted before its last append',
    );

    const again = await runBacktest(store, spec, options);
    expect(again.storedAs).toBe('resumed');
    expect(again.decisionHash).toBe(first.decisionHash);
    expect(await store.streamRevision(first.account)).toBe(total - 1);
    expect((await verifyRun(store, first.runId, options)).ok).toBe(true);
    const third = await runBacktest(store, spec, options);
    expect(third.storedAs).toBe('already-stored');
  });

  it('reports an append that fails during the replay, and the next run completes the stream', async () => {
    const run = { ...spec, settings: { ...defaultSettings(), capital: 2_000 } }; // another run id
    const options = { kernelVersion: KERNEL_VERSION, batchSize: 50 };
    let appends = 0;
    // the store refuses the third append: the batches before it are stored, the replay goes on
    const failing = new Proxy(store, {
      get(target, key) {
        if (key === 'append') {
          return (...args: Parameters<EventStore['append']>) =>
            ++appends === 3 ? Promise.reject(new Error('connection lost')) : target.append(...args);
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(runBacktest(failing, run, options)).rejects.toThrow('connection lost');
    const account = (await runBacktest(store, run, { ...options, store: false })).account;
    expect(await store.streamRevision(account)).toBe(99);
    const resumed = await runBacktest(store, run, options);
    expect(resumed.storedAs).toBe('resumed');
    expect(await store.streamRevision(account)).toBe(resumed.sim.decisions + 1);
    expect((await verifyRun(store, resumed.runId, options)).ok).toBe(true);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import { marketStream } from '../../src/domain/market/events.js';
import { VirtualClock } from '../../src/service/clock.js';
import { validateServiceConfig } from '../../src/service/config.js';
import { CONTROL_TYPES, type CycleReport } from '../../src/service/paper-service.js';
import { runService } from '../../src/service/run-service.js';
import { klineRowsFromFreqtrade, startFakeBinance } from '../services/fake-binance.js';
import { HOUR, readAll, silentLogger } from './support.js';

/**
 * The live source on its schedule (issue 7 §2), against a local stand-in for Binance's REST API
 * driven by the virtual clock: a cycle at each candle close + the settle delay, asking for the
 * candles after the newest stored one; an outage's missed hours recorded as collection failures,
 * then backfilled in order, under the stale-data pause, before any decision on the new hour.
 */
const root = mkdtempSync(join(tmpdir(), 'tk-live-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('live source scheduling', () => {
  it('cycles at close + settle, fetches only what is missing, backfills an outage in order', async () => {
    const rows = {
      BTCUSDT: { '1h': klineRowsFromFreqtrade('examples/candles/BTC_USDT-1h.json') },
      ETHUSDT: { '1h': klineRowsFromFreqtrade('examples/candles/ETH_USDT-1h.json') },
    };
    const first = rows.BTCUSDT['1h'][0]![0];
    const SETTLE = 10_000;
    // the service starts mid-hour, 30 hours into the data
    const clock = new VirtualClock(first + 30 * HOUR + 5 * 60_000, 'max');
    const fake = await startFakeBinance(rows, { now: () => clock.now() });
    const symbols = ['BTC/USDT', 'ETH/USDT'];
    const config = validateServiceConfig({
      account: 'live',
      symbols,
      exchangeApiUrl: fake.url,
      warmupCandles: 24,
      settleDelaySeconds: SETTLE / 1000,
      fetchAttempts: 2,
      api: { enabled: false },
    });
    const reports: CycleReport[] = [];
    const dataDir = join(root, 'store');
    try {
      await runService({
        store: { dataDir },
        config,
        source: { kind: 'live' },
        speed: 'max',
        clock,
        version: 'test',
        logger: silentLogger(),
        signal: new AbortController().signal,
        api: null,
        mailer: null,
        reportDir: join(root, 'reports'),
        ccxt: { retry: { attempts: 1 }, timeoutMs: 2_000 },
        retryDelayMs: () => 0,
        maxCycles: 14,
        onCycle: (report) => {
          reports.push(report);
          // after cycle 5 the exchange answers 503 to everything for three hours
          if (reports.length === 5) fake.failNext(...Array.from({ length: 3 * 2 * 2 }, () => 503));
        },
      });
    } finally {
      await fake.close();
    }

    // 1. the first cycle at once (a candle closed before the start); then one per close + settle
    expect(reports[0]!.at).toBe(first + 30 * HOUR + 5 * 60_000);
    for (const [i, r] of reports.slice(1).entries()) expect(r.at).toBe(first + (31 + i) * HOUR + SETTLE);

    // 2. the warm-up: 24 closed candles per symbol, the forming one left out; all but the last
    //    two older than the 90-minute limit, so handled under the service's stale-data pause
    expect(reports[0]).toMatchObject({ candlesFetched: 48, candlesHandled: 48, staleCandles: 44 });
    // then one candle per symbol and hour, asked for from the hour after the newest stored one
    expect(reports.slice(1, 5).map((r) => r.candlesFetched)).toEqual([2, 2, 2, 2]);

    // 3. the outage: three cycles with both symbols failed, each failure evented
    expect(reports.slice(5, 8).map((r) => r.failedSymbols)).toEqual([symbols, symbols, symbols]);
    expect(reports.slice(5, 8).map((r) => r.candlesHandled)).toEqual([0, 0, 0]);
    // then the three missed hours and the new one in one go, the two oldest too old to trade on
    expect(reports[8]).toMatchObject({
      failedSymbols: [],
      candlesFetched: 8,
      candlesHandled: 8,
      staleCandles: 4,
    });
    expect(reports.slice(9).map((r) => r.candlesFetched)).toEqual([2, 2, 2, 2, 2]);

    const klines = fake
      .klineRequests()
      .map((q) => ({ symbol: q.get('symbol'), since: Number(q.get('startTime')) }));
    const asked = klines.filter((k) => k.symbol === 'BTCUSDT').map((k) => (k.since - first) / HOUR);
    // from the warm-up start (hour 6); hours 35-37 asked twice per outage cycle, then once more
    expect(asked).toEqual([6, 30, 31, 32, 33, 34, 34, 34, 34, 34, 34, 34, 38, 39, 40, 41, 42]);

    const ctx = await openContext({ dataDir });
    try {
      const ops = await readAll(ctx.store, 'ops-paper-live');
      expect(ops.map((e) => e.type)).toEqual(Array(6).fill('DataCollectionFailed'));
      expect(ops[0]!.data).toMatchObject({ attempt: 2, error: expect.stringMatching(/503|unavailable/i) });
      for (const symbol of symbols) {
        const market = await readAll(ctx.store, marketStream('binance', symbol, '1h'));
        // no hole, no repeat, in order: every hour from the warm-up start to the last close
        expect(market.map((e) => e.type).every((t) => t === 'CandleClosed')).toBe(true);
        const opens = market.map((e) => (e.data as { openTime: number }).openTime);
        expect(opens).toEqual(Array.from({ length: 24 + 4 + 4 + 5 }, (_, i) => first + (6 + i) * HOUR));
      }
      // decisions in event-time order: the backfilled hours come before the new one
      const account = await readAll(ctx.store, 'paper-live');
      const decided = account.filter((e) => !['RunStarted', 'ServiceStarted'].includes(e.type));
      const times = decided.map((e) => e.metadata.occurredAt);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // the outage's backfill: paused (stale) before the old hours, resumed before the fresh ones
      const service = decided.filter((e) => CONTROL_TYPES.has(e.type));
      expect(
        service.map((e) => [
          e.type,
          (e.data as { actor: string }).actor,
          (e.metadata.occurredAt - first) / HOUR,
        ]),
      ).toEqual([
        // at the start (hour 6), lifted after the last stale warm-up candle (closing at 28)
        ['TradingPaused', 'service', 6],
        ['TradingResumed', 'service', 28],
        // after the last candle handled before the outage (closing at 34), lifted at 36
        ['TradingPaused', 'service', 34],
        ['TradingResumed', 'service', 36],
      ]);
    } finally {
      await ctx.close();
    }
  }, 120_000);
});

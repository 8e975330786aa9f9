import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { candleEventId } from '../../src/domain/market/candle-events.js';
import { type CandleClosedData, marketStream } from '../../src/domain/market/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { importCandles } from '../../src/services/import-candles.js';
import { resampleMarket } from '../../src/services/resample-market.js';
import { backends } from '../support/backends.js';
import { testCatalogue } from '../support/test-events.js';
import {
  describeStream,
  FREQTRADE_MAY19,
  fixtureLines,
  isTimeOrdered,
  KLINES_MAY19,
  readMarket,
  TempDir,
  uniqueExchange,
} from './support.js';

const HOUR = 3_600_000;
const MAY19 = Date.UTC(2021, 4, 19);
/** Binance's own 1h candles of 2021-05-19: [openTime, open, high, low, close, volume]. */
const BINANCE_1H = JSON.parse(readFileSync(FREQTRADE_MAY19, 'utf8')) as number[][];
const MINUTE_LINES = fixtureLines(KLINES_MAY19);

const candlesOf = (events: readonly { type: string; data: unknown }[]) =>
  events.filter((e) => e.type === 'CandleClosed').map((e) => e.data as CandleClosedData);
const ohlcv = (c: CandleClosedData) => [c.openTime, c.open, c.high, c.low, c.close, c.volume];

for (const backend of backends.filter((b) => b.name !== 'esdb')) {
  describe.skipIf(backend.skipReason !== null)(`data resample (${backend.name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;
    let exchange: string;
    let files: TempDir;

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => {
      await close?.();
      files?.remove();
    });
    beforeEach(() => {
      exchange = uniqueExchange();
      files ??= new TempDir();
    });

    /** Imports Binance 1m rows of 2021-05-19 (all, or those `keep` selects) into the 1m stream. */
    async function importMinutes(keep: (openTime: number) => boolean = () => true, name = 'day') {
      const lines = MINUTE_LINES.filter((line) => keep(Number(line.split(',')[0])));
      const path = files.write(`${exchange}-${name}.csv`, `${lines.join('\n')}\n`);
      const report = await importCandles(store, [path], { exchange, symbol: 'BTC/USDT', timeframe: '1m' });
      expect(report.error).toBeNull();
    }

    const resample = (to: ('5m' | '15m' | '1h' | '4h' | '1d')[]) =>
      resampleMarket(store, { exchange, symbol: 'BTC/USDT', from: '1m', to });

    it("builds 1h candles equal to Binance's own, and 4h and 1d, with the ids of imported candles", async () => {
      await importMinutes();
      const report = await resample(['1h', '4h', '1d']);
      expect(report.error).toBeNull();
      expect(report.source).toEqual({
        timeframe: '1m',
        stream: marketStream(exchange, 'BTC/USDT', '1m'),
        read: 1440,
        first: '2021-05-19T00:00:00.000Z',
        last: '2021-05-19T23:59:00.000Z',
      });
      expect(
        report.targets.map((t) => [t.timeframe, t.status, t.new, t.incomplete, t.pending, t.gaps.length]),
      ).toEqual([
        ['1h', 'resampled', 24, 0, null, 0],
        ['4h', 'resampled', 6, 0, null, 0],
        ['1d', 'resampled', 1, 0, null, 0],
      ]);
      expect(report.targets[0]).toMatchObject({
        stream: marketStream(exchange, 'BTC/USDT', '1h'),
        from: '2021-05-19T00:00:00.000Z',
        resumed: false,
        first: '2021-05-19T00:00:00.000Z',
        last: '2021-05-19T23:00:00.000Z',
      });

      // The exchange's 1h candles, exactly: prices and volume (summed in units of 10^-8).
      const hours = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1h'));
      expect(candlesOf(hours).map(ohlcv)).toEqual(BINANCE_1H);
      const key = { exchange, symbol: 'BTC/USDT', timeframe: '1h' as const };
      expect(hours.map((e) => e.id)).toEqual(BINANCE_1H.map(([t]) => candleEventId(key, t!)));
      expect(hours.every((e) => e.metadata.correlationId === report.correlationId)).toBe(true);
      expect(hours.map((e) => e.metadata.occurredAt)).toEqual(BINANCE_1H.map(([t]) => t! + HOUR));

      // The day: Binance's hours aggregated (the crash low of 30,000 at 13:xx).
      const [day] = candlesOf(await readMarket(store, marketStream(exchange, 'BTC/USDT', '1d')));
      expect(day).toMatchObject({
        openTime: MAY19,
        closeTime: MAY19 + 24 * HOUR,
        open: BINANCE_1H[0]![1],
        high: Math.max(...BINANCE_1H.map((h) => h[2]!)),
        low: 30000,
        close: BINANCE_1H[23]![4],
      });
      expect(day!.volume).toBe(BINANCE_1H.reduce((sum, h) => sum + Math.round(h[5]! * 1e8), 0) / 1e8);
    });

    it('is idempotent, and continues after the last built candle as the source grows', async () => {
      // Up to 12:29: hours 00–11 are complete, 12:00 is not closed yet.
      await importMinutes((t) => t < MAY19 + 12.5 * HOUR, 'morning');
      const first = await resample(['1h']);
      expect(first.targets[0]).toMatchObject({ new: 12, pending: '2021-05-19T12:00:00.000Z', incomplete: 0 });
      expect(first.totals).toMatchObject({ new: 12, gaps: 0 });

      const again = await resample(['1h']);
      expect(again.targets[0]).toMatchObject({
        resumed: true,
        from: '2021-05-19T12:00:00.000Z',
        new: 0,
        pending: '2021-05-19T12:00:00.000Z',
      });
      expect(again.source.read).toBe(30); // 12:00–12:29 only, found by a binary search

      await importMinutes((t) => t >= MAY19 + 12.5 * HOUR, 'afternoon');
      const rest = await resample(['1h']);
      expect(rest.targets[0]).toMatchObject({
        resumed: true,
        new: 12,
        pending: null,
        first: '2021-05-19T12:00:00.000Z',
        last: '2021-05-19T23:00:00.000Z',
      });
      expect((await resample(['1h'])).targets[0]).toMatchObject({ new: 0, present: 0 });
      const hours = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1h'));
      expect(candlesOf(hours).map(ohlcv)).toEqual(BINANCE_1H);
    });

    it('never writes an incomplete bucket: an outage becomes a gap in the built streams', async () => {
      // An outage of 10:15–10:20 (6 minutes): the 10:00 hour and the 08:00 4h bucket lack them.
      await importMinutes((t) => t < MAY19 + 10.25 * HOUR || t > MAY19 + 10 * HOUR + 20 * 60_000);
      const report = await resample(['1h', '4h']);
      expect(report.targets.map((t) => [t.timeframe, t.new, t.incomplete, t.gaps])).toEqual([
        ['1h', 23, 1, [{ from: '2021-05-19T10:00:00.000Z', to: '2021-05-19T10:00:00.000Z', missing: 1 }]],
        ['4h', 5, 1, [{ from: '2021-05-19T08:00:00.000Z', to: '2021-05-19T08:00:00.000Z', missing: 1 }]],
      ]);
      const hours = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1h'));
      expect(isTimeOrdered(hours)).toBe(true);
      expect(describeStream(hours).slice(9, 12)).toEqual([
        ['candle', MAY19 + 9 * HOUR],
        ['gap', MAY19 + 10 * HOUR, MAY19 + 10 * HOUR, 1],
        ['candle', MAY19 + 11 * HOUR],
      ]);
      // Every candle written is Binance's, unchanged.
      expect(candlesOf(hours).map(ohlcv)).toEqual(BINANCE_1H.filter(([t]) => t !== MAY19 + 10 * HOUR));
    });

    it('continues a stream of the exchange’s own 1h candles: the result is that stream, event for event', async () => {
      // Binance's 1h candles up to 11:00 imported, then the rest built from minutes.
      const hourly = { symbol: 'BTC/USDT', timeframe: '1h' };
      const morning = files.write(`${exchange}-morning.json`, JSON.stringify(BINANCE_1H.slice(0, 12)));
      expect((await importCandles(store, [morning], { exchange, ...hourly })).error).toBeNull();
      await importMinutes();
      const report = await resample(['1h']);
      expect(report.targets[0]).toMatchObject({ resumed: true, from: '2021-05-19T12:00:00.000Z', new: 12 });
      const mixed = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1h'));

      const other = uniqueExchange();
      const whole = files.write(`${other}-day.json`, JSON.stringify(BINANCE_1H));
      expect((await importCandles(store, [whole], { exchange: other, ...hourly })).error).toBeNull();
      const imported = await readMarket(store, marketStream(other, 'BTC/USDT', '1h'));
      const key = (ex: string) => ({ exchange: ex, symbol: 'BTC/USDT', timeframe: '1h' as const });
      expect(mixed.map((e) => [e.id, { ...(e.data as object), exchange: 'x' }])).toEqual(
        imported.map((e) => [
          candleEventId(key(exchange), (e.data as CandleClosedData).openTime),
          { ...(e.data as object), exchange: 'x' },
        ]),
      );
    });

    it('refuses what cannot be built, before writing anything', async () => {
      const empty = await resample(['1h']);
      expect(empty.error).toMatchObject({ code: 'config' });
      expect(empty.error!.message).toContain('no ');
      await expect(
        resampleMarket(store, { exchange, symbol: 'BTC/USDT', from: '1h', to: ['1m'] }),
      ).rejects.toThrow(/cannot build 1m candles from 1h ones/);
      await expect(
        resampleMarket(store, { exchange, symbol: 'BTC/USDT', from: '1h', to: ['1h'] }),
      ).rejects.toThrow(/source timeframe itself/);
    });
  });
}

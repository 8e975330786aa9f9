import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCandleRangeViaStream } from '../../src/adapters/event-store/candle-range-via-stream.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { candleEventId } from '../../src/domain/market/candle-events.js';
import type { CandleRangeRequest, EventStore } from '../../src/domain/ports/event-store.js';
import { findMissing, MissingDataError, readMarketData } from '../../src/replay/backtest/market-data.js';
import { importCandles } from '../../src/services/import-candles.js';
import { backends } from '../support/backends.js';
import { FIXTURES, fixtureSeries } from './support.js';

// PGlite always; PostgreSQL when DATABASE_URL is set (test/support/backends.ts says why not)
describe.each(backends.filter((b) => b.sql && b.skipReason === null))(
  'reading market streams into a CandleSeries ($name)',
  (backend) => {
    let store: EventStore;
    let close: () => Promise<void>;
    // an exchange of its own: the PostgreSQL database is shared with other test files
    const exchange = `bt${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    beforeAll(async () => {
      const opened = await backend.open(createCatalogue());
      store = opened.store;
      close = opened.close;
      await importCandles(store, [FIXTURES['BTC/USDT']!, FIXTURES['ETH/USDT']!], { exchange });
    });
    afterAll(() => close?.());

    const request = {
      exchange,
      timeframe: '1h' as const,
      symbols: ['ETH/USDT', 'BTC/USDT'],
      from: Date.parse('2017-09-01T00:00:00Z'),
      to: Date.parse('2017-10-01T00:00:00Z'),
    };

    it('gives the same candles through the bulk read (SQL) and through readStream', async () => {
      const sqlPath = await readMarketData(store, request, { via: 'bulk' });
      const port = await readMarketData(store, request, { via: 'port' });
      expect(sqlPath.via).toBe('bulk');
      expect(port.via).toBe('port');
      expect(sqlPath.coverage).toEqual(port.coverage);
      const files = await fixtureSeries(['ETH/USDT', 'BTC/USDT']);
      for (let s = 0; s < 2; s++) {
        const a = sqlPath.series.columns[s]!;
        const b = port.series.columns[s]!;
        for (const f of ['openTime', 'open', 'high', 'low', 'close', 'volume'] as const) {
          expect(Array.from(a[f])).toEqual(Array.from(b[f]));
          const expected = Array.from(files.columns[s]![f]).filter(
            (_, i) =>
              files.columns[s]!.openTime[i]! >= request.from && files.columns[s]!.openTime[i]! < request.to,
          );
          expect(Array.from(a[f])).toEqual(expected);
        }
        // the port keeps the stored ids; the SQL path leaves them to be derived, which is the same
        expect(a.ids).toBeUndefined();
        expect(b.ids![0]).toBe(
          candleEventId({ exchange, symbol: request.symbols[s]!, timeframe: '1h' }, b.openTime[0]!),
        );
      }
      expect(sqlPath.coverage[0]).toMatchObject({
        symbol: 'ETH/USDT',
        candles: 30 * 24 - 6,
        first: request.from,
        gaps: 1,
      });
    });

    it('gives the same through the generic bulk read on readStream (what EventStoreDB uses)', async () => {
      const viaStream: EventStore = Object.assign(Object.create(store), {
        readCandleRange: (r: CandleRangeRequest) => readCandleRangeViaStream(store, r),
      });
      // an outage (no candles 2017-09-06 17:00 to 22:00) that starts inside the range and ends after it
      const cut = { ...request, to: Date.parse('2017-09-06T18:00:00Z') };
      for (const r of [request, cut]) {
        const sqlPath = await readMarketData(store, r);
        const generic = await readMarketData(viaStream, r);
        expect(generic.via).toBe('bulk');
        expect(generic.coverage).toEqual(sqlPath.coverage);
        for (let s = 0; s < 2; s++)
          for (const f of ['openTime', 'open', 'high', 'low', 'close', 'volume'] as const)
            expect(Array.from(generic.series.columns[s]![f])).toEqual(
              Array.from(sqlPath.series.columns[s]![f]),
            );
      }
    });

    it('counts recorded outages in the range', async () => {
      const whole = {
        ...request,
        from: Date.parse('2017-08-01T00:00:00Z'),
        to: Date.parse('2018-01-01T00:00:00Z'),
      };
      const data = await readMarketData(store, whole);
      expect(data.coverage.map((c) => [c.candles, c.gaps, c.missingInGaps])).toEqual([
        [3000, 1, 6],
        [3000, 1, 6],
      ]);
    });

    it('finds what is missing: no stream, a stream that ends early, nothing in the range; later starts are fine', async () => {
      const now = Date.parse('2030-01-01T00:00:00Z');
      const wanted = {
        ...request,
        symbols: ['BTC/USDT', 'SOL/USDT'],
        from: Date.parse('2017-08-01T00:00:00Z'),
        to: Date.parse('2018-01-01T00:00:00Z'),
      };
      const data = await readMarketData(store, wanted);
      const missing = findMissing(wanted, data.coverage, now);
      expect(missing).toEqual([
        {
          symbol: 'BTC/USDT',
          from: Date.parse('2017-12-20T10:00:00Z'),
          to: wanted.to,
          reason: `market-${exchange}-BTC_USDT-1h ends at 2017-12-20T09:00:00Z`,
        },
        {
          symbol: 'SOL/USDT',
          from: wanted.from,
          to: wanted.to,
          reason: `no stream market-${exchange}-SOL_USDT-1h`,
        },
      ]);
      const error = new MissingDataError(wanted, missing);
      expect(error.message).toContain('missing candles for 2 symbol(s)');
      expect(error.hint).toContain(
        `tradekernel data download --exchange ${exchange} --symbols SOL/USDT --timeframe 1h`,
      );
      // BTC starts 2017-08-17 04:00, later than from: fine (listed later); `to` in the future only asks for what closed
      const early = { ...wanted, symbols: ['BTC/USDT'], to: Date.parse('2017-12-20T10:00:00Z') };
      expect(findMissing(early, (await readMarketData(store, early)).coverage, now)).toEqual([]);
      const future = { ...wanted, symbols: ['BTC/USDT'], to: Date.parse('2031-01-01T00:00:00Z') };
      const cover = (await readMarketData(store, future)).coverage;
      expect(findMissing(future, cover, Date.parse('2017-12-20T10:30:00Z'))).toEqual([]);
      expect(findMissing(future, cover, Date.parse('2017-12-20T11:30:00Z'))[0]).toMatchObject({
        from: Date.parse('2017-12-20T10:00:00Z'),
        to: Date.parse('2017-12-20T11:00:00Z'),
      });
      // a stream that starts after the range has nothing for it
      const before = {
        ...wanted,
        from: Date.parse('2017-01-01T00:00:00Z'),
        to: Date.parse('2017-08-01T00:00:00Z'),
        symbols: ['ETH/USDT'],
      };
      expect(findMissing(before, (await readMarketData(store, before)).coverage, now)[0]?.reason).toBe(
        `market-${exchange}-ETH_USDT-1h starts at 2017-08-17T04:00:00Z`,
      );
    });
  },
);

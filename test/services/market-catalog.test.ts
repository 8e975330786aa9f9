import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { importCandles } from '../../src/services/import-candles.js';
import { listGaps, listMarkets } from '../../src/services/market-catalog.js';
import { backends } from '../support/backends.js';
import { testCatalogue } from '../support/test-events.js';
import { FREQTRADE_OUTAGE, fixture, KLINES_OUTAGE, uniqueExchange } from './support.js';

for (const backend of backends.filter((b) => b.name !== 'esdb')) {
  describe.skipIf(backend.skipReason !== null)(`data list and gaps (${backend.name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;
    const exchange = uniqueExchange();

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
      const report = await importCandles(
        store,
        [FREQTRADE_OUTAGE, KLINES_OUTAGE, fixture('market/ohlcv/ETH_USDT-1h-dates.csv')],
        { exchange },
      );
      expect(report.error).toBeNull();
    });
    afterAll(async () => close?.());

    it('lists every market with its range, candles, gaps and missing candles', async () => {
      const markets = (await listMarkets(store)).filter((m) => m.exchange === exchange);
      expect(markets).toEqual([
        {
          exchange,
          symbol: 'BTC/USDT',
          timeframe: '1m',
          stream: `market-${exchange}-BTC_USDT-1m`,
          first: '2021-02-11T03:00:00.000Z',
          last: '2021-02-11T05:59:00.000Z',
          candles: 101,
          gaps: 1,
          missing: 79,
        },
        {
          exchange,
          symbol: 'BTC/USDT',
          timeframe: '1h',
          stream: `market-${exchange}-BTC_USDT-1h`,
          first: '2018-02-06T00:00:00.000Z',
          last: '2018-02-10T23:00:00.000Z',
          candles: 87,
          gaps: 1,
          missing: 33,
        },
        {
          exchange,
          symbol: 'ETH/USDT',
          timeframe: '1h',
          stream: `market-${exchange}-ETH_USDT-1h`,
          first: '2021-01-01T00:00:00.000Z',
          last: '2021-01-02T23:00:00.000Z',
          candles: 48,
          gaps: 0,
          missing: 0,
        },
      ]);
    });

    it('lists the gaps of a symbol, per timeframe, consistent with the list', async () => {
      const all = await listGaps(store, { exchange, symbol: 'BTC/USDT' });
      expect(all.map((m) => [m.timeframe, m.candles, m.gaps, m.missing, m.gapList])).toEqual([
        [
          '1m',
          101,
          1,
          79,
          [{ from: '2021-02-11T03:41:00.000Z', to: '2021-02-11T04:59:00.000Z', missing: 79 }],
        ],
        [
          '1h',
          87,
          1,
          33,
          [{ from: '2018-02-08T01:00:00.000Z', to: '2018-02-09T09:00:00.000Z', missing: 33 }],
        ],
      ]);
      const listed = (await listMarkets(store)).filter(
        (m) => m.exchange === exchange && m.symbol === 'BTC/USDT',
      );
      expect(all.map(({ gapList: _, ...summary }) => summary)).toEqual(listed);

      expect(
        (await listGaps(store, { exchange, symbol: 'BTC/USDT', timeframe: '1h' })).map((m) => m.timeframe),
      ).toEqual(['1h']);
      expect(await listGaps(store, { exchange, symbol: 'ETH/USDT', timeframe: '1h' })).toMatchObject([
        { candles: 48, gaps: 0, gapList: [] },
      ]);
      expect(await listGaps(store, { exchange, symbol: 'SOL/USDT' })).toEqual([]);
    });
  });
}

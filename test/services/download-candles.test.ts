import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openCcxtCandleSource } from '../../src/adapters/exchange/ccxt-candle-source.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { marketRulesStream, marketStream } from '../../src/domain/market/events.js';
import type { CandleSource } from '../../src/domain/ports/candle-source.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { downloadCandles } from '../../src/services/download-candles.js';
import { backends } from '../support/backends.js';
import { testCatalogue } from '../support/test-events.js';
import {
  type FakeBinance,
  klineRowsFromCsv,
  klineRowsFromFreqtrade,
  startFakeBinance,
} from './fake-binance.js';
import {
  describeStream,
  fixture,
  isTimeOrdered,
  KLINES_OUTAGE,
  readMarket,
  uniqueExchange,
} from './support.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MAY19 = Date.UTC(2021, 4, 19);
/** 1440 real 1m candles of 2021-05-19 (the crash day), 12 columns. */
const MAY19_ROWS = klineRowsFromCsv(fixture('candles/BTCUSDT-1m-2021-05-19.csv'));

/** The source under another exchange id, so that every test writes its own market streams. */
function recordedAs(source: CandleSource, exchange: string): CandleSource {
  return {
    exchange,
    location: source.location,
    maxPageSize: source.maxPageSize,
    fetchCandles: (...args) => source.fetchCandles(...args),
    ...(source.marketRules ? { marketRules: (symbol: string) => source.marketRules!(symbol) } : {}),
    close: () => source.close(),
  };
}

for (const backend of backends.filter((b) => b.name !== 'esdb')) {
  describe.skipIf(backend.skipReason !== null)(`data download through ccxt (${backend.name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;
    let server: FakeBinance | undefined;
    let exchange: string;
    let clock: number;
    const now = () => clock;
    const retries: { attempt: number; error: unknown }[] = [];

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => close?.());
    beforeEach(() => {
      exchange = uniqueExchange();
      retries.length = 0;
    });
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    async function source(url: string, options: { timeoutMs?: number; attempts?: number } = {}) {
      const ccxt = await openCcxtCandleSource({
        exchange: 'binance',
        apiUrl: url,
        timeoutMs: options.timeoutMs ?? 2000,
        retry: { attempts: options.attempts ?? 4, baseDelayMs: 5, maxDelayMs: 20 },
        onRetry: ({ attempt, error }) => void retries.push({ attempt, error }),
      });
      return recordedAs(ccxt, exchange);
    }

    it('pages through history, drops the open candle and stores like an import', async () => {
      clock = MAY19 + 12 * HOUR + 30 * MINUTE + 30_000; // 12:30:30, the 12:30 candle is forming
      server = await startFakeBinance({ BTCUSDT: { '1m': MAY19_ROWS } }, { now });
      const report = await downloadCandles(store, await source(server.url), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: MAY19,
        pageSize: 200,
        now,
      });
      expect(report.error).toBeNull();
      expect(report.markets[0]).toMatchObject({
        symbol: 'BTC/USDT',
        stream: marketStream(exchange, 'BTC/USDT', '1m'),
        status: 'downloaded',
        from: '2021-05-19T00:00:00.000Z',
        resumed: false,
        requests: 4,
        fetched: 750,
        new: 750,
        present: 0,
        droppedOpen: 1,
        gaps: [],
        first: '2021-05-19T00:00:00.000Z',
        last: '2021-05-19T12:29:00.000Z',
      });
      // ccxt asked for exchangeInfo once, then pages of 200 from the next open time on.
      expect(server.requests[0]!.path).toBe('/api/v3/exchangeInfo');
      expect(server.klineRequests().map((q) => [q.get('symbol'), q.get('interval'), q.get('limit')])).toEqual(
        Array(4).fill(['BTCUSDT', '1m', '200']),
      );
      expect(server.klineRequests().map((q) => Number(q.get('startTime')))).toEqual(
        [0, 200, 400, 600].map((i) => MAY19 + i * MINUTE),
      );

      const events = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1m'));
      expect(events).toHaveLength(750);
      expect(events[0]!.id).toBe(deterministicId(MAY19, exchange, 'BTC/USDT', '1m', MAY19));
      expect(events[0]!.data).toEqual({
        exchange,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        openTime: MAY19,
        closeTime: MAY19 + MINUTE,
        open: 42849.78,
        high: 43115.45,
        low: 42847.78,
        close: 42915.91,
        volume: 119.070806,
      });
      expect(events.at(-1)!.metadata.occurredAt).toBe(MAY19 + 12 * HOUR + 30 * MINUTE);
    });

    it('records the market rules once per change, from the exchange info', async () => {
      clock = MAY19 + HOUR;
      server = await startFakeBinance({ BTCUSDT: { '1m': MAY19_ROWS } }, { now });
      // Binance's BTCUSDT minimum order value was 10 USDT before it became 5 (the fixture's).
      server.setFilter('BTCUSDT', 'NOTIONAL', { minNotional: '10.00000000' });
      const download = async () =>
        downloadCandles(store, await source(server!.url), {
          symbols: ['BTC/USDT'],
          timeframe: '1m',
          since: MAY19,
          now,
        });

      const first = await download();
      const btcRules = { amountStep: 0.00001, priceStep: 0.01, minAmount: 0.00001, minNotional: 10 };
      expect(first.markets[0]!.rules).toEqual({ ...btcRules, recorded: true });
      expect(first.totals.rulesRecorded).toBe(1);
      const stream = marketRulesStream(exchange, 'BTC/USDT');
      let events = await readMarket(store, stream);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'MarketRulesObserved',
        id: deterministicId(clock, 'MarketRulesObserved', exchange, 'BTC/USDT', 0),
        data: { exchange, symbol: 'BTC/USDT', ...btcRules },
        metadata: { occurredAt: clock, correlationId: first.correlationId },
      });

      // Observed again, unchanged: nothing appended, whether candles came or not.
      clock += 30 * MINUTE;
      const again = await download();
      expect(again.markets[0]).toMatchObject({ new: 30, rules: { ...btcRules, recorded: false } });
      expect(await readMarket(store, stream)).toHaveLength(1);

      // The exchange lowers the minimum to 5 USDT (and a fresh client sees it): one new event.
      server.setFilter('BTCUSDT', 'NOTIONAL', { minNotional: '5.00000000' });
      clock += 30 * MINUTE;
      const changed = await download();
      expect(changed.markets[0]!.rules).toEqual({ ...btcRules, minNotional: 5, recorded: true });
      events = await readMarket(store, stream);
      expect(
        events.map((e) => [(e.data as { minNotional: number }).minNotional, e.metadata.occurredAt]),
      ).toEqual([
        [10, MAY19 + HOUR],
        [5, MAY19 + 2 * HOUR],
      ]);
      expect((await download()).markets[0]!.rules!.recorded).toBe(false);
      expect(await readMarket(store, stream)).toHaveLength(2);
      // The candle stream holds candles only: rules are not ordered by market time.
      const candles = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1m'));
      expect(new Set(candles.map((e) => e.type))).toEqual(new Set(['CandleClosed']));
    });

    it("keeps to the exchange's rate limit", async () => {
      clock = MAY19 + HOUR;
      server = await startFakeBinance({ BTCUSDT: { '1m': MAY19_ROWS } }, { now });
      const ccxt = await source(server.url);
      for (let i = 0; i < 4; i++) await ccxt.fetchCandles('BTC/USDT', '1m', MAY19 + i * 10 * MINUTE, 10);
      // ccxt's leaky bucket for Binance: 50 ms per unit of cost; exchangeInfo costs 4 (weight 20),
      // a spot klines request 0.4. Unthrottled, these local requests would be 1-3 ms apart.
      const [info, ...klines] = server.requests.map((r) => r.at);
      expect(klines).toHaveLength(4);
      // The server stamps arrivals, and a busy event loop can stamp one late and shrink the gap
      // to the next: check the whole span, which only the first stamp's delay can shorten.
      expect(klines[0]! - info!).toBeGreaterThanOrEqual(100);
      expect(klines.at(-1)! - info!).toBeGreaterThanOrEqual(150 + 3 * 15);
    });

    it('resumes after the last stored candle', async () => {
      clock = MAY19 + 6 * HOUR;
      server = await startFakeBinance({ BTCUSDT: { '1m': MAY19_ROWS } }, { now });
      const first = await downloadCandles(store, await source(server.url), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: MAY19,
        now,
      });
      expect(first.markets[0]).toMatchObject({ new: 360, requests: 1, droppedOpen: 1 });

      clock = MAY19 + 12 * HOUR;
      server.requests.length = 0;
      const second = await downloadCandles(store, await source(server.url), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: MAY19,
        now,
      });
      expect(second.markets[0]).toMatchObject({
        from: '2021-05-19T06:00:00.000Z',
        resumed: true,
        new: 360,
        present: 0,
        first: '2021-05-19T06:00:00.000Z',
        last: '2021-05-19T11:59:00.000Z',
      });
      expect(Number(server.klineRequests()[0]!.get('startTime'))).toBe(MAY19 + 6 * HOUR);

      // Nothing closed since: nothing to ask for.
      server.requests.length = 0;
      const third = await downloadCandles(store, await source(server.url), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        now,
      });
      expect(third.markets[0]).toMatchObject({ requests: 0, new: 0 });
      expect(server.klineRequests()).toEqual([]);
      const events = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1m'));
      expect(events.map((e) => (e.data as { openTime: number }).openTime)).toEqual(
        Array.from({ length: 720 }, (_, i) => MAY19 + i * MINUTE),
      );
    });

    it('retries a 503 and a timed-out request with back-off', async () => {
      clock = MAY19 + 2 * HOUR;
      server = await startFakeBinance({ BTCUSDT: { '1m': MAY19_ROWS } }, { now });
      server.failNext(503, 'hang');
      const report = await downloadCandles(store, await source(server.url, { timeoutMs: 500 }), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: MAY19,
        now,
      });
      expect(report.error).toBeNull();
      expect(report.markets[0]).toMatchObject({ new: 120, requests: 1 });
      expect(retries.map((r) => [r.attempt, (r.error as Error).constructor.name])).toEqual([
        [1, 'ExchangeNotAvailable'],
        [2, 'RequestTimeout'],
      ]);
      expect(server.klineRequests()).toHaveLength(3);
    });

    it('reports an unreachable exchange clearly and stores nothing', async () => {
      const closed = await startFakeBinance({}, { now });
      const url = closed.url;
      await closed.close();
      clock = MAY19 + HOUR;
      const report = await downloadCandles(store, await source(url, { attempts: 3 }), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: MAY19,
        now,
      });
      expect(report.error).toMatchObject({ code: 'unavailable', symbol: 'BTC/USDT' });
      expect(report.error!.message).toMatch(
        new RegExp(
          `^binance is unreachable at ${url}: BTC/USDT 1m candles failed 3 times; last error: .*ECONNREFUSED`,
        ),
      );
      expect(report.error!.hint).toContain('resumes after the last stored candle');
      expect(report.markets[0]!.status).toBe('failed');
      expect(retries).toHaveLength(2);
      expect(await store.streamRevision(marketStream(exchange, 'BTC/USDT', '1m'))).toBe(-1);
    });

    it('records an outage between pages as a gap', async () => {
      const rows = klineRowsFromCsv(KLINES_OUTAGE);
      const from = rows[0]![0];
      clock = from + 3 * HOUR;
      server = await startFakeBinance({ BTCUSDT: { '1m': rows } }, { now });
      const report = await downloadCandles(store, await source(server.url), {
        symbols: ['BTC/USDT'],
        timeframe: '1m',
        since: from,
        pageSize: 30,
        now,
      });
      expect(report.markets[0]).toMatchObject({
        new: 101,
        gaps: [{ from: '2021-02-11T03:41:00.000Z', to: '2021-02-11T04:59:00.000Z', missing: 79 }],
      });
      const events = await readMarket(store, marketStream(exchange, 'BTC/USDT', '1m'));
      expect(isTimeOrdered(events)).toBe(true);
      expect(describeStream(events).filter(([kind]) => kind === 'gap')).toEqual([
        ['gap', Date.UTC(2021, 1, 11, 3, 41), Date.UTC(2021, 1, 11, 4, 59), 79],
      ]);
    });

    it('downloads several symbols up to --until, and refuses a symbol the exchange does not list', async () => {
      const start = Date.UTC(2017, 7, 17, 4);
      clock = Date.UTC(2022, 0, 1);
      server = await startFakeBinance(
        {
          BTCUSDT: { '1h': klineRowsFromFreqtrade(fixture('candles/BTC_USDT-1h-first3000.json')) },
          ETHUSDT: { '1h': klineRowsFromFreqtrade(fixture('candles/ETH_USDT-1h-first3000.json')) },
        },
        { now },
      );
      const ccxt = await source(server.url);
      const report = await downloadCandles(store, ccxt, {
        symbols: ['BTC/USDT', 'ETH/USDT'],
        timeframe: '1h',
        since: start,
        until: start + 1500 * HOUR,
        now,
      });
      expect(report.error).toBeNull();
      for (const market of report.markets) {
        expect(market).toMatchObject({
          status: 'downloaded',
          first: '2017-08-17T04:00:00.000Z',
          requests: 2,
        });
        expect(market.new + market.gaps.reduce((sum, gap) => sum + gap.missing, 0)).toBe(1500);
      }
      expect(await store.streamRevision(marketStream(exchange, 'ETH/USDT', '1h'))).toBeGreaterThan(1400);

      const unknown = await downloadCandles(store, ccxt, {
        symbols: ['DOGE/USDT'],
        timeframe: '1h',
        since: start,
        now,
      });
      expect(unknown.error).toMatchObject({
        code: 'config',
        message: 'DOGE/USDT is not a market on binance',
      });
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem.js';
import { buildApi } from '../../src/api/server.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { backends } from '../support/backends.js';
import {
  type ApiFixture,
  appendMarket,
  BTC_1H,
  candleEvents,
  ETH_1H,
  gapEvent,
  openApi,
  uniqueExchange,
} from './support.js';

const HOUR = 3_600_000;

for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`read endpoints on ${backend.name}`, () => {
    let f: ApiFixture;
    const exchange = uniqueExchange();
    const btc = { exchange, symbol: 'BTC/USDT', timeframe: '1h' } as const;
    const eth = { exchange, symbol: 'ETH/USDT', timeframe: '1h' } as const;
    let btcEvents: NewEvent[];
    const candlesUrl = (extra = '') =>
      `/v1/candles?exchange=${exchange}&symbol=BTC%2FUSDT&timeframe=1h${extra}`;

    beforeAll(async () => {
      f = await openApi(backend);
      btcEvents = await candleEvents(BTC_1H, btc);
      await appendMarket(f.store, btcEvents);
      const ethEvents = await candleEvents(ETH_1H, eth, 100);
      await appendMarket(f.store, ethEvents);
      // two recorded outages of ETH after its 100 candles
      const lastEth = (ethEvents.at(-1)!.data as { openTime: number }).openTime;
      await appendMarket(f.store, [gapEvent(eth, lastEth + HOUR, 3), gapEvent(eth, lastEth + 10 * HOUR, 2)]);
      await f.runner.catchUp();
    });
    afterAll(async () => f?.close());

    it('pages through every candle of a market with next links, in order, without loss', async () => {
      const seen: number[] = [];
      let url: string | null = candlesUrl('&limit=700');
      let pages = 0;
      while (url) {
        const res = await f.app.inject(url);
        expect(res.statusCode).toBe(200);
        const body: { data: { openTime: number }[]; page: { next: string | null } } = res.json();
        seen.push(...body.data.map((c: { openTime: number }) => c.openTime));
        if (body.page.next) expect(res.headers.link).toBe(`<${body.page.next}>; rel="next"`);
        url = body.page.next;
        pages++;
      }
      expect(pages).toBe(5);
      const expected = btcEvents.map((e) => (e.data as { openTime: number }).openTime);
      expect(seen).toEqual(expected);
    });

    it('answers real candle values, and from (inclusive) / to (exclusive) in ms, dates or date-times', async () => {
      const first = btcEvents[0]!.data as { openTime: number; [k: string]: number };
      const res = await f.app.inject(candlesUrl('&limit=1'));
      expect(res.json().data[0]).toEqual({
        openTime: first.openTime,
        closeTime: first.openTime + HOUR,
        open: first.open,
        high: first.high,
        low: first.low,
        close: first.close,
        volume: first.volume,
      });
      // 2017-08-18: the fixture starts 2017-08-17 04:00 UTC
      const day = await f.app.inject(candlesUrl('&from=2017-08-18&to=2017-08-19T00:00:00Z'));
      const times = day.json().data.map((c: { openTime: number }) => c.openTime);
      expect(times[0]).toBe(Date.UTC(2017, 7, 18));
      expect(times.at(-1)).toBe(Date.UTC(2017, 7, 18, 23));
      const ms = await f.app.inject(candlesUrl(`&from=${Date.UTC(2017, 7, 18)}&to=${Date.UTC(2017, 7, 19)}`));
      expect(ms.json().data).toEqual(day.json().data);
      const offset = await f.app.inject(candlesUrl('&from=2017-08-18T02:00:00%2B02:00&limit=1'));
      expect(offset.json().data[0].openTime).toBe(Date.UTC(2017, 7, 18));
    });

    it('refuses bad input with a 400 problem naming the field', async () => {
      const cases: [string, string][] = [
        [`/v1/candles?exchange=${exchange}&symbol=BTC%2FUSDT`, 'timeframe'],
        [candlesUrl('&timeframe=7m').replace('timeframe=1h&', ''), 'timeframe'],
        [candlesUrl('&limit=0'), 'limit'],
        [candlesUrl('&limit=5001'), 'limit'],
        [candlesUrl('&limit=ten'), 'limit'],
        [candlesUrl('&from=yesterday'), 'from'],
        [candlesUrl('&from=2021-02-30'), 'from'],
        [candlesUrl('&from=2021-01-02&to=2021-01-01'), 'to'],
        [candlesUrl('&colour=red'), 'colour'],
        [candlesUrl('&cursor=not-a-cursor'), 'cursor'],
        ['/v1/events?after=-1', 'after'],
        ['/v1/events?type=candleClosed', 'type.0'],
        ['/v1/events?order=sideways', 'order'],
        ['/v1/markets?symbol=btcusdt', 'symbol'],
      ];
      for (const [url, field] of cases) {
        const res = await f.app.inject(url);
        expect(res.statusCode, url).toBe(400);
        expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        const problem = res.json();
        expect(problem).toMatchObject({
          type: 'tag:tradekernel,2025:problems/invalid-request',
          title: 'Invalid request',
          status: 400,
          instance: url.split('?')[0],
        });
        expect(problem.detail, url).toContain(field);
        expect(problem.errors[0].field, url).toBe(field);
      }
    });

    it('a cursor only works for the query that made it', async () => {
      const page = (await f.app.inject(candlesUrl('&limit=2'))).json().page;
      const other = await f.app.inject(
        `/v1/candles?exchange=${exchange}&symbol=ETH%2FUSDT&timeframe=1h&cursor=${page.cursor}`,
      );
      expect(other.statusCode).toBe(400);
      expect(other.json().detail).toMatch(/cursor: it belongs to a query with other filters/);
      // changing only the page size keeps the cursor valid
      const bigger = await f.app.inject(candlesUrl(`&limit=3&cursor=${page.cursor}`));
      expect(bigger.json().data[0].openTime).toBe((btcEvents[2]!.data as { openTime: number }).openTime);
    });

    it('a market without candles is a 404 problem pointing at /v1/markets', async () => {
      const res = await f.app.inject(`/v1/candles?exchange=${exchange}&symbol=BTC%2FUSDT&timeframe=4h`);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
      expect(res.json().detail).toContain('/v1/markets');
      // a range with no candles in a market that has some is an empty page, not a 404
      const empty = await f.app.inject(candlesUrl('&from=2030-01-01'));
      expect(empty.statusCode).toBe(200);
      expect(empty.json()).toEqual({ data: [], page: { limit: 500, cursor: null, next: null } });
    });

    it('lists markets with first, last, count and gaps, paginated', async () => {
      const res = await f.app.inject(`/v1/markets?exchange=${exchange}`);
      expect(res.statusCode).toBe(200);
      const [b, e] = res.json().data;
      expect(b).toEqual({
        ...btc,
        first: (btcEvents[0]!.data as { openTime: number }).openTime,
        last: (btcEvents.at(-1)!.data as { openTime: number }).openTime,
        count: 3000,
        gaps: 0,
        missing: 0,
        candles: `/v1/candles?exchange=${exchange}&symbol=BTC%2FUSDT&timeframe=1h`,
      });
      expect(e).toMatchObject({ ...eth, count: 100, gaps: 2, missing: 5 });
      const first = (await f.app.inject(`/v1/markets?exchange=${exchange}&limit=1`)).json();
      expect(first.data).toEqual([b]);
      const second = (await f.app.inject(first.page.next)).json();
      expect(second.data).toEqual([e]);
      expect(second.page.next).toBeNull();
    });

    it('reads the event log by type and stream prefix, forwards and backwards, by position', async () => {
      const prefix = `market-${exchange}-ETH`;
      const all = (await f.app.inject(`/v1/events?streamPrefix=${prefix}&limit=1000`)).json().data;
      expect(all).toHaveLength(102);
      const positions = all.map((e: { position: number }) => e.position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(all[0]).toMatchObject({
        stream: `market-${exchange}-ETH_USDT-1h`,
        revision: 0,
        type: 'CandleClosed',
        data: { exchange, symbol: 'ETH/USDT' },
        metadata: { schemaVersion: 1 },
      });
      const gaps = (await f.app.inject(`/v1/events?streamPrefix=${prefix}&type=CandleGapDetected`)).json();
      expect(gaps.data.map((e: { type: string }) => e.type)).toEqual([
        'CandleGapDetected',
        'CandleGapDetected',
      ]);
      const both = (
        await f.app.inject(`/v1/events?streamPrefix=${prefix}&type=CandleGapDetected,CandleClosed&limit=1000`)
      ).json();
      expect(both.data).toHaveLength(102);

      // pages of 40 by position, following next
      const paged: number[] = [];
      let url: string | null = `/v1/events?streamPrefix=${prefix}&limit=40`;
      while (url) {
        const body: { data: { position: number }[]; page: { next: string | null } } = (
          await f.app.inject(url)
        ).json();
        paged.push(...body.data.map((e: { position: number }) => e.position));
        url = body.page.next;
      }
      expect(paged).toEqual(positions);

      const after = (await f.app.inject(`/v1/events?streamPrefix=${prefix}&after=${positions[99]}`)).json();
      expect(after.data.map((e: { position: number }) => e.position)).toEqual(positions.slice(100));
      const newest = (await f.app.inject(`/v1/events?streamPrefix=${prefix}&order=desc&limit=3`)).json();
      expect(newest.data.map((e: { position: number }) => e.position)).toEqual(positions.slice(-3).reverse());
      const older = (await f.app.inject(newest.page.next)).json();
      expect(older.data.map((e: { position: number }) => e.position)).toEqual(
        positions.slice(-6, -3).reverse(),
      );
      const between = (
        await f.app.inject(`/v1/events?streamPrefix=${prefix}&after=${positions[9]}&before=${positions[13]}`)
      ).json();
      expect(between.data.map((e: { position: number }) => e.position)).toEqual(positions.slice(10, 13));
    });

    it('reports projections with their lag, and readiness follows the lag threshold', async () => {
      const res = await f.app.inject('/v1/projections');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.head).toBeGreaterThan(0);
      expect(body.worker).toBeNull();
      expect(body.data).toContainEqual(
        expect.objectContaining({ name: 'candles', lag: 0, lagCapped: false, version: 1 }),
      );
      expect((await f.app.inject('/health/live')).json()).toMatchObject({ status: 'ok' });
      const ready = await f.app.inject('/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().status).toBe('ready');

      // 5 new candles not yet projected: ready with max lag 10, not ready with max lag 2
      const more = await candleEvents(BTC_1H, { ...btc, exchange: `${exchange}b` }, 5);
      await appendMarket(f.store, more);
      // other APIs over the same log and read models, with no worker: nothing projects them
      const lagging = await strictApi(f, 2);
      const lenient = await strictApi(f, 10);
      try {
        const r = await lagging.inject('/health/ready');
        expect(r.statusCode).toBe(503);
        expect(r.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        expect(r.json()).toMatchObject({ status: 503, title: 'Not ready', code: 'not-ready' });
        expect(r.json().detail).toContain('projection candles lags more than 2 events');
        expect(r.json().checks.projections).toContainEqual({ name: 'candles', lag: 3, ok: false });
        expect((await lenient.inject('/health/ready')).statusCode).toBe(200);
      } finally {
        await lagging.close();
        await lenient.close();
      }
      await f.runner.catchUp();
    });

    it('serves the OpenAPI document and an offline docs page', async () => {
      const doc = (await f.app.inject('/openapi.json')).json();
      expect(doc.openapi).toBe('3.1.0');
      for (const path of [
        '/v1/candles',
        '/v1/markets',
        '/v1/events',
        '/v1/projections',
        '/health/live',
        '/health/ready',
        '/metrics',
        '/v1/accounts/{account}/pause',
        '/v1/accounts/{account}/resume',
        '/v1/accounts/{account}/kill-switch',
        '/v1/accounts/{account}/liquidate',
      ]) {
        expect(doc.paths[path], path).toBeDefined();
      }
      expect(doc.components.schemas.Problem.required).toEqual([
        'type',
        'title',
        'status',
        'detail',
        'instance',
      ]);
      expect(doc.paths['/v1/candles'].get.responses['400'].content[PROBLEM_CONTENT_TYPE].schema.$ref).toBe(
        '#/components/schemas/Problem',
      );
      expect(doc.paths['/v1/accounts/{account}/pause'].post.security).toEqual([{ bearer: [] }]);

      const page = await f.app.inject('/docs');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(3);
      for (const asset of assets) {
        expect(asset, 'served from this server, not a CDN').toMatch(/^\/docs\//);
        expect((await f.app.inject(asset)).statusCode, asset).toBe(200);
      }
      const csp = String(page.headers['content-security-policy']);
      expect(csp).not.toMatch(/https:|upgrade-insecure-requests/);
      expect((await f.app.inject('/docs/json')).json().paths['/v1/candles']).toBeDefined();
    });

    it('unknown routes and methods are 404 problems', async () => {
      for (const [method, url] of [
        ['GET', '/v1/nothing'],
        ['DELETE', '/v1/candles'],
        ['GET', '/v1/accounts/main/pause'],
      ] as const) {
        const res = await f.app.inject({ method, url });
        expect(res.statusCode).toBe(404);
        expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        expect(res.json()).toMatchObject({ status: 404, title: 'Not found', instance: url });
      }
    });
  });
}

/** Another API over the same store and database, with its own readiness threshold. */
function strictApi(f: ApiFixture, maxLag: number) {
  return buildApi({
    store: f.store,
    database: f.database,
    catalogue: createCatalogue(),
    projections: f.runner,
    maxLag,
  });
}

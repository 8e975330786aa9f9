/**
 * API load test on loopback: autocannon against /v1/candles and /health/ready of `buildApi` over
 * an on-disk PGlite store filled with 3000 real BTC/USDT 1h candles (projected), one endpoint
 * after another. The load generator runs in a worker thread, so it does not share the server's
 * event loop. Prints one JSON line per endpoint: p50/p99 latency (ms) and requests per second.
 * Usage: node --import tsx bench/api.bench.ts [--duration 10] [--connections 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { PostgresEventStore } from '../src/adapters/event-store/postgres-event-store.js';
import { readMarketFile } from '../src/adapters/market-files/index.js';
import { TradekernelMetrics } from '../src/adapters/metrics/metrics.js';
import { openPglite } from '../src/adapters/sql/database.js';
import { buildApi } from '../src/api/server.js';
import { createCatalogue } from '../src/domain/catalogue.js';
import { newEvent } from '../src/domain/events/catalogue.js';
import { deterministicId } from '../src/domain/events/ids.js';
import { CandleClosed, marketStream } from '../src/domain/market/events.js';
import { allProjectors, ProjectionRunner } from '../src/projections/index.js';
import { machine, report } from './support.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
  // `npm run bench -- <word> <options>` hands every benchmark the same options: ignore others'
  strict: false,
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const FIXTURE = new URL('../test/fixtures/candles/BTC_USDT-1h-first3000.json', import.meta.url).pathname;
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'tk-bench-api-'));
const database = await openPglite(dir);
try {
  const catalogue = createCatalogue();
  const store = await PostgresEventStore.open(database, catalogue);
  const { candles } = await readMarketFile(FIXTURE);
  const market = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
  const events = candles.map((c) =>
    newEvent(
      CandleClosed,
      deterministicId(c.openTime, 'bench-api', c.openTime),
      {
        ...market,
        openTime: c.openTime,
        closeTime: c.openTime + HOUR,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
      },
      { occurredAt: c.openTime + HOUR },
    ),
  );
  await store.append(marketStream(market.exchange, market.symbol, market.timeframe), events);
  const projections = new ProjectionRunner(database, store, allProjectors());
  await projections.prepare();
  await projections.catchUp();

  const app = await buildApi({
    store,
    database,
    catalogue,
    projections,
    metrics: new TradekernelMetrics(),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const endpoints = [
    // the default page: 500 candles (about 60 kB of JSON)
    { name: 'candles-500', path: '/v1/candles?exchange=binance&symbol=BTC%2FUSDT&timeframe=1h' },
    // a day of candles in the middle of the series
    {
      name: 'candles-day',
      path: '/v1/candles?exchange=binance&symbol=BTC%2FUSDT&timeframe=1h&from=2017-10-01&to=2017-10-02',
    },
    // store head + projection checkpoint and lag: three queries
    { name: 'health-ready', path: '/health/ready' },
  ];
  for (const endpoint of endpoints) {
    const url = `${base}${endpoint.path}`;
    const check = await fetch(url);
    if (check.status !== 200)
      throw new Error(`${endpoint.path} answered ${check.status}: ${await check.text()}`);
    const bytes = (await check.arrayBuffer()).byteLength;
    await autocannon({ url, connections, duration: 2, workers: 1 }); // warm-up
    const result = await autocannon({ url, connections, duration, workers: 1 });
    report('api', {
      endpoint: endpoint.name,
      path: endpoint.path,
      store: 'pglite',
      candles: events.length,
      connections,
      durationS: duration,
      responseBytes: bytes,
      requests: result.requests.total,
      reqPerSec: Math.round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      errors: result.errors,
      non2xx: result.non2xx,
      machine: machine(),
    });
  }
  await app.close();
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}

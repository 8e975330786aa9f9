/**
 * Import benchmark: all of 2021 BTC/USDT 1m (365 Binance daily kline files, ~525k candles)
 * through the `data import` use case (read, validate, build events, append) into a fresh store:
 * PGlite in a new temporary directory, PostgreSQL in a scratch database on 127.0.0.1 that is
 * dropped afterwards. Prints one JSON line per store: candles per second and peak RSS of the
 * import, then the seconds of a second import of the same files (all already present), of
 * `data list` over the result, and of `data resample` of the year to 1h, 4h and 1d.
 *
 *   node --import tsx bench/import.bench.ts [--store pglite|postgres]... [--batch 65536] [--files 365]
 *
 * `--prepare-only` measures instead the file worker's part alone (read, parse, validate, derive
 * the ids: prepareCandleFile), in this thread, no store: µs per candle, best of 3 passes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresEventStore } from '../src/adapters/event-store/postgres-event-store.js';
import { openPglite, openPostgres, type SqlDatabase } from '../src/adapters/sql/database.js';
import { createCatalogue } from '../src/domain/catalogue.js';
import { prepareCandleFile } from '../src/services/candle-file-preparer.js';
import { importCandles } from '../src/services/import-candles.js';
import { listMarkets } from '../src/services/market-catalog.js';
import { resampleMarket } from '../src/services/resample-market.js';
import {
  ADMIN_URL,
  klineFiles,
  machine,
  report,
  scratchDatabase,
  serverCpu,
  serverCpuDelta,
} from './support.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', multiple: true },
    batch: { type: 'string', default: '65536' },
    files: { type: 'string' },
    events: { type: 'string' },
    'prepare-only': { type: 'boolean' },
  },
  strict: false,
});
const stores = (values.store as string[] | undefined) ?? ['pglite', 'postgres'];
const batchSize = Number(values.batch);
const all = klineFiles('BTCUSDT-1m-2021-');
const files = values.files ? all.slice(0, Number(values.files)) : all;

if (values['prepare-only']) {
  const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' as const };
  let best = Number.POSITIVE_INFINITY;
  let candles = 0;
  for (let pass = 0; pass < 3; pass++) {
    candles = 0;
    const started = performance.now();
    for (const path of files) {
      const prepared = await prepareCandleFile({ path, key, skipInvalid: false });
      if (!prepared.ok) throw new Error(prepared.failure.message);
      candles += prepared.file.count;
    }
    best = Math.min(best, performance.now() - started);
  }
  report('import-prepare', {
    files: files.length,
    candles,
    usPerCandle: Number(((best * 1000) / candles).toFixed(2)),
    ...machine(),
  });
  process.exit(0);
}

for (const store of stores) {
  if (store !== 'pglite' && store !== 'postgres') throw new Error(`--store ${store}: use pglite or postgres`);
  let database: SqlDatabase;
  let cleanup: () => Promise<void>;
  // CPU seconds of the server processes serving the scratch database (PostgreSQL only).
  let serverSeconds: () => Promise<Map<number, number>> = async () => new Map();
  if (store === 'postgres') {
    const scratch = await scratchDatabase('import');
    if (!scratch) {
      process.stderr.write('import bench: no PostgreSQL on 127.0.0.1:5432, skipped\n');
      continue;
    }
    database = await openPostgres(scratch.url);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    serverSeconds = () => serverCpu(admin, scratch.name);
    cleanup = async () => {
      await admin.end();
      await scratch.drop();
    };
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'tk-bench-import-'));
    database = await openPglite(dataDir);
    cleanup = async () => rmSync(dataDir, { recursive: true, force: true });
  }
  // Interrupted (Ctrl-C): still drop the scratch database or directory.
  const interrupted = async () => {
    await database.close().catch(() => {});
    await cleanup().catch(() => {});
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const eventStore = await PostgresEventStore.open(database, createCatalogue());
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const serverBefore = await serverSeconds();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await importCandles(eventStore, files, { batchSize });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serverUsed = serverCpuDelta(serverBefore, await serverSeconds());
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (result.error) throw new Error(result.error.message);
    // The same files again: every candle compared with the stored one, nothing written.
    const again = await timedSeconds(() => importCandles(eventStore, files, { batchSize }));
    if (again.value.totals.present !== result.totals.new)
      throw new Error('re-import did not find every candle');
    const list = await timedSeconds(() => listMarkets(eventStore));
    const resample = await timedSeconds(() =>
      resampleMarket(eventStore, {
        exchange: 'binance',
        symbol: 'BTC/USDT',
        from: '1m',
        to: ['1h', '4h', '1d'],
      }),
    );
    if (resample.value.error) throw new Error(resample.value.error.message);
    report('import', {
      store,
      files: result.totals.files,
      candles: result.totals.new,
      gaps: result.totals.gaps,
      batch: batchSize,
      seconds: Number(seconds.toFixed(2)),
      candlesPerSecond: Math.round(result.totals.new / seconds),
      peakRssMiB: Math.round(peak / 2 ** 20),
      // CPU per candle moves far less with machine load than wall-clock rates: the client's
      // (main thread + file worker, user + system) and the server's.
      clientCpuUsPerCandle: Number(((cpu.user + cpu.system) / result.totals.new).toFixed(2)),
      serverCpuUsPerCandle:
        store === 'postgres' ? Number(((serverUsed * 1e6) / result.totals.new).toFixed(2)) : null,
      reimportSeconds: again.seconds,
      listSeconds: list.seconds,
      resampleSeconds: resample.seconds,
      resampledCandles: resample.value.totals.new,
      rssBeforeMiB: Math.round(before / 2 ** 20),
      ...machine(),
    });
    await eventStore.close();
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await database.close();
    await cleanup();
  }
}

async function timedSeconds<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: Number(((performance.now() - started) / 1000).toFixed(2)), value };
}

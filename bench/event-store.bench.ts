/**
 * Event-store benchmark: append with batches of 1, 100 and 1000 candle-sized events (1000: with
 * 1, 2 and 4 concurrent writers, each to its own stream), readAll of everything, and a catch-up
 * subscription, on PGlite (on disk) and PostgreSQL (a scratch database on 127.0.0.1). Prints one
 * JSON line per measurement: the median of `runs` runs, with the client's CPU per event (this
 * process) and, on PostgreSQL, the server's (its backends, from /proc).
 * Usage: node --import tsx bench/event-store.bench.ts [--store pglite|postgres] [--events N] [--runs N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresEventStore } from '../src/adapters/event-store/postgres-event-store.js';
import { openPglite, openPostgres, type SqlDatabase } from '../src/adapters/sql/database.js';
import { createCatalogue } from '../src/domain/catalogue.js';
import type { Candle } from '../src/domain/market/candle.js';
import { NaiveEventTable } from './naive-event-table.js';
import {
  ADMIN_URL,
  candleEvents,
  machine,
  median,
  realCandles,
  report,
  scratchDatabase,
  serverCpu,
  serverCpuDelta,
  timed,
} from './support.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', multiple: true },
    events: { type: 'string', default: '300000' },
    runs: { type: 'string', default: '3' },
  },
});
const stores = values.store ?? ['pglite', 'postgres'];
const total = Number(values.events);
const runs = Number(values.runs);

interface Meter {
  /** CPU seconds the server has used for this store so far (null: not measurable, e.g. PGlite) */
  server(): Promise<Map<number, number> | null>;
}

/** Runs `work` over `events` events: events per second, and the client's and server's CPU per event. */
async function measure(meter: Meter, events: number, work: () => Promise<unknown>) {
  const serverBefore = await meter.server();
  const clientBefore = process.cpuUsage();
  const { ms } = await timed(work);
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await meter.server();
  const perEvent = (seconds: number) => Math.round((seconds * 1e7) / events) / 10;
  return {
    eventsPerSecond: Math.round((events / ms) * 1000),
    clientCpuUsPerEvent: perEvent((client.user + client.system) / 1e6),
    serverCpuUsPerEvent:
      serverBefore && serverAfter ? perEvent(serverCpuDelta(serverBefore, serverAfter)) : null,
  };
}

/** The median run by events per second. */
function medianRun<T extends { eventsPerSecond: number }>(runs: T[]): T & { runs: number[] } {
  const mid = median(runs.map((r) => r.eventsPerSecond));
  const closest = [...runs].sort(
    (a, b) => Math.abs(a.eventsPerSecond - mid) - Math.abs(b.eventsPerSecond - mid),
  )[0]!;
  return { ...closest, eventsPerSecond: Math.round(mid), runs: runs.map((r) => r.eventsPerSecond) };
}

/**
 * Issue 2's PostgreSQL targets, read both ways: as written (250k appends/s in batches of 1000,
 * 1M `readAll`/s) and against the yardstick the issue gives beside them, measured in this run
 * ("a naive unnest insert and paged read already reach about 100k and 600k here": 2.5x and
 * 1.67x the yardstick), which holds on a machine faster or slower than the issue's.
 */
function reportTargets(oneWriter: number, readAll: number, naive: { append: number; read: number }) {
  const ratio = (x: number) => Math.round(x * 100) / 100;
  report('event-store.targets', {
    append: {
      eventsPerSecond: oneWriter,
      target: 250_000,
      overNaive: ratio(oneWriter / naive.append),
      targetOverNaive: 2.5,
    },
    readAll: {
      eventsPerSecond: readAll,
      target: 1_000_000,
      overNaive: ratio(readAll / naive.read),
      targetOverNaive: 1.67,
    },
  });
}

async function run(
  kind: string,
  database: SqlDatabase,
  candles: Candle[],
  meter: Meter,
  naive?: NaiveEventTable,
) {
  const store = await PostgresEventStore.open(database, createCatalogue());
  // batch 1 and 100: a slice each; batch 1000: the full set with 1, 2 and 4 writers (each its
  // own stream), `runs` times each
  const plans = [
    { batch: 1, count: Math.min(3_000, total), writers: 1, runs: 1 },
    { batch: 100, count: Math.min(100_000, total), writers: 1, runs: 1 },
    { batch: 1000, count: total, writers: 1, runs },
    { batch: 1000, count: total, writers: 2, runs },
    { batch: 1000, count: total, writers: 4, runs },
  ];
  // warm up (JIT, the pool's connections and their prepared statements) before measuring
  const warmUp = candleEvents(candles.slice(0, 2_000), 'WARM/USDT');
  for (let j = 0; j < 200; j++) await store.append('market-binance-WARM_USDT-1m', warmUp.slice(j, j + 1));
  for (let j = 200; j < warmUp.length; j += 600)
    await store.append('market-binance-WARM_USDT-1m', warmUp.slice(j, j + 600));
  let symbol = 0;
  const naiveAppends = [];
  let oneWriter = 0; // events/s, batch 1000, one writer: what issue 2's append target is read against
  for (const plan of plans) {
    const results = [];
    for (let r = 0; r < plan.runs; r++) {
      const perWriter = Math.ceil(plan.count / plan.writers);
      const batches = Array.from({ length: plan.writers }, (_, w) => {
        const market = `S${symbol++}`; // a market per writer and run: event ids stay unique
        const events = candleEvents(candles.slice(w * perWriter, (w + 1) * perWriter), `${market}/USDT`);
        return { stream: `market-binance-${market}_USDT-1m`, events };
      });
      results.push(
        await measure(meter, plan.count, () =>
          Promise.all(
            batches.map(async ({ stream, events }) => {
              for (let j = 0; j < events.length; j += plan.batch)
                await store.append(stream, events.slice(j, j + plan.batch));
            }),
          ),
        ),
      );
      // the yardstick, right after each single-writer run of 1000-event batches, on the same events
      if (naive && plan.batch === 1000 && plan.writers === 1) {
        const { stream, events } = batches[0]!;
        naiveAppends.push(
          await measure(meter, plan.count, async () => {
            for (let j = 0; j < events.length; j += plan.batch)
              await naive.append(stream, j, events.slice(j, j + plan.batch));
          }),
        );
      }
    }
    const rate = medianRun(results);
    if (plan.batch === 1000 && plan.writers === 1) oneWriter = rate.eventsPerSecond;
    report('event-store.append', {
      store: kind,
      batch: plan.batch,
      writers: plan.writers,
      events: plan.count,
      ...rate,
    });
  }
  let yardstick: { append: number; read: number } | undefined;
  if (naive) {
    const append = medianRun(naiveAppends);
    report('event-store.naive.append', { store: kind, batch: 1000, writers: 1, events: total, ...append });
    const naiveReads = [];
    for (let r = 0; r < runs; r++) naiveReads.push(await measure(meter, total * runs, () => naive.readAll()));
    const read = medianRun(naiveReads);
    report('event-store.naive.readAll', { store: kind, events: total * runs, ...read });
    yardstick = { append: append.eventsPerSecond, read: read.eventsPerSecond };
  }
  const head = await store.headPosition();
  let count = 0;
  for await (const _ of store.readAll()) count++;
  // every event decoded with its data parsed (decoding is eager), and the data read
  const reads = [];
  for (let r = 0; r < runs; r++) {
    reads.push(
      await measure(meter, count, async () => {
        let checksum = 0;
        for await (const e of store.readAll()) checksum += (e.data as { close: number }).close;
        return checksum;
      }),
    );
  }
  const readAll = medianRun(reads);
  report('event-store.readAll', { store: kind, events: count, ...readAll });
  if (yardstick) reportTargets(oneWriter, readAll.eventsPerSecond, yardstick);
  const catchUps = [];
  for (let r = 0; r < runs; r++) {
    catchUps.push(
      await measure(meter, count, async () => {
        const sub = store.subscribeAll({ pageSize: 5000 });
        for await (const e of sub) if (e.position >= head) break;
        await sub.close();
      }),
    );
  }
  report('event-store.catchUpSubscription', { store: kind, events: count, ...medianRun(catchUps) });
  await store.close();
}

report('machine', machine());
const candles = await realCandles(total);
for (const kind of stores) {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'tk-bench-'));
    const database = await openPglite(dir);
    try {
      await run('pglite', database, candles, { server: async () => null });
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const scratch = await scratchDatabase('store');
    if (!scratch) {
      report('event-store.skipped', { store: 'postgres', reason: 'no PostgreSQL server on 127.0.0.1:5432' });
      continue;
    }
    const database = await openPostgres(scratch.url);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    const naiveClient = new pg.Client({ connectionString: scratch.url });
    await Promise.all([admin.connect(), naiveClient.connect()]);
    try {
      const naive = new NaiveEventTable(naiveClient);
      await naive.create();
      await run('postgres', database, candles, { server: () => serverCpu(admin, scratch.name) }, naive);
    } finally {
      await Promise.all([admin.end(), naiveClient.end()]);
      await database.close();
      await scratch.drop();
    }
  }
}

/**
 * Experiment for issue 2's speed targets (not a product path, not run by `npm run bench`): would
 * storing one row per append batch instead of one row per event reach 250k appends/s and 1M
 * reads/s on PostgreSQL, with the events' data kept as JSON?
 *
 * On a scratch database it appends the same real CandleClosed events (validated by the real
 * catalogue, batches of 1000) through the real store and into a table of batch rows (the batch's
 * events as one text, a line per event), once with and once without a table of event ids (the
 * store's promise that an id is never stored twice needs one index entry per event), then reads
 * them back with the data parsed. Prints one JSON line per variant: medians of `runs` runs, with
 * client and server CPU per event.
 * Usage: node --import tsx bench/experiments/batch-rows.ts [--events N] [--runs N]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPostgres } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import {
  ADMIN_URL,
  candleEvents,
  median,
  realCandles,
  report,
  scratchDatabase,
  serverCpu,
  serverCpuDelta,
} from '../support.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '300000' }, runs: { type: 'string', default: '3' } },
});
const total = Number(values.events);
const runs = Number(values.runs);
const BATCH = 1000;

const candles = await realCandles(total);
const events = (symbol: string) => candleEvents(candles, symbol);

const scratch = await scratchDatabase('batchrows');
if (!scratch) throw new Error(`no PostgreSQL server at ${ADMIN_URL}`);
const admin = new pg.Client({ connectionString: ADMIN_URL });
const client = new pg.Client({ connectionString: scratch.url });
await Promise.all([admin.connect(), client.connect()]);
const database = await openPostgres(scratch.url);
const catalogue = createCatalogue();
const store = await PostgresEventStore.open(database, catalogue);
await client.query(`create sequence positions;
  create table batches (position bigint primary key, stream_id text collate "C" not null, revision bigint not null,
    count integer not null, events text not null, unique (stream_id, revision));
  alter table batches alter column events set storage external;
  create table event_ids (id uuid primary key, position bigint not null);`);
const claim = `b as (select pg_advisory_xact_lock(1), setval('positions', nextval('positions') + $1 - 1) - $1 + 1 as base)`;
const insertBatch = `insert into batches select b.base, $2, $3, $1, $4 from b`;
const statements = {
  'batch rows': `with ${claim}, i as (${insertBatch}) select base from b`,
  'batch rows + id index': `with ${claim}, i as (${insertBatch}),
    ids as (insert into event_ids select u, b.base + n - 1 from b, unnest($5::uuid[]) with ordinality t(u, n))
    select base from b`,
};

/** A batch as the experiment stores it: validated, one line per event, data as JSON. */
function encode(stream: string, batch: readonly NewEvent[]): { text: string; ids: string } {
  let text = '';
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i]!;
    const m = e.metadata;
    catalogue.assertValid(stream, e);
    text += `${i ? '\n' : ''}${e.id}\t${e.type}\t${m.occurredAt}\t${m.causationId ?? ''}\t${m.correlationId ?? ''}\t${m.schemaVersion}\t${m.mode ?? ''}\t${m.runId ?? ''}\t${JSON.stringify(e.data)}`;
  }
  return { text, ids: `{${batch.map((e) => e.id).join(',')}}` };
}

/** Rate and client + server CPU per event of `work` over `count` events. */
async function measure(count: number, work: () => Promise<unknown>) {
  const server = await serverCpu(admin, scratch!.name);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const perEvent = (s: number) => Math.round((s * 1e7) / count) / 10;
  return {
    eventsPerSecond: Math.round((count / ms) * 1000),
    clientCpuUsPerEvent: perEvent((used.user + used.system) / 1e6),
    serverCpuUsPerEvent: perEvent(serverCpuDelta(server, await serverCpu(admin, scratch!.name))),
  };
}

function summary(variant: string, results: Awaited<ReturnType<typeof measure>>[]) {
  const rates = results.map((r) => r.eventsPerSecond);
  const mid = results.find((r) => r.eventsPerSecond === median(rates)) ?? results[0]!;
  report('experiment.batch-rows', {
    variant,
    events: candles.length,
    ...mid,
    eventsPerSecond: median(rates),
    runs: rates,
  });
}

let symbol = 0;
const appendVariants = ['per-event rows (the store)', ...Object.keys(statements)] as const;
const results = new Map<string, Awaited<ReturnType<typeof measure>>[]>(appendVariants.map((v) => [v, []]));
for (let r = 0; r < runs; r++) {
  for (const variant of appendVariants) {
    const market = `S${symbol++}`;
    const stream = `market-binance-${market}_USDT-1m`;
    const batch = events(`${market}/USDT`);
    const sql = statements[variant as keyof typeof statements];
    results.get(variant)!.push(
      await measure(batch.length, async () => {
        for (let j = 0; j < batch.length; j += BATCH) {
          const slice = batch.slice(j, j + BATCH);
          if (!sql) {
            await store.append(stream, slice);
            continue;
          }
          const { text, ids } = encode(stream, slice);
          const params = [slice.length, stream, j, text, ...(sql.includes('$5') ? [ids] : [])];
          await client.query({ name: variant, text: sql, values: params });
        }
      }),
    );
  }
}
for (const [variant, rs] of results) summary(`append, batch ${BATCH}: ${variant}`, rs);

// Reads: every batch row in order, each line an event object with its data parsed (a page of
// 200 batches per query), against the store's readAll of its own rows; both read data.close.
const stored = Number((await client.query('select sum(count) as n from batches')).rows[0].n);
const reads: Record<string, Awaited<ReturnType<typeof measure>>[]> = {
  'readAll: per-event rows (the store)': [],
  'readAll: batch rows': [],
};
const storeCount = (await store.stats()).events;
for (let r = 0; r < runs; r++) {
  reads['readAll: per-event rows (the store)']!.push(
    await measure(storeCount, async () => {
      let sum = 0;
      for await (const e of store.readAll()) sum += (e.data as { close: number }).close;
      return sum;
    }),
  );
  reads['readAll: batch rows']!.push(
    await measure(stored, async () => {
      let sum = 0;
      for (let after = 0; ; ) {
        const { rows } = await client.query<{
          position: string;
          stream_id: string;
          revision: string;
          events: string;
        }>(
          'select position, stream_id, revision, events from batches where position > $1 order by position limit 200',
          [after],
        );
        if (rows.length === 0) break;
        for (const row of rows) {
          const lines = row.events.split('\n');
          for (let i = 0; i < lines.length; i++) {
            const f = lines[i]!.split('\t');
            const event = {
              id: f[0],
              type: f[1],
              stream: row.stream_id,
              revision: Number(row.revision) + i,
              position: Number(row.position) + i,
              metadata: {
                occurredAt: Number(f[2]),
                causationId: f[3] || null,
                correlationId: f[4] || null,
                schemaVersion: Number(f[5]),
              },
              data: JSON.parse(f[8]!) as { close: number },
            };
            sum += event.data.close;
          }
        }
        after = Number(rows.at(-1)!.position);
      }
      return sum;
    }),
  );
}
for (const [variant, rs] of Object.entries(reads)) summary(variant, rs);

await store.close();
await database.close();
await Promise.all([client.end(), admin.end()]);
await scratch.drop();

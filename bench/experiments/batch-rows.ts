/**
 * Experiment for issue 2's speed targets (not a product path, not run by `npm run bench`): would
 * storing one row per append batch instead of one row per event reach 250k appends/s and 1M
 * reads/s on PostgreSQL, and what would each target cost?
 *
 * On a scratch database it appends the same real CandleClosed events (validated by the real
 * catalogue, batches of 1000) through the real store and into tables of batch rows:
 * - JSON lines (session 4): the batch's events as one text, a line per event, data as JSON;
 * - binary frames (session 5): the batch's events as one bytea, in the store's frames
 *   (src/adapters/event-store/event-frames.ts: data in the encoding compiled from its type's
 *   schema, numbers as 8-byte floats, short strings written once per batch).
 * The store's promise that an id is never stored twice needs one index entry per event: the
 * variants keep it with a B-tree (as the store does), with a hash index, or drop it (ids then
 * checked against their own stream only, as on EventStoreDB).
 * Then it reads every event back as a RecordedEvent-shaped object, data included. Prints one JSON
 * line per variant: medians of `runs` runs, with client and server CPU per event.
 * Usage: node --import tsx bench/experiments/batch-rows.ts [--events N] [--runs N]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FrameCodecs } from '../../src/adapters/event-store/event-frames.js';
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
const frames = new FrameCodecs(catalogue);
/** One table of batch rows per variant; `ids`: how the variant keeps event ids unique. */
const tables = {
  text: { column: 'text', ids: 'btree' },
  frames: { column: 'bytea', ids: 'btree' },
  frames_hash: { column: 'bytea', ids: 'hash' },
  frames_noids: { column: 'bytea', ids: 'none' },
} as const;
await client.query('create sequence positions');
for (const [table, { column, ids }] of Object.entries(tables)) {
  await client.query(`create table ${table} (position bigint primary key, stream_id text collate "C" not null,
      revision bigint not null, count integer not null, events ${column} not null, unique (stream_id, revision));
    alter table ${table} alter column events set storage external`);
  if (ids === 'btree')
    await client.query(`create table ${table}_ids (id uuid primary key, position bigint not null)`);
  if (ids === 'hash') {
    await client.query(`create table ${table}_ids (id uuid not null, position bigint not null);
      create index on ${table}_ids using hash (id)`);
  }
}
/** The append statement of a variant: positions under the append lock, the row, the ids. */
function statement(table: keyof typeof tables): string {
  const claim = `b as (select pg_advisory_xact_lock(1), setval('positions', nextval('positions') + $1 - 1) - $1 + 1 as base)`;
  const ids =
    tables[table].ids === 'none'
      ? ''
      : `, ids as (insert into ${table}_ids select u, b.base + n - 1 from b, unnest($5::uuid[]) with ordinality t(u, n))`;
  return `with ${claim}, i as (insert into ${table} select b.base, $2, $3, $1, $4 from b)${ids} select base from b`;
}

/** A batch as JSON lines: validated, one line per event, data as JSON. */
function encodeText(stream: string, batch: readonly NewEvent[]): string {
  let text = '';
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i]!;
    const m = e.metadata;
    catalogue.assertValid(stream, e);
    text += `${i ? '\n' : ''}${e.id}\t${e.type}\t${m.occurredAt}\t${m.causationId ?? ''}\t${m.correlationId ?? ''}\t${m.schemaVersion}\t${m.mode ?? ''}\t${m.runId ?? ''}\t${JSON.stringify(e.data)}`;
  }
  return text;
}

/** A batch as the store's binary frames (src/adapters/event-store/event-frames.ts), validated. */
function encodeFrames(stream: string, batch: readonly NewEvent[]): Buffer {
  for (const e of batch) catalogue.assertValid(stream, e);
  return frames.encode(batch);
}

/** Reads the frames of one batch row back into events, as the store does. */
function* decodeFrames(row: BatchRow<Buffer>): Iterable<ReadEvent> {
  const count = Number(row.count);
  const events = frames.events({
    last_position: Number(row.position) + count - 1,
    stream_id: row.stream_id,
    first_revision: Number(row.revision),
    count,
    recorded_at: 0,
    frames: row.events,
  });
  for (let e = events.take(); e !== undefined; e = events.take()) yield e as ReadEvent;
}

function* decodeText(row: BatchRow<string>): Iterable<ReadEvent> {
  const lines = row.events.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i]!.split('\t');
    yield {
      id: f[0]!,
      type: f[1]!,
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
  }
}

interface BatchRow<T> {
  position: string;
  stream_id: string;
  revision: string;
  count: string;
  events: T;
}
interface ReadEvent {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: number;
  metadata: {
    occurredAt: number;
    causationId: string | null;
    correlationId: string | null;
    schemaVersion: number;
    mode?: string;
    runId?: string;
  };
  data: { close: number };
}

/** Every event of a table in order, through an async iterator as the store's readAll hands them out. */
async function* readBatches<T>(table: string, decode: (row: BatchRow<T>) => Iterable<ReadEvent>) {
  for (let after = 0; ; ) {
    const { rows } = await client.query<BatchRow<T>>(
      `select position, stream_id, revision, count, events from ${table} where position > $1 order by position limit 10`,
      [after],
    );
    if (rows.length === 0) return;
    for (const row of rows) yield* decode(row);
    after = Number(rows.at(-1)!.position);
  }
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

const variants: Record<
  string,
  ((stream: string, slice: NewEvent[], revision: number) => Promise<unknown>) | null
> = {
  'the store': null,
  'JSON lines, B-tree id index': batchAppender('text', encodeText),
  'binary frames, B-tree id index': batchAppender('frames', encodeFrames),
  'binary frames, hash id index': batchAppender('frames_hash', encodeFrames),
  'binary frames, ids checked per stream only': batchAppender('frames_noids', encodeFrames),
};
function batchAppender(
  table: keyof typeof tables,
  encode: (stream: string, batch: NewEvent[]) => string | Buffer,
) {
  const text = statement(table);
  const withIds = tables[table].ids !== 'none';
  return async (stream: string, slice: NewEvent[], revision: number) => {
    const params: unknown[] = [slice.length, stream, revision, encode(stream, slice)];
    if (withIds) params.push(`{${slice.map((e) => e.id).join(',')}}`);
    await client.query({ name: table, text, values: params });
  };
}

let symbol = 0;
const results = new Map<string, Awaited<ReturnType<typeof measure>>[]>(
  Object.keys(variants).map((v) => [v, []]),
);
for (let r = 0; r < runs; r++) {
  for (const [variant, append] of Object.entries(variants)) {
    const market = `S${symbol++}`;
    const stream = `market-binance-${market}_USDT-1m`;
    const batch = events(`${market}/USDT`);
    results.get(variant)!.push(
      await measure(batch.length, async () => {
        for (let j = 0; j < batch.length; j += BATCH) {
          const slice = batch.slice(j, j + BATCH);
          await (append ? append(stream, slice, j) : store.append(stream, slice));
        }
      }),
    );
  }
}
for (const [variant, rs] of results) summary(`append, batch ${BATCH}: ${variant}`, rs);

// Reads: every event in order, each an object with its data decoded; all read data.close.
const count = async (table: string) =>
  Number((await client.query(`select sum(count) as n from ${table}`)).rows[0].n);
const readers: Record<string, [number, () => AsyncIterable<{ data: unknown }>]> = {
  'readAll: the store': [(await store.stats()).events, () => store.readAll()],
  'readAll: JSON lines': [await count('text'), () => readBatches('text', decodeText)],
  'readAll: binary frames': [await count('frames_noids'), () => readBatches('frames_noids', decodeFrames)],
};
const reads = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
for (let r = 0; r < runs; r++) {
  for (const [variant, [n, read]] of Object.entries(readers)) {
    const result = await measure(n, async () => {
      let sum = 0;
      for await (const e of read()) sum += (e.data as { close: number }).close;
      return sum;
    });
    reads.set(variant, [...(reads.get(variant) ?? []), result]);
  }
}
for (const [variant, rs] of reads) summary(variant, rs);

await store.close();
await database.close();
await Promise.all([client.end(), admin.end()]);
await scratch.drop();

import { sql } from 'kysely';
import { StoreDataError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { SqlDatabase } from '../sql/database.js';
import type { Migration } from '../sql/migrations.js';
import { type FrameCodecs, ROW_EVENTS } from './event-frames.js';

/**
 * Global positions come from one sequence, handed out under a transaction-scoped advisory lock
 * (`eventlog.reserve_positions`): appends to the log are serialised from the moment they take
 * their positions until they commit. So every position still in flight is above every committed
 * one, and a reader that reads below the highest committed position + 1 never skips an event that
 * commits late, whatever else the server is running. (A plain identity column cannot promise
 * that: a transaction that took a lower number may commit after a reader moved past it. The first
 * design took positions from transaction ids and read below the cluster's oldest running
 * transaction; any long transaction on the server, even in another database, then stalled every
 * reader.) One append holds at most 65,536 events.
 */
export const MAX_BATCH = 1 << 16;
/** The advisory lock key of appends ("tkevtlog" in ASCII, as a bigint). */
export const APPEND_LOCK_KEY = 0x746b6576746c6f67n;

/** Every column but the data: the planner's statistics cover them. */
const PLANNED_COLUMNS =
  'position stream_id revision id type occurred_at causation_id correlation_id schema_version mode run_id recorded_at'.split(
    ' ',
  );

/** The event log's schema, v1 to now; v5 re-encodes a v4 log's rows with `frames`. */
export const eventlogMigrations = (frames: FrameCodecs): Migration[] => [
  {
    version: 1,
    name: 'event log: events and streams',
    up: [
      'create schema if not exists eventlog',
      `create table eventlog.streams (
        stream_id text primary key,
        revision bigint not null
      )`,
      `create table eventlog.events (
        position bigint primary key,
        stream_id text not null,
        revision bigint not null,
        id uuid not null,
        type text not null,
        data json not null,
        occurred_at bigint not null,
        causation_id uuid,
        correlation_id uuid,
        schema_version smallint not null,
        mode text,
        run_id text,
        recorded_at bigint not null default (extract(epoch from statement_timestamp()) * 1000)::bigint,
        constraint events_id_unique unique (id),
        constraint events_stream_revision_unique unique (stream_id, revision)
      )`,
      `comment on table eventlog.events is 'tradekernel event log: append-only, one row per event'`,
    ],
  },
  {
    version: 2,
    name: 'event log: data as text, small statistics samples',
    up: [
      // The data is written by JSON.stringify, always valid JSON: the json type only re-checked
      // it on every insert (about 0.35 µs of the 4 µs a server spends on an event appended by
      // COPY). Reads parse it anyway.
      'alter table eventlog.events alter column data type text',
      // The store re-analyzes as the log grows (PGlite has no autovacuum). A sample of 3,000 rows
      // plans its few queries as well as 30,000 and costs 15 ms instead of 400 ms on 700k events;
      // the data needs no statistics at all.
      `alter table eventlog.events ${PLANNED_COLUMNS.map((c) => `alter column ${c} set statistics 10`).join(', ')},
        alter column data set statistics 0`,
    ],
  },
  {
    version: 3,
    name: 'event log: positions from a sequence, appends serialised by an advisory lock',
    up: [
      // Existing logs keep their (transaction-id based) positions; new ones continue above them.
      'create sequence eventlog.positions as bigint minvalue 1',
      `select setval('eventlog.positions', coalesce((select max(position) from eventlog.events), 0) + 1, false)`,
      // Lock first, then take n positions: every caller holds the lock until it commits, so the
      // positions handed out are above every committed one. Returns the first of the n.
      `create function eventlog.reserve_positions(n integer) returns bigint language sql volatile as $$
        select pg_advisory_xact_lock(${APPEND_LOCK_KEY});
        select setval('eventlog.positions', nextval('eventlog.positions') + n - 1) - n + 1;
      $$`,
    ],
  },
  {
    version: 4,
    name: 'event log: stream names in byte order',
    up: [
      // Stream names are ASCII identifiers (validated), matched and never sorted for people:
      // compare them as bytes, not through the database's locale (strcoll) at every step down
      // the (stream_id, revision) index, about 3% of a server's work per event appended by
      // COPY. No table rewrite; the two indexes are rebuilt (about 0.1 s per 200k events, while
      // the upgrade holds the table).
      `alter table eventlog.events alter column stream_id type text collate "C"`,
      `alter table eventlog.streams alter column stream_id type text collate "C"`,
    ],
  },
  {
    version: 5,
    name: 'event log: a row per append, events as binary frames',
    up: [
      // One row per append: its events as frames (event-frames.ts), stream and revisions and
      // positions as columns. A server then inserts one row and a few index entries per batch
      // instead of per event, and a reader decodes numbers instead of parsing JSON
      // (bench/experiments/batch-rows.ts). The primary key is the batch's last position: pages
      // of the global order are then one index range.
      `create table eventlog.batches (
        last_position bigint primary key,
        stream_id text collate "C" not null,
        first_revision bigint not null,
        count integer not null check (count > 0),
        recorded_at bigint not null,
        types text[] not null,
        -- occurredAt of the first and last event: the bulk candle read finds a time in a
        -- market stream from these without reading the frames
        first_occurred_at bigint not null,
        last_occurred_at bigint not null,
        frames bytea not null,
        constraint batches_stream_revision_unique unique (stream_id, first_revision)
      )`,
      // the frames are already compact: no compression to pay for on every write and read
      'alter table eventlog.batches alter column frames set storage external',
      `comment on table eventlog.batches is 'tradekernel event log: append-only, a row per append (of at most 4,096 events)'`,
      // an event id is never stored twice, across the whole log
      'create table eventlog.event_ids (id uuid primary key, position bigint not null)',
      // events per type, for store stats
      'create table eventlog.type_counts (type text primary key, events bigint not null)',
      // the data layout of every event type and version in the log (event-frames.ts)
      'create table eventlog.layouts (type text not null, version integer not null, layout text not null, primary key (type, version))',
      'alter table eventlog.events rename to events_v4',
    ],
    afterwards: (tx) => convertV4(tx, frames),
  },
];

/** Rows of a v4 log re-encoded per query. */
const CONVERT_PAGE = 10_000;

interface V4Row {
  position: number;
  stream_id: string;
  revision: number;
  id: string;
  type: string;
  data: string;
  occurred_at: number;
  causation_id: string | null;
  correlation_id: string | null;
  schema_version: number;
  mode: string | null;
  run_id: string | null;
  recorded_at: number;
}

/**
 * Moves a v4 log (a row per event, data as JSON text) into batch rows, keeping every position,
 * revision, id and commit time. Consecutive events of one stream with consecutive positions and
 * the same commit time become one row, of at most ROW_EVENTS (v1-v2 logs have gaps between
 * positions: a gap ends a row). Data that is not of its type's current version, does not fit its
 * schema, or is of a type this build does not know stays JSON inside its frame.
 */
async function convertV4(tx: SqlDatabase['db'], frames: FrameCodecs): Promise<void> {
  await frames.sync(tx);
  let batch: V4Row[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const first = batch[0]!;
    const events = batch.map((r) => {
      let data: unknown;
      try {
        data = JSON.parse(r.data);
      } catch {
        throw new StoreDataError(
          `upgrading the event log: the event at position ${r.position} (stream ${r.stream_id}) has data that is not JSON`,
          'restore the log from a backup or an audit export, then open it again',
        );
      }
      const metadata: RecordedEvent['metadata'] = {
        occurredAt: Number(r.occurred_at),
        causationId: r.causation_id,
        correlationId: r.correlation_id,
        schemaVersion: Number(r.schema_version),
        recordedAt: Number(r.recorded_at),
      };
      if (r.mode !== null) metadata.mode = r.mode as RecordedEvent['metadata']['mode'] & string;
      if (r.run_id !== null) metadata.runId = r.run_id;
      return { id: r.id, type: r.type, data, metadata };
    });
    const { plans, frames: rows } = frames.encodeRows(events, { validated: false });
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      await sql`insert into eventlog.batches (last_position, stream_id, first_revision, count, recorded_at, types,
          first_occurred_at, last_occurred_at, frames)
        values (${Number(first.position) + plan.start + plan.count - 1}, ${first.stream_id},
          ${Number(first.revision) + plan.start}, ${plan.count}, ${Number(first.recorded_at)},
          ${`{${plan.types.join(',')}}`}::text[], ${plan.firstAt}, ${plan.lastAt},
          decode(${rows[i]!.toString('base64')}, 'base64'))`.execute(tx);
    }
    batch = [];
  };
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const { rows } = await sql<V4Row>`
      select position, stream_id, revision, id::text as id, type, data, occurred_at, causation_id::text as causation_id,
        correlation_id::text as correlation_id, schema_version, mode, run_id, recorded_at
      from eventlog.events_v4 where position > ${after} order by position limit ${CONVERT_PAGE}`.execute(tx);
    for (const row of rows) {
      const previous = batch.at(-1);
      const continues =
        previous !== undefined &&
        row.stream_id === previous.stream_id &&
        Number(row.revision) === Number(previous.revision) + 1 &&
        Number(row.position) === Number(previous.position) + 1 &&
        Number(row.recorded_at) === Number(previous.recorded_at) &&
        batch.length < ROW_EVENTS;
      if (!continues) await flush();
      batch.push(row);
    }
    if (rows.length < CONVERT_PAGE) break;
    after = Number(rows.at(-1)!.position);
  }
  await flush();
  await sql`insert into eventlog.event_ids (id, position) select id, position from eventlog.events_v4`.execute(
    tx,
  );
  await sql`insert into eventlog.type_counts (type, events) select type, count(*) from eventlog.events_v4 group by type`.execute(
    tx,
  );
  await sql`drop table eventlog.events_v4`.execute(tx);
}

import type { Migration } from '../sql/migrations.js';

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

export const eventlogMigrations: Migration[] = [
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
];

import { sql } from 'kysely';
import type { SqlDatabase } from '../adapters/sql/database.js';
import type { ProjectionTx } from './projector.js';

/**
 * TimescaleDB where it exists, plain PostgreSQL (and PGlite) everywhere else, behind the same
 * table and view names: every query of the API and of the Grafana dashboards runs on both.
 *
 * - A hypertable is the same table partitioned by time into chunks (its unique keys include the
 *   time column, so the conversion is always possible).
 * - A rollup is a continuous aggregate under TimescaleDB (real-time: the buckets not yet
 *   materialized are computed from the raw rows) and a plain view elsewhere, with the same
 *   columns and the same values. The runner refreshes the aggregates after every catch-up, and
 *   at start, outside any transaction (TimescaleDB requires it): rows rewritten by a projector
 *   (a rebuild, a recomputed equity curve) then reach the materialized buckets too.
 * - Views are plain views over tables and rollups, created (or replaced) after the rollups.
 *
 * All of it is applied at every start: a database that gains the extension later gets its
 * hypertables and aggregates at the next start (a plain-view rollup is dropped and recreated as
 * a continuous aggregate, and the views over it with it).
 */

export type BucketWidth = '1 day' | '1 week' | '1 month';

export interface Hypertable {
  /** schema-qualified: `readmodel.equity` */
  table: string;
  timeColumn: string;
  /** chunk size, an interval: `30 days` */
  chunk: string;
}

export interface RollupAggregate {
  column: string;
  fn: 'first' | 'last' | 'max' | 'min' | 'sum' | 'count';
  /** the aggregated expression (ignored for count) */
  of?: string;
}

export interface Rollup {
  /** schema-qualified name of the aggregate (or view) */
  name: string;
  /** the table it aggregates: a hypertable under TimescaleDB */
  source: string;
  timeColumn: string;
  width: BucketWidth;
  /**
   * Bucket boundaries are shifted by this interval: with `1 millisecond`, a mark at midnight
   * belongs to the day before (marks are taken at candle closes, which are exclusive). The
   * `bucket` column is the period's start plus the offset; `bucket - offset` is the period.
   */
  offset?: string;
  groupBy: readonly string[];
  aggregates: readonly RollupAggregate[];
}

export interface TimeSeriesView {
  name: string;
  sql: string;
  /** tables or views it reads from other projections; the view is skipped while one is missing */
  requires?: readonly string[];
}

export interface TimeSeriesSpec {
  hypertables?: readonly Hypertable[];
  rollups?: readonly Rollup[];
  views?: readonly TimeSeriesView[];
}

export type TimescaleMode = 'auto' | 'off';

/**
 * Whether TimescaleDB is installed in this database; with `auto`, an available extension that
 * is not installed yet is created (when that fails, for want of rights or of the preloaded
 * library, the read models stay plain).
 */
export async function detectTimescale(database: SqlDatabase, mode: TimescaleMode = 'auto'): Promise<boolean> {
  if (mode === 'off') return false;
  const installed = async () =>
    (await sql`select 1 from pg_extension where extname = 'timescaledb'`.execute(database.db)).rows.length >
    0;
  if (await installed()) return true;
  const available = await sql`select 1 from pg_available_extensions where name = 'timescaledb'`.execute(
    database.db,
  );
  if (available.rows.length === 0) return false;
  await sql
    .raw(`do $$ begin
      create extension if not exists timescaledb;
    exception when others then
      raise notice 'timescaledb is available but cannot be created: %', sqlerrm;
    end $$`)
    .execute(database.db);
  return installed();
}

const UNIT: Record<BucketWidth, string> = { '1 day': 'day', '1 week': 'week', '1 month': 'month' };

function aggregateSql(a: RollupAggregate, time: string, timescale: boolean): string {
  switch (a.fn) {
    case 'first':
      return timescale ? `first(${a.of}, ${time})` : `(array_agg(${a.of} order by ${time}))[1]`;
    case 'last':
      return timescale ? `last(${a.of}, ${time})` : `(array_agg(${a.of} order by ${time} desc))[1]`;
    case 'count':
      return 'count(*)';
    default:
      return `${a.fn}(${a.of})`;
  }
}

/** The bucket expression: time_bucket under TimescaleDB, the same boundaries by date_trunc elsewhere. */
export function bucketSql(
  rollup: Pick<Rollup, 'width' | 'offset' | 'timeColumn'>,
  timescale: boolean,
): string {
  const offset = rollup.offset;
  if (timescale) {
    return offset
      ? `time_bucket('${rollup.width}', ${rollup.timeColumn}, "offset" => interval '${offset}')`
      : `time_bucket('${rollup.width}', ${rollup.timeColumn})`;
  }
  const unit = UNIT[rollup.width];
  return offset
    ? `(date_trunc('${unit}', ${rollup.timeColumn} - interval '${offset}', 'UTC') + interval '${offset}')`
    : `date_trunc('${unit}', ${rollup.timeColumn}, 'UTC')`;
}

export function rollupSelect(rollup: Rollup, timescale: boolean): string {
  const bucket = bucketSql(rollup, timescale);
  const columns = [
    ...rollup.groupBy,
    `${bucket} as bucket`,
    ...rollup.aggregates.map((a) => `${aggregateSql(a, rollup.timeColumn, timescale)} as ${a.column}`),
  ];
  return `select ${columns.join(', ')} from ${rollup.source} group by ${[...rollup.groupBy, bucket].join(', ')}`;
}

async function relationKind(tx: ProjectionTx, name: string): Promise<'cagg' | 'view' | 'other' | null> {
  const { rows } = await sql<{ kind: string | null }>`select case
      when to_regclass(${name}) is null then null
      when (select relkind from pg_class where oid = to_regclass(${name})) = 'v' then 'view'
      else 'other' end as kind`.execute(tx);
  const kind = rows[0]?.kind ?? null;
  if (kind !== 'view') return kind as 'other' | null;
  const [schema, view] = name.split('.');
  const cagg = await sql`select 1 from pg_extension where extname = 'timescaledb'`.execute(tx);
  if (cagg.rows.length === 0) return 'view';
  const found = await sql`select 1 from timescaledb_information.continuous_aggregates
    where view_schema = ${schema} and view_name = ${view}`.execute(tx);
  return found.rows.length > 0 ? 'cagg' : 'view';
}

/** Hypertables, rollups and views of one projector (idempotent; inside the caller's transaction). */
export async function applyTimeSeries(
  tx: ProjectionTx,
  spec: TimeSeriesSpec,
  timescale: boolean,
): Promise<void> {
  if (timescale) {
    for (const h of spec.hypertables ?? []) {
      await sql`select create_hypertable(${h.table}::regclass, ${h.timeColumn}::name,
        chunk_time_interval => ${h.chunk}::interval, if_not_exists => true, migrate_data => true)`.execute(
        tx,
      );
    }
  }
  for (const rollup of spec.rollups ?? []) {
    const kind = await relationKind(tx, rollup.name);
    if (timescale) {
      if (kind === 'cagg') continue;
      if (kind === 'view') await sql.raw(`drop view ${rollup.name} cascade`).execute(tx);
      await sql
        .raw(`create materialized view ${rollup.name}
          with (timescaledb.continuous, timescaledb.materialized_only = false)
          as ${rollupSelect(rollup, true)} with no data`)
        .execute(tx);
    } else {
      await sql.raw(`create or replace view ${rollup.name} as ${rollupSelect(rollup, false)}`).execute(tx);
    }
  }
  for (const view of spec.views ?? []) {
    let present = true;
    for (const required of view.requires ?? []) {
      const { rows } = await sql<{ ok: boolean }>`select to_regclass(${required}) is not null as ok`.execute(
        tx,
      );
      present &&= rows[0]?.ok === true;
    }
    if (present) await sql.raw(`create or replace view ${view.name} as ${view.sql}`).execute(tx);
  }
}

/** Brings the continuous aggregates of these rollups up to date (outside any transaction). */
export async function refreshRollups(database: SqlDatabase, rollups: readonly Rollup[]): Promise<void> {
  for (const rollup of rollups) {
    await sql`call refresh_continuous_aggregate(${rollup.name}::regclass, null, null)`.execute(database.db);
  }
}

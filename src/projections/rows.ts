import { type RawBuilder, sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import { ProjectionError, type ProjectionTx } from './projector.js';

/**
 * Writing and reading read-model rows in bulk: a batch goes to the database as one JSON text
 * unpacked by json_to_recordset (one round trip, whatever the batch size). Numbers travel as
 * JSON, which prints doubles exactly, so what a projector computed is what the table holds.
 */

/** `ms`: epoch milliseconds in JSON, timestamptz in the table. */
export type ColumnType = 'text' | 'float8' | 'int8' | 'int4' | 'bool' | 'jsonb' | 'uuid' | 'ms' | 'text[]';

export type Columns = Readonly<Record<string, ColumnType>>;

export async function insertRows(
  tx: ProjectionTx,
  table: string,
  columns: Columns,
  rows: readonly object[],
  onConflict = '',
): Promise<void> {
  if (rows.length === 0) return;
  const names = Object.keys(columns);
  const record = names.map((n) => `${n} ${columns[n] === 'ms' ? 'int8' : columns[n]}`).join(', ');
  const values = names
    .map((n) => (columns[n] === 'ms' ? `to_timestamp(x.${n} / 1000.0)` : `x.${n}`))
    .join(', ');
  await sql`insert into ${sql.raw(table)} (${sql.raw(names.join(', '))})
    select ${sql.raw(values)} from json_to_recordset(${JSON.stringify(rows)}::json) as x(${sql.raw(record)})
    ${sql.raw(onConflict)}`.execute(tx);
}

/** `on conflict (keys) do update set` every other column to the new row's value. */
export function upsert(keys: readonly string[], columns: Columns): string {
  const set = Object.keys(columns)
    .filter((c) => !keys.includes(c))
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  return `on conflict (${keys.join(', ')}) do update set ${set}`;
}

/** Epoch ms of a timestamptz column, as SQL (for reading rows back). */
export const ms = (column: string): RawBuilder<number> =>
  sql.raw(`(extract(epoch from ${column}) * 1000)::int8`);

export function epochMs(value: Date | string | number | null): number | null {
  return value === null ? null : new Date(value).getTime();
}

/** A field that must be there; anything else stops the projection at this event. */
export function need<T>(event: RecordedEvent, value: T | undefined | null, field: string): T {
  if (value === undefined || value === null) {
    throw new ProjectionError(`${event.type} at position ${event.position} has no ${field}`);
  }
  return value;
}

export function unknownEvent(projection: string, event: RecordedEvent): ProjectionError {
  return new ProjectionError(
    `projection ${projection} cannot apply ${event.type} at position ${event.position}`,
  );
}

/** Values of a JSON recordset parameter for `where (a, b) in (select ...)` lookups. */
export function jsonParam(rows: readonly object[]): RawBuilder<unknown> {
  return sql`${JSON.stringify(rows)}::json`;
}

/**
 * The rows of `table` whose key columns match one of `keys` (selected columns converted back:
 * `ms` to epoch ms, `int8` to number), for projectors that update rows event by event.
 */
export async function loadRows<T>(
  tx: ProjectionTx,
  table: string,
  columns: Columns,
  keyColumns: Columns,
  keys: readonly object[],
): Promise<T[]> {
  if (keys.length === 0) return [];
  const select = Object.entries(columns)
    .map(([n, t]) => (t === 'ms' ? `(extract(epoch from t.${n}) * 1000)::int8 as ${n}` : `t.${n}`))
    .join(', ');
  const keyNames = Object.keys(keyColumns);
  const record = keyNames.map((n) => `${n} ${keyColumns[n]}`).join(', ');
  const { rows } = await sql<Record<string, unknown>>`
    select ${sql.raw(select)} from ${sql.raw(table)} t
    where (${sql.raw(keyNames.map((n) => `t.${n}`).join(', '))}) in (
      select ${sql.raw(keyNames.map((n) => `k.${n}`).join(', '))}
      from json_to_recordset(${JSON.stringify(keys)}::json) as k(${sql.raw(record)}))`.execute(tx);
  return rows.map((row) => {
    for (const [n, t] of Object.entries(columns)) {
      if ((t === 'ms' || t === 'int8') && row[n] !== null && row[n] !== undefined) row[n] = Number(row[n]);
    }
    return row as T;
  });
}

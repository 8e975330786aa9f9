import { sql } from 'kysely';
import type { Migration } from '../adapters/sql/migrations.js';
import type { ProjectionTx } from './projector.js';

export const checkpointMigrations: Migration[] = [
  {
    version: 1,
    name: 'read models: schema and checkpoints',
    up: [
      'create schema if not exists readmodel',
      `create table readmodel.checkpoints (
        projection text primary key,
        version integer not null,
        position bigint not null,
        events bigint not null default 0,
        last_event_at bigint,
        updated_at timestamptz not null default now()
      )`,
    ],
  },
  {
    version: 2,
    name: 'read models: how far each projection has read the log',
    up: ['alter table readmodel.checkpoints add column scanned bigint'],
  },
];

export interface Checkpoint {
  projection: string;
  version: number;
  position: number;
  events: number;
  lastEventAt: number | null;
  /**
   * The log position through which the projection has read every event (>= position): none of
   * its types lies between position and scanned. Reads and lag counts start here, so a
   * projection of rare events does not walk the whole log after its last event each time.
   */
  scanned: number;
}

export async function readCheckpoint(tx: ProjectionTx, projection: string): Promise<Checkpoint | null> {
  const { rows } = await sql<{
    version: number;
    position: number;
    events: number;
    last_event_at: number | null;
    scanned: number | null;
  }>`
    select version, position, events, last_event_at, scanned from readmodel.checkpoints
    where projection = ${projection}`.execute(tx);
  const row = rows[0];
  return row
    ? {
        projection,
        version: row.version,
        position: Number(row.position),
        events: Number(row.events),
        lastEventAt: row.last_event_at === null ? null : Number(row.last_event_at),
        scanned: Math.max(Number(row.position), Number(row.scanned ?? 0)),
      }
    : null;
}

export async function writeCheckpoint(tx: ProjectionTx, checkpoint: Checkpoint): Promise<void> {
  await sql`
    insert into readmodel.checkpoints (projection, version, position, events, last_event_at, scanned, updated_at)
    values (${checkpoint.projection}, ${checkpoint.version}, ${checkpoint.position}, ${checkpoint.events},
      ${checkpoint.lastEventAt}, ${checkpoint.scanned}, now())
    on conflict (projection) do update set version = excluded.version, position = excluded.position,
      events = excluded.events, last_event_at = excluded.last_event_at, scanned = excluded.scanned,
      updated_at = now()`.execute(tx);
}

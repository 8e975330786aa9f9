import { sql } from 'kysely';
import { FrameCodecs } from '../../src/adapters/event-store/event-frames.js';
import type { SqlDatabase } from '../../src/adapters/sql/database.js';
import type { EventCatalogue } from '../../src/domain/events/catalogue.js';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';

/**
 * Edits one stored event in place, as someone with access to the database could: for the tests
 * of what notices (replay verify, audit verify). The event's data goes through `edit` as JSON text.
 */
export async function editStoredEvent(
  database: SqlDatabase,
  catalogue: EventCatalogue,
  stream: string,
  revision: number,
  edit: (json: string) => string,
): Promise<void> {
  const frames = new FrameCodecs(catalogue);
  await frames.sync(database.db);
  const { rows } = await sql<{
    last_position: number;
    stream_id: string;
    first_revision: number;
    count: number;
    recorded_at: number;
    frames: Uint8Array;
  }>`select last_position, stream_id, first_revision, count, recorded_at, frames from eventlog.batches
    where stream_id = ${stream} and first_revision <= ${revision} order by first_revision desc limit 1`.execute(
    database.db,
  );
  const row = rows[0];
  if (!row) throw new Error(`no event ${revision} in ${stream}`);
  const events = frames.events(row).rest();
  const edited = events.map((e: RecordedEvent) =>
    e.revision === revision ? { ...e, data: JSON.parse(edit(JSON.stringify(e.data))) as unknown } : e,
  );
  await sql`update eventlog.batches set frames = ${frames.encode(edited, { validated: false })}
    where stream_id = ${stream} and first_revision = ${row.first_revision}`.execute(database.db);
}

/** Drops a stream's events from `revision` on (where a batch row starts), as if the appends from there never happened. */
export async function truncateStream(database: SqlDatabase, stream: string, revision: number): Promise<void> {
  const starts =
    await sql`select 1 from eventlog.batches where stream_id = ${stream} and first_revision = ${revision}`.execute(
      database.db,
    );
  if (starts.rows.length === 0) throw new Error(`no batch row of ${stream} starts at revision ${revision}`);
  await sql`delete from eventlog.event_ids i using eventlog.batches b
    where b.stream_id = ${stream} and b.first_revision >= ${revision}
      and i.position between b.last_position - b.count + 1 and b.last_position`.execute(database.db);
  await sql`delete from eventlog.batches where stream_id = ${stream} and first_revision >= ${revision}`.execute(
    database.db,
  );
  await sql`update eventlog.streams set revision = ${revision - 1} where stream_id = ${stream}`.execute(
    database.db,
  );
}

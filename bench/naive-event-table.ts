/**
 * The yardstick issue 2 states its PostgreSQL targets against: "a naive unnest insert and paged
 * read already reach about 100k and 600k [events/s] here". A table of one row per event (data
 * and metadata as jsonb, the same three unique keys the log keeps: position, id, stream and
 * revision), appended by one `insert ... select from unnest(arrays)` per batch and read back in
 * pages of 1,000 by position with the data parsed. It guarantees less than the store (no
 * expected-revision check, no late-commit safety for readers, no validation): it is the floor
 * to beat, measured in the same run as the store so that the ratio survives a noisy machine.
 */
import type pg from 'pg';
import type { NewEvent } from '../src/domain/events/envelope.js';

export class NaiveEventTable {
  constructor(private readonly client: pg.Client) {}

  async create(): Promise<void> {
    await this.client.query(`create table naive_events (
      position bigint generated always as identity primary key,
      stream_id text not null,
      revision bigint not null,
      id uuid not null unique,
      type text not null,
      data jsonb not null,
      metadata jsonb not null,
      unique (stream_id, revision))`);
  }

  async append(stream: string, firstRevision: number, events: readonly NewEvent[]): Promise<void> {
    await this.client.query({
      name: 'naive_append',
      text: `insert into naive_events (stream_id, revision, id, type, data, metadata)
        select $1, $2 + n - 1, id, type, data, metadata
        from unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) with ordinality as e(id, type, data, metadata, n)`,
      values: [
        stream,
        firstRevision,
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
      ],
    });
  }

  /** Reads every event in position order, pages of 1,000; returns the sum of `close` (data parsed). */
  async readAll(): Promise<{ events: number; checksum: number }> {
    let events = 0;
    let checksum = 0;
    for (let after = 0; ; ) {
      const { rows } = await this.client.query<{ position: string; data: { close: number } }>({
        name: 'naive_read',
        text: 'select position, stream_id, revision, id, type, data, metadata from naive_events where position > $1 order by position limit 1000',
        values: [after],
      });
      for (const row of rows) checksum += row.data.close;
      events += rows.length;
      if (rows.length < 1000) return { events, checksum };
      after = Number(rows.at(-1)!.position);
    }
  }
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, type SqlDatabase } from '../../src/adapters/sql/database.js';
import { StoreDataError } from '../../src/domain/errors.js';
import { defineEvent, EventCatalogue } from '../../src/domain/events/catalogue.js';
import { number, object, string } from '../../src/domain/events/schema.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { backends } from '../support/backends.js';
import { collect, testCatalogue, testEvent, testEvents, uniquePrefix } from '../support/test-events.js';

/** Behaviour under the hood of the SQL stores: corruption, foreign tables, upcasting, late commits. */
for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`SQL event store: ${backend.name}`, () => {
    let store: EventStore;
    let database: SqlDatabase;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const opened = await backend.open(testCatalogue());
      store = opened.store;
      database = opened.database!;
      close = opened.close;
    });
    afterAll(async () => close?.());

    it('reads an old schema version back in the current shape (upcasting)', async () => {
      const p = uniquePrefix();
      await store.append(`${p}-u`, [testEvent(7)]);
      // The next release renames n to count and adds a unit: v2, with an upcaster from v1.
      const v2 = defineEvent({
        type: 'TestHappened',
        schemaVersion: 2,
        schema: object({ count: number(), unit: string() }),
        upcasters: { 1: (d) => ({ count: d.n, unit: 'pieces' }) },
        description: 'test event, v2',
      });
      const newer = await PostgresEventStore.open(database, new EventCatalogue([v2]));
      const [event] = await collect(newer.readStream(`${p}-u`));
      expect(event!.data).toEqual({ count: 7, unit: 'pieces' });
      expect(event!.metadata.schemaVersion).toBe(2);
      // and a build that knows only v1 refuses a v2 event with a clear error
      await newer.append(`${p}-u`, [
        {
          ...testEvent(8),
          data: { count: 8, unit: 'kg' },
          metadata: { ...testEvent(8).metadata, schemaVersion: 2 },
        },
      ]);
      await expect(collect(store.readStream(`${p}-u`))).rejects.toThrow(
        /TestHappened v2, but this build knows only up to v1/,
      );
    });

    it('reports a corrupt row with its position instead of crashing', async () => {
      const p = uniquePrefix();
      const { position } = await store.append(`${p}-bad`, [testEvent(1)]);
      await sql`update eventlog.events set data = '"not an object"' where position = ${position}`.execute(
        database.db,
      );
      const error = await collect(store.readStream(`${p}-bad`)).catch((e) => e);
      expect(error).toBeInstanceOf(StoreDataError);
      expect(error.message).toContain(`position ${position}`);
      expect(error.message).toContain('not a JSON object');
      await sql`delete from eventlog.events where position = ${position}`.execute(database.db);
    });

    it('never delivers an event past one that commits later (late commit)', async () => {
      const p = uniquePrefix();
      if (backend.name === 'pglite') return; // one connection: no concurrent transactions exist
      let releaseSlow!: () => void;
      const slowMayCommit = new Promise<void>((r) => {
        releaseSlow = r;
      });
      let slowAppended!: () => void;
      const slowInFlight = new Promise<void>((r) => {
        slowAppended = r;
      });
      // A writer whose transaction appends first (lower position) and commits last.
      const slow = database.db.transaction().execute(async (tx) => {
        const txStore = await PostgresEventStore.open({ ...database, db: tx }, testCatalogue(), {
          migrate: false,
        });
        const result = await txStore.append(`${p}-slow`, [testEvent(1)]);
        slowAppended();
        await slowMayCommit;
        return result;
      });
      await slowInFlight;
      const fast = await store.append(`${p}-fast`, [testEvent(2)]);
      const filter = { streamPrefixes: [`${p}-`] };
      expect(await collect(store.readAll({ filter }))).toEqual([]);
      const sub = store.subscribeAll({ filter });
      const iterator = sub[Symbol.asyncIterator]();
      const first = iterator.next();
      await new Promise((r) => setTimeout(r, 100));
      expect(sub.position).toBeLessThan(fast.position);
      releaseSlow();
      const slowResult = await slow;
      expect(slowResult.position).toBeLessThan(fast.position);
      expect((await first).value.position).toBe(slowResult.position);
      expect((await iterator.next()).value.position).toBe(fast.position);
      await sub.close();
      expect((await collect(store.readAll({ filter }))).map((e) => e.position)).toEqual([
        slowResult.position,
        fast.position,
      ]);
    });
  });
}

describe('foreign data in the database', () => {
  it('refuses an eventlog.events table that tradekernel did not create', async () => {
    const database = await openPglite();
    try {
      await sql`create schema eventlog`.execute(database.db);
      await sql`create table eventlog.events (id serial primary key, payload text)`.execute(database.db);
      const error = await PostgresEventStore.open(database, testCatalogue()).catch((e) => e);
      expect(error).toBeInstanceOf(StoreDataError);
      expect(error.message).toMatch(/eventlog.events table that tradekernel did not create/);
    } finally {
      await database.close();
    }
  });

  it('refuses a database written by a newer build', async () => {
    const database = await openPglite();
    try {
      const store = await PostgresEventStore.open(database, testCatalogue());
      await store.append(`${uniquePrefix()}-x`, testEvents(0, 2));
      await sql`insert into public.tradekernel_migrations (component, version, name) values ('eventlog', 99, 'future')`.execute(
        database.db,
      );
      await expect(PostgresEventStore.open(database, testCatalogue())).rejects.toThrow(
        /eventlog schema v99, newer than this build/,
      );
    } finally {
      await database.close();
    }
  });
});

import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCodecs } from '../../src/adapters/event-store/event-frames.js';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { eventlogMigrations } from '../../src/adapters/event-store/postgres-schema.js';
import { openPglite, type SqlDatabase } from '../../src/adapters/sql/database.js';
import { migrate } from '../../src/adapters/sql/migrations.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { StoreDataError } from '../../src/domain/errors.js';
import { defineEvent, EventCatalogue } from '../../src/domain/events/catalogue.js';
import { number, object, string } from '../../src/domain/events/schema.js';
import { candleStreamEvents } from '../../src/domain/market/candle-events.js';
import { marketStream } from '../../src/domain/market/events.js';
import type { CandleRangeRequest, EventStore } from '../../src/domain/ports/event-store.js';
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

    it('indexes every id as it was given, at its position (ids travel as binary to a server, as text to PGlite)', async () => {
      const p = uniquePrefix();
      const events = testEvents(1, 300);
      const { position } = await store.append(`${p}-ids`, events);
      const { rows } = await sql<{ id: string; position: string }>`
        select id::text as id, position from eventlog.event_ids
        where position between ${position - 299} and ${position} order by position`.execute(database.db);
      expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
      expect(rows.map((r) => Number(r.position))).toEqual(events.map((_, i) => position - 299 + i));
    });

    it('reports a corrupt row with its position instead of crashing', async () => {
      const p = uniquePrefix();
      const two = await store.append(`${p}-two`, [testEvent(1), testEvent(2)]);
      const { position } = await store.append(`${p}-bad`, [testEvent(3), testEvent(4), testEvent(5)]);
      const framesAt = async (last: number) =>
        Buffer.from(
          (
            await sql<{
              frames: Uint8Array;
            }>`select frames from eventlog.batches where last_position = ${last}`.execute(database.db)
          ).rows[0]!.frames,
        );
      const bytes = await framesAt(position);
      const corrupt = async (frames: Buffer) => {
        await sql`update eventlog.batches set frames = ${frames} where last_position = ${position}`.execute(
          database.db,
        );
        return collect(store.readStream(`${p}-bad`)).catch((e) => e);
      };
      for (const [frames, at, why] of [
        [bytes.subarray(0, bytes.length - 10), position, 'frame ends early'],
        [await framesAt(two.position), position, 'fewer frames than events'],
        [Buffer.concat([bytes, await framesAt(two.position)]), position + 1, 'more frames than events'],
        [Buffer.from('not frames at all'), position - 2, ''],
      ] as const) {
        const error = await corrupt(frames);
        expect(error).toBeInstanceOf(StoreDataError);
        expect(error.message).toContain(
          `event at position ${at} (stream ${p}-bad) cannot be decoded: ${why}`,
        );
        expect(error.hint).toMatch(/restore it from a backup/);
      }
      await corrupt(bytes);
      expect((await collect(store.readStream(`${p}-bad`))).map((e) => e.data)).toEqual([
        { n: 3 },
        { n: 4 },
        { n: 5 },
      ]);
    });

    describe('the bulk candle read (readCandleRange)', () => {
      const HOUR = 3_600_000;
      const START = Date.parse('2021-01-01T00:00:00Z');
      /** 100 days of hourly candles, the 4 hours from 10:00 on day 1 missing (a recorded outage before 14:00) */
      const marketOf = (exchange: string) => ({ exchange, symbol: 'BTC/USDT', timeframe: '1h' as const });
      const candles = Array.from({ length: 2400 }, (_, i) => ({
        openTime: START + i * HOUR,
        open: 100 + i,
        high: 110 + i + 0.25,
        low: 90 + i,
        close: 105 + i / 3,
        volume: i * 1.5,
      })).filter((_, i) => i < 10 || i >= 14);
      const gap = { from: START + 10 * HOUR, to: START + 13 * HOUR, missing: 4 };

      async function storeMarket(): Promise<{ candleStore: PostgresEventStore; stream: string }> {
        const exchange = `cr${uniquePrefix()
          .replace(/[^a-z0-9]/gi, '')
          .toLowerCase()}`;
        const candleStore = await PostgresEventStore.open(database, createCatalogue(), { migrate: false });
        const stream = marketStream(exchange, 'BTC/USDT', '1h');
        await candleStore.append(stream, candleStreamEvents(marketOf(exchange), candles, [gap]));
        return { candleStore, stream };
      }

      async function readAll(store: EventStore, request: CandleRangeRequest) {
        const range = await store.readCandleRange!(request);
        const open: number[] = [];
        const close: number[] = [];
        const others: string[] = [];
        for await (const page of range.pages) {
          open.push(...page.openTime.subarray(0, page.length));
          close.push(...page.close.subarray(0, page.length));
          others.push(...page.others.map((o) => o.type));
        }
        return { open, close, others, maxCandles: range.maxCandles };
      }

      it('gives the same candles in pages of any size (pages refilled as they are read)', async () => {
        const { candleStore, stream } = await storeMarket();
        try {
          const request = { stream, from: START + 2 * HOUR, to: START + 40 * HOUR, step: HOUR };
          const whole = await readAll(candleStore, request);
          const expected = candles.filter((c) => c.openTime >= request.from && c.openTime < request.to);
          expect(whole.open).toEqual(expected.map((c) => c.openTime));
          expect(whole.close).toEqual(expected.map((c) => c.close));
          expect(whole.others).toEqual(['CandleGapDetected']);
          for (const pageSize of [1, 3, 7])
            expect(await readAll(candleStore, { ...request, pageSize })).toEqual(whole);
          // the whole stream: windows growing from 512 revisions, the first pages refilled
          const all = await readAll(candleStore, {
            stream,
            from: START,
            to: START + 2400 * HOUR,
            step: HOUR,
          });
          expect(all.open).toEqual(candles.map((c) => c.openTime));
          expect(all.close).toEqual(candles.map((c) => c.close));
          expect(all.others).toEqual(['CandleGapDetected']);
          await expect(readAll(candleStore, { ...request, pageSize: 0 })).rejects.toThrow(
            /pageSize must be an integer >= 1, got 0/,
          );
        } finally {
          await candleStore.close();
        }
      });

      it('names a stored event it cannot read', async () => {
        const { candleStore, stream } = await storeMarket();
        try {
          // the stream's one batch, cut short inside its sixth candle
          await sql`update eventlog.batches set frames = substring(frames from 1 for 600)
            where stream_id = ${stream}`.execute(database.db);
          const request = { stream, from: START, to: START + 40 * HOUR, step: HOUR, pageSize: 4 };
          const error = await readAll(candleStore, request).catch((e) => e);
          expect(error).toBeInstanceOf(StoreDataError);
          expect(error.message).toMatch(
            new RegExp(`^event at position \\d+ \\(stream ${stream}\\) cannot be decoded`),
          );
          expect(error.hint).toMatch(/restore it from a backup/);
        } finally {
          await candleStore.close();
        }
      });

      it('ends a read cut off by closing the store with an error, not a hang', async () => {
        const { candleStore, stream } = await storeMarket();
        const range = await candleStore.readCandleRange({
          stream,
          from: START,
          to: START + 40 * HOUR,
          step: HOUR,
          pageSize: 2,
        });
        const pages = range.pages[Symbol.asyncIterator]();
        expect((await pages.next()).done).toBe(false);
        await candleStore.close();
        const rest = (async () => {
          for (let r = await pages.next(); !r.done; r = await pages.next());
        })();
        // what was fetched before the close may still be delivered; a fetch after it fails
        await rest.catch((error) =>
          expect(error.message).toMatch(/the event store was closed during a read/),
        );
      });
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
      // A writer whose transaction appends first and is slow to commit.
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
      // A later writer cannot commit before it: appends are serialised until commit.
      let fastDone = false;
      const fast = store.append(`${p}-fast`, [testEvent(2)]).finally(() => {
        fastDone = true;
      });
      const filter = { streamPrefixes: [`${p}-`] };
      const sub = store.subscribeAll({ filter });
      const iterator = sub[Symbol.asyncIterator]();
      const first = iterator.next();
      await new Promise((r) => setTimeout(r, 150));
      expect(fastDone).toBe(false);
      expect(await collect(store.readAll({ filter }))).toEqual([]);
      releaseSlow();
      const slowResult = await slow;
      const fastResult = await fast;
      expect(slowResult.position).toBeLessThan(fastResult.position);
      expect((await first).value.position).toBe(slowResult.position);
      expect((await iterator.next()).value.position).toBe(fastResult.position);
      await sub.close();
      expect((await collect(store.readAll({ filter }))).map((e) => e.position)).toEqual([
        slowResult.position,
        fastResult.position,
      ]);
    });

    it('a long transaction elsewhere on the server delays no reader', async () => {
      if (backend.name === 'pglite') return; // one connection: no concurrent transactions exist
      const p = uniquePrefix();
      const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await other.connect();
      try {
        // holds a transaction id, as a projection batch, a backup or another application would
        await other.query('begin');
        await other.query('select pg_current_xact_id()');
        const appended = await store.append(`${p}-x`, testEvents(0, 3));
        const read = await collect(store.readAll({ filter: { streamPrefixes: [`${p}-`] } }));
        expect(read.map((e) => e.position).at(-1)).toBe(appended.position);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(appended.position);
        const sub = store.subscribeAll({ filter: { streamPrefixes: [`${p}-`] } });
        const seen: number[] = [];
        for await (const e of sub) {
          seen.push(e.position);
          if (seen.length === 3) break;
        }
        await sub.close();
        expect(seen).toEqual(read.map((e) => e.position));
      } finally {
        await other.query('rollback').catch(() => {});
        await other.end();
      }
    });
  });
}

describe('upgrading a log written by an earlier build', () => {
  it('continues the global order above the positions already stored', async () => {
    const database = await openPglite();
    try {
      await migrate(database, 'eventlog', eventlogMigrations(new FrameCodecs(testCatalogue())).slice(0, 2));
      // schema v2 took positions from transaction ids: large, sparse numbers
      const old = 7_000_000 * 65_536;
      await sql`insert into eventlog.streams values ('old-1', 0)`.execute(database.db);
      await sql`insert into eventlog.events (position, stream_id, revision, id, type, data, occurred_at,
          schema_version, recorded_at)
        values (${old}, 'old-1', 0, ${testEvent(1).id}, 'TestHappened', '{"n":1}', 1700000000000, 1, 0)`.execute(
        database.db,
      );
      const store = await PostgresEventStore.open(database, testCatalogue());
      const appended = await store.append('new-1', testEvents(2, 2));
      const all = await collect(store.readAll());
      expect(all.map((e) => e.stream)).toEqual(['old-1', 'new-1', 'new-1']);
      expect(all[1]!.position).toBeGreaterThan(old);
      expect(appended.position).toBe(all[2]!.position);
    } finally {
      await database.close();
    }
  });
});

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

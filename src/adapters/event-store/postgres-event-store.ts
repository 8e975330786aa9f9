import { type CompiledQuery, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import {
  DuplicateEventIdError,
  InvalidEventError,
  StoreDataError,
  UnavailableError,
  WrongExpectedRevisionError,
} from '../../domain/errors.js';
import type { EventCatalogue } from '../../domain/events/catalogue.js';
import type { NewEvent, RecordedEvent } from '../../domain/events/envelope.js';
import type {
  AllFilter,
  AppendResult,
  CandleRange,
  CandleRangeRequest,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  StoreStats,
  SubscribeOptions,
  Subscription,
} from '../../domain/ports/event-store.js';
import type { SqlDatabase } from '../sql/database.js';
import { migrate } from '../sql/migrations.js';
import { appendNothing, checkAppend } from './append-checks.js';
import { type BatchIndexRow, readCandleRangeFromBatches } from './candle-range-reader.js';
import { type BatchEvents, type BatchRow, FrameCodecs } from './event-frames.js';
import { type Page, type PageEvents, PollingSubscription } from './polling-subscription.js';
import { eventlogMigrations, MAX_BATCH } from './postgres-schema.js';

const NOTIFY_CHANNEL = 'tradekernel_events';
/**
 * The CTE `b` every append starts from: takes the append lock and the batch's first position (see
 * postgres-schema.ts). The revision claim reads from it, so the lock is always taken before the
 * stream's row is: two appends can never wait on each other in opposite orders.
 */
const reserve = (count: number) =>
  sql`b as (select eventlog.reserve_positions(${count}) as base,
    (extract(epoch from statement_timestamp()) * 1000)::bigint as now)`;
/** Every position below this is final: in-flight appends hold positions above every committed one. */
const HORIZON = sql.raw('(select coalesce(max(last_position), 0) + 1 from eventlog.batches)');
/**
 * A batch row's columns as read. The frames are read as base64 text: PGlite converts bytea in
 * JavaScript (a 600 kB row: 33 ms read, 78 ms written, against 2 and 10 ms as base64), and a
 * server would send bytea as hex text, a third longer. Written, they are base64 text on PGlite
 * and a binary parameter on a server (no text at all: ~0.7 ms less of its time per 1000 events).
 */
const BATCH_COLUMNS = sql.raw(
  "last_position, stream_id, first_revision, count, recorded_at, encode(frames, 'base64') as frames",
);

/**
 * The event store on PostgreSQL, written once with kysely; runs on PGlite (embedded) and on a
 * server through pg. An append is one row of eventlog.batches holding the batch's events as
 * binary frames (event-frames.ts), written by one SQL statement (so one implicit transaction)
 * that also moves the stream's revision under the expected-revision check and records the
 * event ids: the whole batch, or nothing at all.
 */
export class PostgresEventStore implements EventStore {
  readonly kind: 'pglite' | 'postgres';
  readonly location: string;
  private readonly wakeups = new Set<() => void>();
  private unlisten: Promise<() => Promise<void>> | undefined;
  private closed = false;
  private appendedSinceAnalyze = 0;
  private rowsAtLastAnalyze = 0;

  private constructor(
    private readonly database: SqlDatabase,
    private readonly catalogue: EventCatalogue,
    private readonly frames: FrameCodecs,
    private readonly ownsDatabase: boolean,
  ) {
    this.kind = database.kind;
    this.location = database.location;
  }

  /** Opens the store, creating its tables on first use (or upgrading them). Refuses tables it did not create. */
  static async open(
    database: SqlDatabase,
    catalogue: EventCatalogue,
    options: { ownsDatabase?: boolean; migrate?: boolean } = {},
  ): Promise<PostgresEventStore> {
    const frames = new FrameCodecs(catalogue);
    if (options.migrate !== false) {
      await refuseForeignTables(database);
      await migrate(database, 'eventlog', eventlogMigrations(frames));
    }
    await frames.sync(database.db);
    return new PostgresEventStore(database, catalogue, frames, options.ownsDatabase ?? false);
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
  ): Promise<AppendResult> {
    if (events.length > MAX_BATCH) {
      throw new InvalidEventError(events[0]?.type ?? '(batch)', [
        { path: 'events', expected: `at most ${MAX_BATCH} events in one append`, value: events.length },
      ]);
    }
    checkAppend(this.catalogue, stream, events, expected);
    if (events.length === 0) return appendNothing(this, stream, expected);
    let inserted: Inserted | undefined;
    try {
      inserted = await this.insert(stream, events, expected);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    if (inserted) {
      this.wake();
      await this.keepStatisticsFresh(events.length);
      return {
        nextExpectedRevision: Number(inserted.revision),
        position: Number(inserted.last),
        written: true,
      };
    }
    // Nothing written: either a retry of a batch already stored (a no-op), or a real conflict.
    const replay = await this.alreadyStored(stream, events);
    if (replay) return replay;
    throw new WrongExpectedRevisionError(stream, expected, await this.streamRevision(stream));
  }

  /**
   * One statement: take the positions, claim the revisions, insert the batch's row, its ids and
   * its type counts. No row back (and nothing written) when the revision check fails.
   */
  private async insert(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<Inserted | undefined> {
    const count = events.length;
    const perType = new Map<string, number>();
    for (const e of events) perType.set(e.type, (perType.get(e.type) ?? 0) + 1);
    // Types are PascalCase (validated): nothing needs quoting
    const types = `{${[...perType.keys()].join(',')}}`;
    const counts = `{${[...perType.values()].join(',')}}`;
    const { plans, frames } = this.frames.encodeRows(events);
    const values = this.kind === 'postgres' ? BINARY_VALUES : TEXT_VALUES;
    const rowFrames = frames.map((f, i) => sql`(${sql.lit(i + 1)}, ${values.frames(f)})`);
    const query = sql<Inserted>`
      with ${reserve(count)},
      s as (${revisionClaim(stream, count, expected)}),
      ins as (
        insert into eventlog.batches (last_position, stream_id, first_revision, count, recorded_at, types,
          first_occurred_at, last_occurred_at, frames)
        select b.base + (p->>'start')::int + (p->>'count')::int - 1, ${stream},
          s.revision - ${count - 1} + (p->>'start')::int, (p->>'count')::int, b.now,
          array(select json_array_elements_text(p->'types')), (p->>'firstAt')::bigint, (p->>'lastAt')::bigint,
          f.frames
        from b, s, json_array_elements(${JSON.stringify(plans)}::json) with ordinality as plan(p, i)
          join (values ${sql.join(rowFrames)}) as f(i, frames) using (i)
        returning last_position),
      ids as (
        insert into eventlog.event_ids (id, position)
        select t.id, b.base + t.n - 1 from b, s, unnest(${values.ids(events)}) with ordinality as t(id, n)),
      counted as (
        insert into eventlog.type_counts (type, events)
        select t.type, t.n from s, unnest(${types}::text[], ${counts}::bigint[]) as t(type, n)
        on conflict (type) do update set events = eventlog.type_counts.events + excluded.events)
      select max(ins.last_position) as last, (select revision from s) as revision,
        pg_notify(${NOTIFY_CHANNEL}, '') as notified
      from ins having count(*) > 0`;
    const connect = this.pooledConnection();
    if (!connect) return (await query.execute(this.database.db)).rows[0];
    // On a server, as a prepared statement: planning this statement costs more than running it
    // for a small batch
    const client = await connect();
    try {
      return (await run<Inserted>(client, query.compile(this.database.db)))[0];
    } finally {
      client.release();
    }
  }

  /** A pooled connection of its own: on a server, unless this store runs inside a caller's transaction. */
  private pooledConnection(): (() => Promise<pg.PoolClient>) | undefined {
    return this.database.db.isTransaction ? undefined : this.database.connect;
  }

  /** The batch is a retry when every id is stored, in this stream, at consecutive revisions. */
  private async alreadyStored(stream: string, events: readonly NewEvent[]): Promise<AppendResult | null> {
    const ids = JSON.stringify(events.map((e) => e.id));
    const { rows } = await sql<{ id: string; stream_id: string; revision: number; position: number }>`
      select i.id::text as id, b.stream_id, b.first_revision + (i.position - (b.last_position - b.count + 1)) as revision,
        i.position
      from eventlog.event_ids i
      cross join lateral (select * from eventlog.batches where last_position >= i.position
        order by last_position limit 1) b
      where i.id in (select value::uuid from json_array_elements_text(${ids}::json))`.execute(
      this.database.db,
    );
    if (rows.length === 0) return null;
    const byId = new Map(rows.map((r) => [r.id, r]));
    let previous: { revision: number } | undefined;
    for (const event of events) {
      const row = byId.get(event.id);
      if (!row) {
        throw new DuplicateEventIdError(
          rows[0]!.id,
          `in ${rows[0]!.stream_id}, but the rest of its batch is not`,
        );
      }
      if (row.stream_id !== stream)
        throw new DuplicateEventIdError(event.id, `in another stream (${row.stream_id})`);
      if (previous && Number(row.revision) !== Number(previous.revision) + 1) {
        throw new DuplicateEventIdError(event.id, `in ${stream} but not in the order of this batch`);
      }
      previous = row;
    }
    const last = byId.get(events.at(-1)!.id)!;
    return { nextExpectedRevision: Number(last.revision), position: Number(last.position), written: false };
  }

  async streamRevision(stream: string): Promise<number> {
    const { rows } = await sql<{ revision: number }>`
      select revision from eventlog.streams where stream_id = ${stream}`.execute(this.database.db);
    return rows[0] ? Number(rows[0].revision) : -1;
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const pageSize = 5000;
    while (remaining > 0) {
      const limit = Math.min(pageSize, remaining);
      if (backwards) {
        const { rows, full } = await this.selectBatches(
          sql`stream_id = ${stream} and first_revision <= ${from}`,
          'first_revision desc',
          limit,
        );
        for (const row of rows) {
          const events = this.frames.events(row).rest();
          for (let i = events.length - 1; i >= 0 && remaining > 0; i--) {
            if (events[i]!.revision > from) continue;
            remaining--;
            yield events[i]!;
          }
          from = Number(row.first_revision) - 1;
        }
        if (!full) return;
        continue;
      }
      // from the row holding `from` on (none when `from` is past the stream's end)
      const { rows, full } = await this.selectBatches(
        sql`stream_id = ${stream} and first_revision + count > ${from} and first_revision >= coalesce((select max(first_revision)
          from eventlog.batches where stream_id = ${stream} and first_revision <= ${from}), 0)`,
        'first_revision',
        limit,
      );
      for (const row of rows) {
        const events = this.frames.events(row);
        events.skip(Math.max(0, from - Number(row.first_revision)));
        for (let event = events.take(); event !== undefined && remaining > 0; event = events.take()) {
          remaining--;
          yield event;
        }
        from = Number(row.first_revision) + Number(row.count);
      }
      if (!full) return;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    if (options.direction === 'backwards') {
      yield* this.readAllBackwards(options);
      return;
    }
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const pageSize = options.pageSize ?? 5000;
    // Prefetch the next page while the caller works through this one: the database and the
    // decoder then run on both cores.
    let next = this.readPage(options.after ?? 0, options.filter, Math.min(pageSize, remaining));
    while (remaining > 0) {
      const page = await next;
      if (page.full) {
        next = this.readPage(page.scannedTo, options.filter, Math.min(pageSize, remaining));
        next.catch(() => {}); // awaited on the next turn; a reader that stops early never sees it
      }
      for (let event = page.events.take(), n = 1; event !== undefined; event = page.events.take(), n++) {
        yield event;
        if (--remaining === 0) return;
        // A reader whose loop awaits nothing but this iterator runs on microtasks alone, and
        // the socket carrying the next page is not read until the loop leaves them: step out
        // now and then so the server can keep sending while this page is decoded.
        if (page.full && n % 256 === 0) await new Promise(setImmediate);
      }
      if (!page.full) return;
    }
  }

  private async *readAllBackwards(options: ReadAllOptions): AsyncIterable<RecordedEvent> {
    let before = options.before ?? Number.MAX_SAFE_INTEGER;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const pageSize = options.pageSize ?? 1000;
    const wanted = typeFilter(options.filter);
    while (remaining > 0) {
      const { rows, full } = await this.selectBatches(
        sql`last_position - count + 1 < ${before} and last_position + 0 < ${await this.horizon()}${filterClause(options.filter)}`,
        'last_position desc',
        Math.min(pageSize, remaining),
      );
      for (const row of rows) {
        const events = this.frames.events(row).rest();
        for (let i = events.length - 1; i >= 0 && remaining > 0; i--) {
          const event = events[i]!;
          if (event.position >= before || !wanted(event.type)) continue;
          remaining--;
          yield event;
        }
        before = Number(row.last_position) - Number(row.count) + 1;
      }
      if (!full) return;
    }
  }

  /**
   * One page of the global order after `after`, and how far it has looked. The horizon is read
   * first and passed as a plain value: every position below it is final, then and forever, so
   * a filtered page that found little may move its checkpoint up to it. (As a value, not an
   * expression, it also lets the planner walk the primary key in order and stop at the limit.)
   */
  async readPage(after: number, filter: AllFilter | undefined, limit: number): Promise<Page> {
    const horizon = await this.horizon();
    const { rows, full } = await this.selectBatches(
      // `+ 0`: the horizon is a filter, not an index bound, so the planner walks the primary key
      // in order and stops at the limit whatever its row estimates say
      sql`last_position > ${after} and last_position + 0 < ${horizon}${filterClause(filter)}`,
      'last_position',
      limit,
    );
    return {
      events: new PageOfBatches(rows, this.frames, after, typeFilter(filter)),
      full,
      scannedTo: full ? Number(rows.at(-1)!.last_position) : Math.max(after, horizon - 1),
    };
  }

  private async horizon(): Promise<number> {
    const { rows } = await sql<{ horizon: number }>`select ${HORIZON} as horizon`.execute(this.database.db);
    return Number(rows[0]!.horizon);
  }

  /**
   * The batches matching `where` in `order`, as many as hold `events` events (the last one may
   * take the count past it). `full` when they reach `events`: there may be more.
   */
  private async selectBatches(
    where: RawBuilder<unknown>,
    order: 'last_position' | 'last_position desc' | 'first_revision' | 'first_revision desc',
    events: number,
  ): Promise<{ rows: BatchRow[]; full: boolean }> {
    this.assertOpen();
    const orderBy = sql.raw(order);
    const { rows } = await sql<BatchRow>`
      select ${BATCH_COLUMNS} from (
        select last_position, stream_id, first_revision, count, recorded_at, frames,
          sum(count) over (order by ${orderBy}) - count as before
        from eventlog.batches where ${where} order by ${orderBy} limit ${events}) q
      where before < ${events} order by ${orderBy}`.execute(this.database.db);
    let total = 0;
    for (const row of rows) total += Number(row.count);
    return { rows, full: total >= events };
  }

  subscribeAll(options: SubscribeOptions = {}): Subscription {
    this.ensureListening();
    return new PollingSubscription(
      (after, limit) => this.readPage(after, options.filter, limit),
      (wake) => {
        this.wakeups.add(wake);
        return () => this.wakeups.delete(wake);
      },
      options,
    );
  }

  /** The bulk candle read of backtests, from the market stream's batch rows (candle-range-reader.ts). */
  readCandleRange(request: CandleRangeRequest): Promise<CandleRange> {
    return readCandleRangeFromBatches(
      {
        index: async (stream) =>
          (
            await sql<BatchIndexRow>`select first_revision, count, first_occurred_at, last_occurred_at
              from eventlog.batches where stream_id = ${stream} order by first_revision`.execute(
              this.database.db,
            )
          ).rows,
        fetch: async (stream, from, to) => {
          this.assertOpen();
          return (
            await sql<BatchRow>`select ${BATCH_COLUMNS} from eventlog.batches
              where stream_id = ${stream} and first_revision between ${from} and ${to}
              order by first_revision`.execute(this.database.db)
          ).rows;
        },
        events: (row) => this.frames.events(row),
      },
      request,
    );
  }

  async headPosition(): Promise<number> {
    const { rows } = await sql<{ position: number | null }>`
      select max(last_position) as position from eventlog.batches`.execute(this.database.db);
    return Number(rows[0]?.position ?? 0);
  }

  async stats(): Promise<StoreStats> {
    const db = this.database.db;
    const [byCategory, byType, head] = await Promise.all([
      sql<{ category: string; streams: number; events: number }>`
        select split_part(stream_id, '-', 1) as category, count(*)::int as streams, sum(revision + 1)::bigint as events
        from eventlog.streams group by 1 order by 1`.execute(db),
      sql<{ type: string; events: number }>`
        select type, events from eventlog.type_counts where events > 0 order by type`.execute(db),
      this.headPosition(),
    ]);
    const categories = byCategory.rows.map((r) => ({
      category: r.category,
      streams: r.streams,
      events: Number(r.events),
    }));
    return {
      kind: this.kind,
      location: this.location,
      events: categories.reduce((sum, c) => sum + c.events, 0),
      streams: categories.reduce((sum, c) => sum + c.streams, 0),
      lastPosition: head,
      byCategory: categories,
      byType: byType.rows.map((r) => ({ type: r.type, events: Number(r.events) })),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.wakeups) wake();
    if (this.unlisten) await (await this.unlisten.catch(() => async () => {}))();
    if (this.ownsDatabase) await this.database.close();
  }

  /**
   * PGlite has no autovacuum, and a server's runs a minute late: after bulk appends the planner
   * would plan reads on tables it believes empty. Re-analyze whenever the log doubled (from 50k events).
   */
  private async keepStatisticsFresh(appended: number): Promise<void> {
    this.appendedSinceAnalyze += appended;
    if (this.appendedSinceAnalyze < Math.max(50_000, this.rowsAtLastAnalyze)) return;
    this.rowsAtLastAnalyze += this.appendedSinceAnalyze;
    this.appendedSinceAnalyze = 0;
    await sql`analyze eventlog.batches, eventlog.event_ids`.execute(this.database.db);
  }

  /** A read still going when the store closes ends here, not on a database someone else owns. */
  private assertOpen(): void {
    if (this.closed)
      throw new UnavailableError('the event store was closed during a read', 'open the store again');
  }

  private wake(): void {
    for (const wake of this.wakeups) wake();
  }

  /** Other processes' appends arrive as NOTIFY; ours wake subscribers directly. */
  private ensureListening(): void {
    this.unlisten ??= this.database.listen(NOTIFY_CHANNEL, () => this.wake());
    this.unlisten.catch(() => {});
  }
}

/** The events of a page of batches after a position, of the wanted types, decoded as they are taken. */
class PageOfBatches implements PageEvents {
  private row = 0;
  private current: BatchEvents | undefined;

  constructor(
    private readonly rows: readonly BatchRow[],
    private readonly frames: FrameCodecs,
    private readonly after: number,
    private readonly wanted: (type: string) => boolean,
  ) {}

  take(): RecordedEvent | undefined {
    for (;;) {
      if (!this.current) {
        const row = this.rows[this.row++];
        if (row === undefined) return undefined;
        this.current = this.frames.events(row);
        // the first row may start at or before `after`: hop over those events undecoded
        this.current.skip(Math.max(0, this.after + 1 - (Number(row.last_position) - Number(row.count) + 1)));
      }
      const event = this.current.take();
      if (event === undefined) {
        this.current = undefined;
        continue;
      }
      if (event.position > this.after && this.wanted(event.type)) return event;
    }
  }
}

/** Whether an event of a type passes the filter (the batch's stream was matched by the query). */
function typeFilter(filter: AllFilter | undefined): (type: string) => boolean {
  if (!filter?.types || filter.types.length === 0) return () => true;
  const types = new Set(filter.types);
  return (type) => types.has(type);
}

/**
 * The CTE that moves the stream's revision, returning the new last revision, or no row on
 * conflict. It reads from `b` (see `reserve`): the append lock is held before the row is locked.
 */
function revisionClaim(stream: string, count: number, expected: ExpectedRevision): RawBuilder<unknown> {
  switch (expected) {
    case 'any':
      return sql`insert into eventlog.streams (stream_id, revision) select ${stream}, ${count - 1} from b
        on conflict (stream_id) do update set revision = eventlog.streams.revision + ${count}
        returning revision`;
    case 'no_stream':
      return sql`insert into eventlog.streams (stream_id, revision) select ${stream}, ${count - 1} from b
        on conflict (stream_id) do nothing returning revision`;
    case 'stream_exists':
      return sql`update eventlog.streams set revision = revision + ${count} from b
        where stream_id = ${stream} returning revision`;
    default:
      if (expected === -1) return revisionClaim(stream, count, 'no_stream');
      return sql`update eventlog.streams set revision = revision + ${count} from b
        where stream_id = ${stream} and revision = ${expected} returning revision`;
  }
}

/** Names of the prepared statements, by text (the same on every connection). */
const statementNames = new Map<string, string>();

interface Inserted {
  last: number | null;
  count: number;
  revision: number | null;
}

/** Runs a compiled query as a named prepared statement: parsed and planned once per connection. */
async function run<R>(client: pg.ClientBase, query: CompiledQuery): Promise<R[]> {
  let name = statementNames.get(query.sql);
  if (!name) {
    name = `tradekernel_eventlog_${statementNames.size}`;
    statementNames.set(query.sql, name);
  }
  const { rows } = await client.query({ name, text: query.sql, values: query.parameters as unknown[] });
  return rows as R[];
}

function filterClause(filter: AllFilter | undefined): RawBuilder<unknown> {
  if (!filter) return sql``;
  const parts: RawBuilder<unknown>[] = [];
  if (filter.types && filter.types.length > 0) {
    parts.push(sql`types && array(select json_array_elements_text(${JSON.stringify(filter.types)}::json))`);
  }
  if (filter.streamPrefixes && filter.streamPrefixes.length > 0) {
    const likes = filter.streamPrefixes.map((p) => sql`stream_id like ${`${p.replace(/[\\%_]/g, '\\$&')}%`}`);
    parts.push(sql`(${sql.join(likes, sql` or `)})`);
  }
  return parts.length === 0 ? sql`` : sql` and ${sql.join(parts, sql` and `)}`;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

async function refuseForeignTables(database: SqlDatabase): Promise<void> {
  const { rows } = await sql<{ events: string | null; migrations: string | null }>`
    select coalesce(to_regclass('eventlog.batches'), to_regclass('eventlog.events'))::text as events,
      to_regclass('public.tradekernel_migrations')::text as migrations`.execute(database.db);
  const row = rows[0]!;
  if (!row.events) return;
  const owned = row.migrations
    ? await sql<{ n: number }>`select count(*)::int as n from public.tradekernel_migrations
        where component = 'eventlog'`.execute(database.db)
    : { rows: [{ n: 0 }] };
  if ((owned.rows[0]?.n ?? 0) === 0) {
    throw new StoreDataError(
      `the database at ${database.location} has an ${row.events} table that tradekernel did not create`,
      'point tradekernel at an empty database (DATABASE_URL / --database-url) or another --data-dir',
    );
  }
}

/**
 * How an append's ids (as a uuid[]) and each row's frames (as a bytea) reach the database: as
 * binary parameters on a server (nothing for it to parse), as text on PGlite, which converts
 * bytea in JavaScript (see BATCH_COLUMNS). The ids' text is one comma-separated string split by
 * the database: as an array literal they cost ~0.8 µs per event to parse. Ids are validated
 * lower-case UUIDs: nothing needs quoting.
 */
interface AppendValues {
  ids(events: readonly NewEvent[]): RawBuilder<unknown>;
  frames(frames: Buffer): RawBuilder<unknown>;
}
const BINARY_VALUES: AppendValues = {
  ids: (events) => sql`${uuidArray(events)}::uuid[]`,
  frames: (frames) => sql`${frames}::bytea`,
};
const TEXT_VALUES: AppendValues = {
  ids: (events) => sql`string_to_array(${events.map((e) => e.id).join(',')}, ',')::uuid[]`,
  frames: (frames) => sql`decode(${frames.toString('base64')}, 'base64')`,
};

/** The OID of PostgreSQL's uuid type, as array_recv expects it in a binary uuid[] */
const UUID_OID = 2950;

/**
 * The events' ids as a uuid[] in PostgreSQL's binary format (array_recv): a header, then each id
 * as its length and 16 bytes. The driver sends a Buffer parameter as binary, so the server copies
 * the ids instead of parsing their text (uuid_in: ~0.2 µs per id).
 */
function uuidArray(events: readonly NewEvent[]): Buffer {
  const out = Buffer.allocUnsafe(20 + events.length * 20);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no nulls
  out.writeInt32BE(UUID_OID, 8);
  out.writeInt32BE(events.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const { id } of events) {
    out.writeInt32BE(16, at);
    at += 4;
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) continue;
      out[at++] = (HEX_VALUE[id.charCodeAt(i)]! << 4) | HEX_VALUE[id.charCodeAt(++i)]!;
    }
  }
  return out;
}

/**
 * Hex digit values by character code. Lower case only: ids are validated against UUID_PATTERN
 * (lower-case) before they get here; were it ever relaxed, upper-case digits would read as 0.
 */
const HEX_VALUE = (() => {
  const values = new Uint8Array(128);
  for (let d = 0; d < 16; d++) values['0123456789abcdef'.charCodeAt(d)] = d;
  return values;
})();

import { type CompiledQuery, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import {
  DuplicateEventIdError,
  InvalidEventError,
  StoreDataError,
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
import { copyIn, copyInBlob, copyOut } from '../sql/copy.js';
import type { SqlDatabase } from '../sql/database.js';
import { migrate } from '../sql/migrations.js';
import { appendNothing, checkAppend } from './append-checks.js';
import { READ_AHEAD, readCandleRangeSql } from './candle-range-reader.js';
import { CandleWindowThread } from './candle-window-thread.js';
import { EventLines, WIRE_COLUMNS, WIRE_LINE } from './event-row.js';
import { type Page, PollingSubscription } from './polling-subscription.js';
import { eventlogMigrations, MAX_BATCH } from './postgres-schema.js';

const NOTIFY_CHANNEL = 'tradekernel_events';
/**
 * From this many events an append on a server goes through COPY: four round trips (begin,
 * claim, copy, commit) and a stream to set up, but 40% of the server's work per event. Measured
 * here the two cost the same at about 150 events; smaller batches stay one (prepared) statement.
 */
const COPY_MIN_BATCH = 150;
/** Bytes per COPY chunk (about 120 candles): the server inserts one while the next is encoded. */
const COPY_CHUNK_BYTES = 1 << 16;
const COPY_EVENTS = `copy eventlog.events (position, stream_id, revision, id, type, data, occurred_at,
  causation_id, correlation_id, schema_version, mode, run_id, recorded_at) from stdin`;
/**
 * The CTE `b` every append starts from: takes the append lock and the batch's first position (see
 * postgres-schema.ts). The revision claim reads from it, so the lock is always taken before the
 * stream's row is: two appends can never wait on each other in opposite orders.
 */
const reserve = (count: number) =>
  sql`b as (select eventlog.reserve_positions(${count}) as base,
    (extract(epoch from statement_timestamp()) * 1000)::bigint as now)`;
/** Every position below this is final: in-flight appends hold positions above every committed one. */
const HORIZON = sql.raw('(select coalesce(max(position), 0) + 1 from eventlog.events)');

/**
 * The event store on PostgreSQL, written once with kysely; runs on PGlite (embedded) and on a
 * server through pg. An append is one SQL statement (so one implicit transaction): it moves the
 * stream's revision under the expected-revision check and inserts the whole batch, or does
 * nothing at all.
 */
export class PostgresEventStore implements EventStore {
  readonly kind: 'pglite' | 'postgres';
  readonly location: string;
  private readonly wakeups = new Set<() => void>();
  private unlisten: Promise<() => Promise<void>> | undefined;
  private closed = false;
  private candleThread: CandleWindowThread | undefined;
  private appendedSinceAnalyze = 0;
  private rowsAtLastAnalyze = 0;

  private constructor(
    private readonly database: SqlDatabase,
    private readonly catalogue: EventCatalogue,
    private readonly ownsDatabase: boolean,
  ) {
    this.kind = database.kind;
    this.location = database.location;
  }

  /** Opens the store, creating its tables on first use. Refuses tables it did not create. */
  static async open(
    database: SqlDatabase,
    catalogue: EventCatalogue,
    options: { ownsDatabase?: boolean; migrate?: boolean } = {},
  ): Promise<PostgresEventStore> {
    if (options.migrate !== false) {
      await refuseForeignTables(database);
      await migrate(database, 'eventlog', eventlogMigrations);
    }
    return new PostgresEventStore(database, catalogue, options.ownsDatabase ?? false);
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
  ): Promise<AppendResult> {
    this.validate(stream, events, expected);
    if (events.length === 0) return appendNothing(this, stream, expected);
    let inserted: Inserted | undefined;
    try {
      inserted =
        events.length >= COPY_MIN_BATCH && this.canCopy()
          ? await this.insertByCopy(stream, events, expected)
          : await this.insertBySql(stream, events, expected);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    if (inserted && inserted.count === events.length && inserted.last !== null) {
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

  /** One statement: claim the revisions, insert the batch (sent as one text, split on the server). */
  private async insertBySql(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<Inserted | undefined> {
    const query = sql<Inserted>`
      with ${reserve(events.length)},
      s as (${revisionClaim(stream, events.length, expected)}),
      x as (select string_to_array(line, E'\t') as f, n
        from string_to_table(${encodeBatch(events)}, E'\n') with ordinality as t(line, n)),
      ins as (
        insert into eventlog.events
          (position, stream_id, revision, id, type, data, occurred_at, causation_id, correlation_id,
           schema_version, mode, run_id, recorded_at)
        select b.base + x.n - 1, ${stream}, s.revision - ${events.length} + x.n, f[1]::uuid, f[2], f[3],
          f[4]::bigint, nullif(f[5], '')::uuid, nullif(f[6], '')::uuid, f[7]::smallint, nullif(f[8], ''),
          nullif(f[9], ''), b.now
        from s, b, x
        returning position)
      select max(position) as last, count(*)::int as count, (select revision from s) as revision,
        pg_notify(${NOTIFY_CHANNEL}, '') as notified
      from ins`;
    const connect = this.copyConnection();
    if (!connect) return (await query.execute(this.database.db)).rows[0];
    // On a server, as a prepared statement: planning this statement cost more than running it
    // for a small batch (350 µs of server time for one event, 130 µs prepared)
    const client = await connect();
    try {
      return (await run<Inserted>(client, query.compile(this.database.db)))[0];
    } finally {
      client.release();
    }
  }

  /**
   * A batch goes in by COPY inside a transaction: claim the revisions and learn the positions
   * first, then send the rows with every value computed here, so the server only parses and
   * inserts them. No row when the revision check fails. On a server the rows stream on a pooled
   * connection; on PGlite they go in as one blob while this append holds the one session.
   */
  private async insertByCopy(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<Inserted | undefined> {
    const connect = this.copyConnection();
    if (!connect) {
      return this.database.exclusive!((pglite) =>
        this.copyAppend(
          {
            query: async <R>(q: CompiledQuery) =>
              (await pglite.query<R>(q.sql, q.parameters as unknown[])).rows,
            copy: (statement, produce) => copyInBlob(pglite, statement, produce),
            exec: async (statement) => {
              await pglite.query(statement);
            },
            // the one session would stay inside this transaction, and every later write with
            // it, never committed: close the database, so that they fail loudly instead
            onRollbackFailed: () => {
              if (!pglite.closed) void pglite.close();
            },
          },
          stream,
          events,
          expected,
        ),
      );
    }
    const client = await connect();
    let broken: Error | undefined;
    try {
      return await this.copyAppend(
        {
          query: (q) => run(client, q),
          copy: (statement, produce) => copyIn(client, statement, produce),
          exec: async (statement) => {
            await client.query(statement);
          },
          onRollbackFailed: (e) => {
            broken = e;
          },
        },
        stream,
        events,
        expected,
      );
    } finally {
      client.release(broken);
    }
  }

  private async copyAppend(
    target: CopyTarget,
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<Inserted | undefined> {
    try {
      await target.exec('begin');
      const claim = await target.query<{ revision: number; base: number; now: number }>(
        sql`with ${reserve(events.length)}, s as (${revisionClaim(stream, events.length, expected)})
          select s.revision, b.base, b.now, pg_notify(${NOTIFY_CHANNEL}, '') as notified
          from s, b`.compile(this.database.db),
      );
      const row = claim[0];
      if (!row) {
        await target.exec('rollback');
        return undefined;
      }
      const [base, last, now] = [Number(row.base), Number(row.revision), Number(row.now)];
      await target.copy(COPY_EVENTS, () => copyRows(stream, events, base, last - events.length + 1, now));
      await target.exec('commit');
      return { last: base + events.length - 1, count: events.length, revision: last };
    } catch (error) {
      await target.exec('rollback').catch((e: Error) => target.onRollbackFailed?.(e));
      throw error;
    }
  }

  /** A raw connection for COPY: on a server, unless this store runs inside a caller's transaction. */
  private copyConnection(): (() => Promise<pg.PoolClient>) | undefined {
    return this.database.db.isTransaction ? undefined : this.database.connect;
  }

  /** Whether an append can go in by COPY: on a server or PGlite, unless inside a caller's transaction. */
  private canCopy(): boolean {
    return (
      !this.database.db.isTransaction && (this.database.connect ?? this.database.exclusive) !== undefined
    );
  }

  private validate(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): void {
    if (events.length > MAX_BATCH) {
      throw new InvalidEventError(events[0]?.type ?? '(batch)', [
        { path: 'events', expected: `at most ${MAX_BATCH} events in one append`, value: events.length },
      ]);
    }
    checkAppend(this.catalogue, stream, events, expected);
  }

  /** The batch is a retry when every id is stored, in this stream, at consecutive revisions. */
  private async alreadyStored(stream: string, events: readonly NewEvent[]): Promise<AppendResult | null> {
    const ids = JSON.stringify(events.map((e) => e.id));
    const { rows } = await sql<{ id: string; stream_id: string; revision: number; position: number }>`
      select id, stream_id, revision, position from eventlog.events
      where id in (select value::uuid from json_array_elements_text(${ids}::json))`.execute(this.database.db);
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
    const pageSize = 1000;
    while (remaining > 0) {
      const limit = Math.min(pageSize, remaining);
      const page = await this.selectPage(
        sql`stream_id = ${stream} and ${backwards ? sql`revision <= ${from}` : sql`revision >= ${from}`}`,
        sql.raw(backwards ? 'revision desc' : 'revision'),
        limit,
        `in ${stream} from revision ${from}`,
      );
      let last: RecordedEvent | undefined;
      for (let event = page.take(); event !== undefined; event = page.take()) {
        last = event;
        yield event;
      }
      remaining -= page.count;
      if (page.count < limit || !last) return;
      from = last.revision + (backwards ? -1 : 1);
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    if (options.direction === 'backwards') {
      yield* this.readAllBackwards(options);
      return;
    }
    let after = options.after ?? 0;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const pageSize = options.pageSize ?? 5000;
    // Prefetch the next page while the caller works through this one: the database and the
    // decoder then run on both cores.
    let next = this.readPage(after, options.filter, Math.min(pageSize, remaining));
    while (remaining > 0) {
      const page = await next;
      const events = page.events;
      if (events.count > 0) after = events.lastPosition;
      remaining -= events.count;
      const more = page.full && remaining > 0;
      if (more) {
        next = this.readPage(after, options.filter, Math.min(pageSize, remaining));
        next.catch(() => {}); // awaited on the next turn; a reader that stops early never sees it
      }
      for (let event = events.take(), n = 1; event !== undefined; event = events.take(), n++) {
        yield event;
        // A reader whose loop awaits nothing but this iterator runs on microtasks alone, and
        // the socket carrying the next page is not read until the loop leaves them: step out
        // now and then so the server can keep sending while this page is decoded.
        if (more && n % 256 === 0) await new Promise(setImmediate);
      }
      if (!more) return;
    }
  }

  private async *readAllBackwards(options: ReadAllOptions): AsyncIterable<RecordedEvent> {
    let before = options.before ?? Number.MAX_SAFE_INTEGER;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const pageSize = options.pageSize ?? 1000;
    while (remaining > 0) {
      const limit = Math.min(pageSize, remaining);
      const page = await this.selectPage(
        sql`position < ${Math.min(before, await this.horizon())}${filterClause(options.filter)}`,
        sql.raw('position desc'),
        limit,
        `before position ${before}`,
      );
      for (let event = page.take(); event !== undefined; event = page.take()) yield event;
      remaining -= page.count;
      if (page.count < limit) return;
      before = page.lastPosition;
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
    const events = await this.selectPage(
      // `+ 0`: the horizon is a filter, not an index bound, so the planner walks the primary key
      // in order and stops at the limit whatever its row estimates say
      sql`position > ${after} and position + 0 < ${horizon}${filterClause(filter)}`,
      sql.raw('position'),
      limit,
      `after position ${after}`,
    );
    const full = events.count === limit;
    return { events, full, scannedTo: full ? events.lastPosition : Math.max(after, horizon - 1) };
  }

  private async horizon(): Promise<number> {
    const { rows } = await sql<{ horizon: number }>`select ${HORIZON} as horizon`.execute(this.database.db);
    return Number(rows[0]!.horizon);
  }

  /**
   * Events matching `where`, in `order`, as a page of lines (see event-row.ts): by COPY on a
   * server, by one text built by SQL on PGlite (and inside a caller's transaction). `start`
   * names where the page starts in an error.
   */
  private async selectPage(
    where: RawBuilder<unknown>,
    order: RawBuilder<unknown>,
    limit: number,
    start: string,
  ): Promise<EventLines> {
    const upcast = (event: RecordedEvent) => this.catalogue.upcast(event);
    const connect = this.copyConnection();
    if (connect) {
      const query = sql`select ${sql.raw(WIRE_COLUMNS)} from eventlog.events
        where ${where} order by ${order} limit ${limit}`.compile(this.database.db);
      const client = await connect();
      try {
        return new EventLines(
          await copyOut(client, `copy (${inline(query)}) to stdout`),
          true,
          start,
          upcast,
        );
      } finally {
        client.release();
      }
    }
    const { rows } = await sql<{ page: string | null }>`
      select string_agg(line, E'\n' order by ${order}) as page from (
        select position, revision, ${sql.raw(WIRE_LINE)} as line from eventlog.events
        where ${where} order by ${order} limit ${limit}) q`.execute(this.database.db);
    return new EventLines(rows[0]?.page ?? '', false, start, upcast);
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

  /** The bulk candle read of backtests (candle-range-reader.ts); on a server, decoded on a worker thread. */
  readCandleRange(request: CandleRangeRequest): Promise<CandleRange> {
    const url = this.database.connectionString;
    if (url !== undefined && this.copyConnection() && !this.closed) {
      // a worker that died (out of memory, killed) is replaced, not kept failing every read
      if (this.candleThread?.broken) void this.candleThread.close();
      if (!this.candleThread || this.candleThread.broken)
        this.candleThread = new CandleWindowThread(url, READ_AHEAD);
    }
    return readCandleRangeSql(this.database, request, this.candleThread);
  }
  async headPosition(): Promise<number> {
    const { rows } = await sql<{ position: number | null }>`
      select max(position) as position from eventlog.events`.execute(this.database.db);
    return Number(rows[0]?.position ?? 0);
  }

  async stats(): Promise<StoreStats> {
    const db = this.database.db;
    const [byCategory, byType, head] = await Promise.all([
      sql<{ category: string; streams: number; events: number }>`
        select split_part(stream_id, '-', 1) as category, count(*)::int as streams, sum(revision + 1)::bigint as events
        from eventlog.streams group by 1 order by 1`.execute(db),
      sql<{ type: string; events: number }>`
        select type, count(*)::bigint as events from eventlog.events group by type order by type`.execute(db),
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
    await this.candleThread?.close();
    if (this.ownsDatabase) await this.database.close();
  }

  /**
   * PGlite has no autovacuum, and a server's runs a minute late: after bulk appends the planner
   * would plan reads on a table it believes empty. Re-analyze whenever the log doubled (from 50k events).
   */
  private async keepStatisticsFresh(appended: number): Promise<void> {
    this.appendedSinceAnalyze += appended;
    if (this.appendedSinceAnalyze < Math.max(50_000, this.rowsAtLastAnalyze)) return;
    this.rowsAtLastAnalyze += this.appendedSinceAnalyze;
    this.appendedSinceAnalyze = 0;
    await sql`analyze eventlog.events`.execute(this.database.db);
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

/** The statements of a COPY append, on whichever connection runs them. */
interface CopyTarget {
  query<R>(query: CompiledQuery): Promise<R[]>;
  copy(statement: string, produce: () => Iterable<Buffer>): Promise<void>;
  exec(statement: 'begin' | 'commit' | 'rollback'): Promise<void>;
  /** the connection may be left mid-transaction: drop it */
  onRollbackFailed?(error: Error): void;
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

/**
 * The rows of a batch in COPY's text format, in chunks. No value needs escaping but the data:
 * ids are UUIDs, the stream, type, mode and run id are patterned (validated before), and
 * JSON.stringify writes no control character, only backslashes, which COPY wants doubled.
 * Each row is written into the chunk's buffer as it is built (cheaper than joining the
 * chunk's rows into one string first).
 */
function* copyRows(
  stream: string,
  events: readonly NewEvent[],
  base: number,
  firstRevision: number,
  now: number,
): Iterable<Buffer> {
  let chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, events.length * 1024));
  let size = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const m = e.metadata;
    let data = JSON.stringify(e.data);
    if (data.includes('\\')) data = data.replaceAll('\\', '\\\\');
    const row = `${base + i}\t${stream}\t${firstRevision + i}\t${e.id}\t${e.type}\t${data}\t${m.occurredAt}\t${m.causationId ?? '\\N'}\t${m.correlationId ?? '\\N'}\t${m.schemaVersion}\t${m.mode ?? '\\N'}\t${m.runId ?? '\\N'}\t${now}\n`;
    // at most 3 UTF-8 bytes per UTF-16 unit
    if (size + row.length * 3 > chunk.length) {
      if (size > 0) yield chunk.subarray(0, size);
      chunk = Buffer.allocUnsafe(Math.max(COPY_CHUNK_BYTES, row.length * 3));
      size = 0;
    }
    size += chunk.write(row, size);
  }
  if (size > 0) yield chunk.subarray(0, size);
}

/** A compiled query with its parameters written in as literals: COPY takes no parameters. */
function inline(query: CompiledQuery): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = query.parameters[Number(n) - 1];
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string') return pg.escapeLiteral(value);
    throw new Error(`cannot inline parameter $${n} (${typeof value})`);
  });
}

/**
 * The batch as one text parameter, a line per event and a tab between fields, split on the
 * server (string_to_table is several times cheaper there than json_to_recordset): one round
 * trip whatever the batch size. No field can hold a tab or a newline: ids are UUIDs, types
 * PascalCase, run ids and modes patterned, and JSON.stringify escapes control characters.
 */
function encodeBatch(events: readonly NewEvent[]): string {
  let out = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const m = e.metadata;
    out += `${i === 0 ? '' : '\n'}${e.id}\t${e.type}\t${JSON.stringify(e.data)}\t${m.occurredAt}\t${m.causationId ?? ''}\t${m.correlationId ?? ''}\t${m.schemaVersion}\t${m.mode ?? ''}\t${m.runId ?? ''}`;
  }
  return out;
}

function filterClause(filter: AllFilter | undefined): RawBuilder<unknown> {
  if (!filter) return sql``;
  const parts: RawBuilder<unknown>[] = [];
  if (filter.types && filter.types.length > 0) {
    parts.push(sql`type in (select json_array_elements_text(${JSON.stringify(filter.types)}::json))`);
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
    select to_regclass('eventlog.events')::text as events,
      to_regclass('public.tradekernel_migrations')::text as migrations`.execute(database.db);
  const row = rows[0]!;
  if (!row.events) return;
  const owned = row.migrations
    ? await sql<{ n: number }>`select count(*)::int as n from public.tradekernel_migrations
        where component = 'eventlog'`.execute(database.db)
    : { rows: [{ n: 0 }] };
  if ((owned.rows[0]?.n ?? 0) === 0) {
    throw new StoreDataError(
      `the database at ${database.location} has an eventlog.events table that tradekernel did not create`,
      'point tradekernel at an empty database (DATABASE_URL / --database-url) or another --data-dir',
    );
  }
}

/**
 * The bulk candle read (EventStore.readCandleRange, domain/ports/event-store.ts) on the SQL
 * stores, PGlite and PostgreSQL: a market stream's candles straight from eventlog.events, as
 * columns, page by page. What makes it fast:
 * - each page is one query over a window of revisions (an index range scan), and the next
 *   READ_AHEAD windows are already being read while the reader works on one;
 * - on a server the rows come by COPY and are decoded as they arrive from the socket, in the
 *   large chunks pg-copy-streams hands over, straight into the page's columns (no text of the
 *   whole page, no object per row or candle); PGlite (no COPY TO STDOUT) returns a window as one
 *   aggregated text;
 * - rows are `<type>\t<data>` with an empty type for candles, and no id: candle ids are not read
 *   (the caller gets the ids of the range's edge candles to check how they were made).
 * It reads, never writes, and knows the table layout of postgres-schema.ts.
 */
import { sql } from 'kysely';
import { to as copyTo } from 'pg-copy-streams';
import { CandleClosed } from '../../domain/market/events.js';
import type { CandlePage, CandleRange, CandleRangeRequest } from '../../domain/ports/event-store.js';
import type { SqlDatabase } from '../sql/database.js';
import { CandlePageBuffer, decodeEventRow, LineSplitter } from './candle-page.js';

/**
 * Revisions per window (one query, one page). Small enough to start the consumer early and to keep
 * the server on an index scan without a sort; large enough that a query's fixed cost is noise.
 */
const WINDOW_EVENTS = 8_192;
/** Windows requested ahead of the one being consumed. */
const READ_AHEAD = 2;
/** Revisions read below and above the guessed start and end of the range (see firstAtOrAfter). */
const GUESS_BELOW = 2_048;
const GUESS_ABOVE = 16;

/** the type, empty for candles (see decodeEventRow) */
const TYPE = `case when type = '${CandleClosed.type}' then '' else type end`;
/** `<type>\t<data>` as COPY writes two columns (a tab inside one column would come escaped) */
const COPY_ROW = `${TYPE}, data`;
/** the same line as one text, for string_agg */
const TEXT_ROW = `${TYPE} || E'\\t' || data`;

export async function readCandleRangeSql(
  database: SqlDatabase,
  request: CandleRangeRequest,
): Promise<CandleRange> {
  const { stream, step } = request;
  const where = `stream_id = ${literal(stream)}`;
  const query = async <R>(text: string): Promise<R[]> => (await sql.raw<R>(text).execute(database.db)).rows;
  const last = await lastRevision(database, stream);
  if (last < 0) return { maxCandles: 0, edgeCandles: [], pages: noPages() };
  const occurredAt = async (revision: number): Promise<number> => {
    const rows = await query<{ t: string | number }>(
      `select occurred_at as t from eventlog.events where ${where} and revision = ${revision}`,
    );
    return rows[0] === undefined ? Number.POSITIVE_INFINITY : Number(rows[0].t);
  };
  const [first, end] = await Promise.all([occurredAt(0), occurredAt(last)]);
  // The first revision whose occurredAt is >= time. Where it would be without outages (each
  // missing candle moves it down by one, each recorded outage up by one): read the keys around
  // that guess in one query, and fall back to a binary search, narrowed by what it showed, only
  // when the answer lies outside.
  const firstAtOrAfter = async (time: number): Promise<number> => {
    if (time <= first) return 0;
    if (time > end) return last + 1;
    const guess = Math.min(last, Math.max(0, Math.round((time - first) / step)));
    const rows = await query<{ r: string | number; t: string | number }>(
      `select revision as r, occurred_at as t from eventlog.events where ${where}
        and revision between ${Math.max(0, guess - GUESS_BELOW)} and ${guess + GUESS_ABOVE} order by revision`,
    );
    let lo = 0;
    let hi = last + 1;
    for (const row of rows) {
      if (Number(row.t) >= time) {
        hi = Number(row.r);
        break;
      }
      lo = Number(row.r) + 1;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((await occurredAt(mid)) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const [a, b] = await Promise.all([firstAtOrAfter(request.from + step), firstAtOrAfter(request.to + step)]);
  // The edge candles' ids, and the event right after the range: an outage that starts in the
  // range and ends after it is recorded there.
  const edges = await query<{ r: string | number; id: string; type: string; data: string }>(
    `select revision as r, id::text as id, type, data from eventlog.events where ${where}
      and revision in (${[...new Set([a, b - 1, b])].filter((r) => r >= 0).join(',')}) order by revision`,
  );
  const edgeCandles = edges
    .filter((e) => Number(e.r) < b && e.type === CandleClosed.type)
    .map((e) => ({ id: e.id, openTime: (JSON.parse(e.data) as { openTime: number }).openTime }));
  const after = edges.find((e) => Number(e.r) === b && e.type !== CandleClosed.type);
  const trailing = after ? { type: after.type, data: JSON.parse(after.data) as unknown } : undefined;
  const fetchWindow =
    database.kind === 'postgres' && database.connect
      ? (from: number, to: number, page: CandlePageBuffer) => copyWindow(database, where, from, to, page)
      : (from: number, to: number, page: CandlePageBuffer) =>
          aggregateWindow(database, where, from, to, page);
  return { maxCandles: Math.max(0, b - a), edgeCandles, pages: readPages(a, b, fetchWindow, trailing) };
}

async function* noPages(): AsyncIterable<CandlePage> {}

async function lastRevision(database: SqlDatabase, stream: string): Promise<number> {
  const { rows } = await sql
    .raw<{ r: string | number }>(
      `select revision as r from eventlog.streams where stream_id = ${literal(stream)}`,
    )
    .execute(database.db);
  return rows[0] === undefined ? -1 : Number(rows[0].r);
}

/** Windows [a, b) in order, READ_AHEAD of them in flight; a page is recycled when the next is asked for. */
async function* readPages(
  a: number,
  b: number,
  fetchWindow: (from: number, to: number, page: CandlePageBuffer) => Promise<void>,
  trailing: { type: string; data: unknown } | undefined,
): AsyncIterable<CandlePage> {
  const free: CandlePageBuffer[] = [];
  const inFlight: { page: CandlePageBuffer; done: Promise<void> }[] = [];
  let next = a;
  const requestMore = () => {
    while (inFlight.length < READ_AHEAD && next < b) {
      const page = free.pop() ?? new CandlePageBuffer(WINDOW_EVENTS);
      page.reset();
      const done = fetchWindow(next, Math.min(b, next + WINDOW_EVENTS), page);
      done.catch(() => {}); // awaited in turn; a failure surfaces there
      inFlight.push({ page, done });
      next += WINDOW_EVENTS;
    }
  };
  requestMore();
  let current: CandlePageBuffer | undefined;
  while (inFlight.length > 0) {
    const { page, done } = inFlight.shift()!;
    await done;
    if (current) free.push(current);
    current = page;
    requestMore();
    if (inFlight.length === 0 && trailing) page.others.push(trailing);
    yield page;
  }
  if (current === undefined && trailing) {
    const page = new CandlePageBuffer(0);
    page.others.push(trailing);
    yield page;
  }
}

/**
 * A window by COPY on its own pooled connection. pg-copy-streams reads the connection's socket
 * itself and hands over the rows' bytes in large chunks (no pg message object per row); the rows
 * are decoded as the chunks arrive.
 */
async function copyWindow(
  database: SqlDatabase,
  where: string,
  from: number,
  to: number,
  page: CandlePageBuffer,
): Promise<void> {
  const client = await database.connect!();
  let failed: Error | undefined;
  try {
    // `limit` keeps the planner on the (stream, revision) index in revision order (no sort)
    const rows = client.query(
      copyTo(
        `copy (select ${COPY_ROW} from eventlog.events where ${where} and revision >= ${from} and revision < ${to}
          order by revision limit ${to - from}) to stdout`,
      ),
    );
    const lines = new LineSplitter((bytes, start, end) => decodeEventRow(bytes, start, end, true, page));
    for await (const chunk of rows as AsyncIterable<Buffer>) lines.push(chunk);
    lines.end();
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    client.release(failed);
  }
}

/** A window as one aggregated text (PGlite has no COPY TO STDOUT), decoded line by line. */
async function aggregateWindow(
  database: SqlDatabase,
  where: string,
  from: number,
  to: number,
  page: CandlePageBuffer,
): Promise<void> {
  const { rows } = await sql
    .raw<{ page: string | null }>(
      `select string_agg(${TEXT_ROW}, E'\\n' order by revision) as page
        from eventlog.events where ${where} and revision >= ${from} and revision < ${to}`,
    )
    .execute(database.db);
  const text = rows[0]?.page;
  if (!text) return;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; ) {
    let lineEnd = bytes.indexOf(10, i);
    if (lineEnd < 0) lineEnd = bytes.length;
    decodeEventRow(bytes, i, lineEnd, false, page);
    i = lineEnd + 1;
  }
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

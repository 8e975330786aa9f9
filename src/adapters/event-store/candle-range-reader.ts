/**
 * The bulk candle read (EventStore.readCandleRange, domain/ports/event-store.ts) on the SQL
 * stores, PGlite and PostgreSQL: a market stream's candles straight from eventlog.events, as
 * columns, page by page. What makes it fast:
 * - each page is one query over a window of revisions (an index range scan), and the next
 *   READ_AHEAD windows are already being read while the reader works on one;
 * - on a server the rows come by COPY to a worker thread (candle-window-thread.ts) that decodes
 *   them as they arrive, in the large chunks pg-copy-streams hands over, straight into the page's
 *   columns (no text of the whole page, no object per row or candle), and moves the columns to
 *   the reader: the thread running the kernel never touches the bytes. PGlite (in this thread,
 *   no COPY TO STDOUT) returns a window as one aggregated text, decoded here;
 * - rows are `<type>\t<data>` with an empty type for candles, and no id: candle ids are not read
 *   (the caller gets the ids of the range's edge candles to check how they were made).
 * It reads, never writes, and knows the table layout of postgres-schema.ts.
 */
import { sql } from 'kysely';
import { CandleClosed } from '../../domain/market/events.js';
import type { CandlePage, CandleRange, CandleRangeRequest } from '../../domain/ports/event-store.js';
import type { SqlDatabase } from '../sql/database.js';
import { CandlePageBuffer, decodeEventRow, parseEventData } from './candle-page.js';
import type { CandleWindowThread } from './candle-window-thread.js';

/**
 * Revisions per window at most (one query, one page). Small enough to keep the server on an
 * index scan without a sort; large enough that a query's fixed cost is noise.
 */
const WINDOW_EVENTS = 8_192;
/**
 * The first window's size; each next one doubles up to WINDOW_EVENTS. The reader (the kernel)
 * waits for a whole window before it starts, for every symbol of a run at once (it replays them
 * merged in time): small first windows let it start within a few milliseconds.
 */
const FIRST_WINDOW = 512;
/** Revisions read below and above the guessed start and end of the range (see firstAtOrAfter). */
const GUESS_BELOW = 2_048;
const GUESS_ABOVE = 16;

/** the type, empty for candles (see decodeEventRow) */
const TYPE = `case when type = '${CandleClosed.type}' then '' else type end`;
/** `<type>\t<data>` as COPY writes two columns (a tab inside one column would come escaped) */
const COPY_ROW = `${TYPE}, data`;
/** the same line as one text, for string_agg */
const TEXT_ROW = `${TYPE} || E'\\t' || data`;

/** Windows in flight at once (each on a connection of its own on a server). */
export const READ_AHEAD = 2;

/**
 * `thread`: on a server, the worker thread that reads and decodes the windows; without it (PGlite,
 * or inside a caller's transaction) each window is one aggregated text decoded here.
 */
export async function readCandleRangeSql(
  database: SqlDatabase,
  request: CandleRangeRequest,
  thread?: CandleWindowThread,
): Promise<CandleRange> {
  const { stream, step } = request;
  const size = request.pageSize ?? WINDOW_EVENTS;
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`readCandleRange: pageSize must be an integer >= 1, got ${size}`);
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
    // the window's answer computed by the server: one row back instead of ~2,000 to parse here
    const [row] = await query<{ below: string | number | null; at: string | number | null }>(
      `select max(revision) filter (where occurred_at < ${time}) as below,
          min(revision) filter (where occurred_at >= ${time}) as at
        from eventlog.events where ${where}
        and revision between ${Math.max(0, guess - GUESS_BELOW)} and ${guess + GUESS_ABOVE}`,
    );
    // occurredAt increases along the stream: the answer lies in (below, at]
    let lo = row?.below == null ? 0 : Number(row.below) + 1;
    let hi = row?.at == null ? last + 1 : Number(row.at);
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
  // One probe per revision: with `revision in (...)` the planner, believing the stream holds a
  // row or two, walks the stream's whole index range and filters (10 ms on a 40k-event stream).
  const edges = await query<{ r: string | number; id: string; type: string; data: string }>(
    [...new Set([a, b - 1, b])]
      .filter((r) => r >= 0)
      .map(
        (r) =>
          `(select revision as r, id::text as id, type, data from eventlog.events where ${where} and revision = ${r})`,
      )
      .join(' union all '),
  );
  const edgeCandles = edges
    .filter((e) => Number(e.r) < b && e.type === CandleClosed.type)
    .map((e) => ({
      id: e.id,
      openTime: (parseEventData(e.data, stream, Number(e.r)) as { openTime: number }).openTime,
    }));
  const after = edges.find((e) => Number(e.r) === b && e.type !== CandleClosed.type);
  const trailing = after ? { type: after.type, data: parseEventData(after.data, stream, b) } : undefined;
  const fetchWindow: FetchWindow = thread
    ? (from, to, recycled) => thread.read(copyStatement(where, from, to), stream, from, size, recycled)
    : (from, to, recycled) => aggregateWindow(database, where, stream, from, to, size, recycled);
  return {
    maxCandles: Math.max(0, b - a),
    edgeCandles,
    pages: readPages(a, b, size, fetchWindow, trailing),
  };
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

/** Reads revisions [from, to) into a page, refilling `recycled` (a page the reader is done with) when given. */
type FetchWindow = (
  from: number,
  to: number,
  recycled: CandlePageBuffer | undefined,
) => Promise<CandlePageBuffer>;

/** Windows [a, b) in order, READ_AHEAD of them in flight; a page is recycled when the next is asked for. */
async function* readPages(
  a: number,
  b: number,
  size: number,
  fetchWindow: FetchWindow,
  trailing: { type: string; data: unknown } | undefined,
): AsyncIterable<CandlePage> {
  const free: CandlePageBuffer[] = [];
  const inFlight: Promise<CandlePageBuffer>[] = [];
  let next = a;
  let span = Math.min(size, FIRST_WINDOW);
  const requestMore = () => {
    while (inFlight.length < READ_AHEAD && next < b) {
      const page = fetchWindow(next, Math.min(b, next + span), free.pop());
      page.catch(() => {}); // awaited in turn; a failure surfaces there
      inFlight.push(page);
      next += span;
      span = Math.min(size, span * 2);
    }
  };
  requestMore();
  let current: CandlePageBuffer | undefined;
  while (inFlight.length > 0) {
    const page = await inFlight.shift()!;
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

/** A window's rows by COPY (read by the worker thread): `limit` keeps the planner on the (stream, revision) index in revision order (no sort). */
function copyStatement(where: string, from: number, to: number): string {
  return `copy (select ${COPY_ROW} from eventlog.events where ${where} and revision >= ${from} and revision < ${to}
    order by revision limit ${to - from}) to stdout`;
}

/** A window as one aggregated text (PGlite has no COPY TO STDOUT), decoded line by line. */
async function aggregateWindow(
  database: SqlDatabase,
  where: string,
  stream: string,
  from: number,
  to: number,
  size: number,
  recycled: CandlePageBuffer | undefined,
): Promise<CandlePageBuffer> {
  const page = recycled ?? new CandlePageBuffer(size);
  page.reset(stream, from);
  const { rows } = await sql
    .raw<{ page: string | null }>(
      `select string_agg(${TEXT_ROW}, E'\\n' order by revision) as page
        from eventlog.events where ${where} and revision >= ${from} and revision < ${to}`,
    )
    .execute(database.db);
  const text = rows[0]?.page;
  if (!text) return page;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; ) {
    let lineEnd = bytes.indexOf(10, i);
    if (lineEnd < 0) lineEnd = bytes.length;
    decodeEventRow(bytes, i, lineEnd, false, page);
    i = lineEnd + 1;
  }
  return page;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

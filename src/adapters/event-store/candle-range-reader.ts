/**
 * The bulk candle read (EventStore.readCandleRange, domain/ports/event-store.ts) on the SQL
 * stores: a market stream's candles straight from its batch rows (event-frames.ts), as columns.
 * The range's edges are found from each row's first and last occurredAt (occurredAt never
 * decreases along a market stream), then by hopping frames (each starts with its length) in the
 * one row that holds the edge; the rows of the range are then read in groups, the next groups
 * already being fetched while one is decoded.
 */
import { CandleClosed, type CandleClosedData } from '../../domain/market/events.js';
import type { CandlePage, CandleRange, CandleRangeRequest } from '../../domain/ports/event-store.js';
import { CandlePageBuffer, candlePageSize } from './candle-page.js';
import type { BatchEvents, BatchRow } from './event-frames.js';

/** Batch rows per fetch (each holds at most ROW_EVENTS events). */
const ROWS_PER_FETCH = 4;
/**
 * Fetches in flight while a group is decoded: on a server each runs on a connection of its own,
 * so the server's work (reading the rows, base64) runs beside the decoding. Measured on the 1m
 * year: 4 rows x 2 in flight read it in 0.30 s, 8 rows x 1 in 0.47 s.
 */
const READ_AHEAD = 2;

/** A batch row of a stream without its frames. */
export interface BatchIndexRow {
  first_revision: number;
  count: number;
  first_occurred_at: number;
  last_occurred_at: number;
}

/** What the reader needs of the store. */
export interface BatchSource {
  /** the stream's rows without frames, in revision order */
  index(stream: string): Promise<BatchIndexRow[]>;
  /** the stream's rows whose first revision is in [from, to], in revision order */
  fetch(stream: string, from: number, to: number): Promise<BatchRow[]>;
  events(row: BatchRow): BatchEvents;
}

export async function readCandleRangeFromBatches(
  source: BatchSource,
  request: CandleRangeRequest,
): Promise<CandleRange> {
  const { stream, step } = request;
  const size = candlePageSize(request);
  const rows = (await source.index(stream)).map((r) => ({
    first: Number(r.first_revision),
    count: Number(r.count),
    firstAt: Number(r.first_occurred_at),
    lastAt: Number(r.last_occurred_at),
  }));
  if (rows.length === 0) return { maxCandles: 0, edgeCandles: [], pages: noPages() };
  const end = rows.at(-1)!.first + rows.at(-1)!.count;
  const fetched = new Map<number, Promise<BatchRow>>();
  const row = (i: number) => {
    let batch = fetched.get(i);
    if (!batch) {
      batch = source.fetch(stream, rows[i]!.first, rows[i]!.first).then((found) => found[0]!);
      fetched.set(i, batch);
    }
    return batch;
  };
  /** index of the row holding `revision` */
  const rowOf = (revision: number) => {
    let lo = 0;
    let hi = rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (rows[mid]!.first <= revision) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  /** the first revision whose occurredAt is >= time */
  const firstAtOrAfter = async (time: number) => {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rows[mid]!.lastAt < time) lo = mid + 1;
      else hi = mid;
    }
    if (lo === rows.length) return end;
    if (rows[lo]!.firstAt >= time) return rows[lo]!.first;
    return rows[lo]!.first + source.events(await row(lo)).skipBefore(time);
  };
  const a = await firstAtOrAfter(request.from + step);
  const b = await firstAtOrAfter(request.to + step);
  const edgeCandles: { id: string; openTime: number }[] = [];
  for (const revision of a < b ? [...new Set([a, b - 1])] : []) {
    const i = rowOf(revision);
    const events = source.events(await row(i));
    events.skip(revision - rows[i]!.first);
    const e = events.take();
    if (e?.type === CandleClosed.type)
      edgeCandles.push({ id: e.id, openTime: (e.data as CandleClosedData).openTime });
  }
  fetched.clear();

  async function* pages(): AsyncIterable<CandlePage> {
    if (a >= end) return;
    // rows a.. and the one holding b (an outage record right after the range still belongs)
    const first = rowOf(a);
    const last = rowOf(Math.min(b, end - 1));
    const group = (i: number) =>
      source.fetch(stream, rows[i]!.first, rows[Math.min(i + ROWS_PER_FETCH - 1, last)]!.first);
    let page = new CandlePageBuffer(size);
    const queue: Promise<BatchRow[]>[] = [];
    let asked = first;
    const ask = () => {
      while (queue.length < READ_AHEAD && asked <= last) {
        const fetching = group(asked);
        fetching.catch(() => {}); // awaited in turn; a reader that stops early never sees it
        queue.push(fetching);
        asked += ROWS_PER_FETCH;
      }
    };
    ask();
    for (let i = first; i <= last; i += ROWS_PER_FETCH) {
      const batch = await queue.shift()!;
      ask();
      for (const r of batch) {
        const events = source.events(r);
        if (Number(r.first_revision) < a) events.skip(a - Number(r.first_revision));
        for (;;) {
          if (events.nextRevision >= b) {
            // past the range: only an outage record right after it still belongs (see CandlePage.others)
            const after = events.take();
            if (after && after.type !== CandleClosed.type)
              page.others.push({ type: after.type, data: after.data });
            yield page;
            return;
          }
          const candle = events.takeData(CandleClosed.type, CandleClosed.schemaVersion);
          if (candle) page.push(candle as CandleClosedData);
          else {
            const e = events.take();
            if (e === undefined) break;
            page.add(e);
          }
          if (page.full) {
            yield page;
            page = new CandlePageBuffer(size);
          }
        }
      }
    }
    yield page;
  }
  return { maxCandles: Math.max(0, b - a), edgeCandles, pages: pages() };
}

async function* noPages(): AsyncIterable<CandlePage> {}

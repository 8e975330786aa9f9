/**
 * EventStore.readCandleRange for any store, on its readStream: a binary search over revisions for
 * the range's edges, then one forward read decoded into pages. No faster than reading the stream
 * yourself; it exists so that every store answers the bulk read the same way (EventStoreDB uses
 * it; the SQL stores read their batch rows, candle-range-reader.ts).
 */
import { CandleClosed, type CandleClosedData } from '../../domain/market/events.js';
import type {
  CandlePage,
  CandleRange,
  CandleRangeRequest,
  EventStore,
} from '../../domain/ports/event-store.js';
import { CandlePageBuffer, candlePageSize } from './candle-page.js';

export async function readCandleRangeViaStream(
  store: Pick<EventStore, 'readStream' | 'streamRevision'>,
  request: CandleRangeRequest,
): Promise<CandleRange> {
  const { stream, step } = request;
  const size = candlePageSize(request);
  const last = await store.streamRevision(stream);
  const at = async (revision: number) => {
    for await (const e of store.readStream(stream, { fromRevision: revision, maxCount: 1 })) return e;
    return undefined;
  };
  // occurredAt never decreases along a market stream: the first revision at or after a time
  const firstAtOrAfter = async (time: number) => {
    let lo = 0;
    let hi = last + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((await at(mid))!.metadata.occurredAt < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const a = await firstAtOrAfter(request.from + step);
  const b = await firstAtOrAfter(request.to + step);
  const edgeCandles: { id: string; openTime: number }[] = [];
  for (const revision of a < b ? [...new Set([a, b - 1])] : []) {
    const e = await at(revision);
    if (e?.type === CandleClosed.type)
      edgeCandles.push({ id: e.id, openTime: (e.data as CandleClosedData).openTime });
  }
  async function* pages(): AsyncIterable<CandlePage> {
    if (a > last) return;
    let page = new CandlePageBuffer(size);
    let revision = a;
    for await (const e of store.readStream(stream, { fromRevision: a })) {
      // past the range: only an outage record right after it still belongs (see CandlePage.others)
      if (revision++ >= b) {
        if (e.type !== CandleClosed.type) page.others.push({ type: e.type, data: e.data });
        break;
      }
      page.add(e);
      if (page.full) {
        yield page;
        page = new CandlePageBuffer(size);
      }
    }
    yield page;
  }
  return { maxCandles: Math.max(0, b - a), edgeCandles, pages: pages() };
}

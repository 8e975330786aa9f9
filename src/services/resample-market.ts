import { randomUUID } from 'node:crypto';
import { ConfigError, TradekernelError } from '../domain/errors.js';
import type { MarketKey } from '../domain/market/candle.js';
import { marketStreamOf, streamTimeKey } from '../domain/market/candle-events.js';
import { CandleClosed, type CandleClosedData } from '../domain/market/events.js';
import {
  createResampler,
  type ResampledCandle,
  type Resampler,
  resampleRatio,
} from '../domain/market/resample.js';
import { alignTime, type Timeframe, timeframeMs } from '../domain/market/timeframe.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { AppendPipeline } from './append-pipeline.js';
import {
  type ErrorReport,
  errorReport,
  type GapReport,
  gapReport,
  isoOrNull,
  isoTime,
} from './market-report.js';
import { edgeCandleTime, MarketStreamWriter, type SourceCandle } from './market-stream-writer.js';

/**
 * The `data resample` use case: higher-timeframe market streams derived from a stored lower
 * one (1m → 5m, 1h, 4h, 1d...), written through the same writer as imports and downloads, so
 * a resampled candle has the id an imported candle of that market and open time has
 * (candleEventId), a run repeated adds nothing, and a resampled candle that differs from one
 * already stored there (e.g. the exchange's own) is a conflict, never an overwrite.
 *
 * Which buckets become candles (never invented, never partial):
 * - complete: every source candle of the bucket is stored (60 minutes of an hour) → a
 *   CandleClosed in the target stream;
 * - incomplete and closed: some source candles are missing in a recorded outage (the source
 *   stream continues after the bucket) → not written; the target stream gets a gap there
 *   (CandleGapDetected in front of the next candle), as for an outage of the exchange itself.
 *   Binance does publish such a bucket, built from the minutes it has: that candle is then
 *   absent from a resampled stream (`incomplete` in the report counts them);
 * - the last bucket, when its source candles are not all stored yet → not written, and not a
 *   gap either: the next run, once more source candles are stored, completes it (`pending`).
 * A source stream that starts inside a bucket makes that first bucket incomplete too: the
 * target stream starts at the first complete bucket.
 *
 * A run continues each target stream after its last candle: it reads the source stream from
 * the earliest target's next bucket on (a binary search by revision on occurredAt, which
 * increases along a market stream), in one pass for all targets.
 */

export interface ResampleOptions {
  exchange: string;
  symbol: string;
  /** the stored timeframe to build from */
  from: Timeframe;
  /** the timeframes to build, each a multiple of `from` */
  to: readonly Timeframe[];
  correlationId?: string;
  /** events per append (default 65,536) */
  batchSize?: number;
  /** source candles read so far, of about `total` */
  onProgress?: (progress: { read: number; total: number }) => void;
}

export type ResampleStatus = 'resampled' | 'failed' | 'not_resampled';

export interface ResampleTargetReport {
  timeframe: Timeframe;
  stream: string;
  status: ResampleStatus;
  /** open time of the first bucket this run considered (null: none) */
  from: string | null;
  /** true when the target stream had candles and this run continued after the last one */
  resumed: boolean;
  /** complete buckets built */
  candles: number;
  /** of those, written by this run */
  new: number;
  /** of those, already stored with the same values */
  present: number;
  /** closed buckets with source candles missing (an outage, or the source starting inside it): not written */
  incomplete: number;
  /** open time of the last bucket, not complete yet: written by a later run (null: none) */
  pending: string | null;
  /** gaps recorded in the target stream by this run */
  gaps: GapReport[];
  /** open times of the first and last candle written by this run */
  first: string | null;
  last: string | null;
}

export interface ResampleReport {
  exchange: string;
  symbol: string;
  correlationId: string;
  source: {
    timeframe: Timeframe;
    stream: string;
    /** source candles read by this run */
    read: number;
    /** open times of the first and last stored source candle */
    first: string | null;
    last: string | null;
  };
  targets: ResampleTargetReport[];
  totals: {
    candles: number;
    new: number;
    present: number;
    incomplete: number;
    gaps: number;
    missing: number;
  };
  error: (ErrorReport & { timeframe: Timeframe | null }) | null;
}

/** Resampled candles handed to a writer at once. */
const CHUNK = 4096;

interface Target {
  report: ResampleTargetReport;
  writer: MarketStreamWriter;
  resampler: Resampler;
  /** open time of the first bucket to build: after the target's last stored candle */
  start: number;
  /** complete buckets waiting to be written */
  chunk: SourceCandle[];
  /** names the candles in errors (a conflict with a stored candle) */
  label: string;
}

export async function resampleMarket(store: EventStore, options: ResampleOptions): Promise<ResampleReport> {
  const { exchange, symbol, from } = options;
  const to = checkTargets(from, options.to);
  const correlationId = options.correlationId ?? randomUUID();
  const sourceKey: MarketKey = { exchange, symbol, timeframe: from };
  const sourceStream = marketStreamOf(sourceKey);
  const report: ResampleReport = {
    exchange,
    symbol,
    correlationId,
    source: { timeframe: from, stream: sourceStream, read: 0, first: null, last: null },
    targets: to.map((timeframe) => ({
      timeframe,
      stream: marketStreamOf({ exchange, symbol, timeframe }),
      status: 'not_resampled',
      from: null,
      resumed: false,
      candles: 0,
      new: 0,
      present: 0,
      incomplete: 0,
      pending: null,
      gaps: [],
      first: null,
      last: null,
    })),
    totals: { candles: 0, new: 0, present: 0, incomplete: 0, gaps: 0, missing: 0 },
    error: null,
  };

  const pipeline = new AppendPipeline();
  const targets: Target[] = [];
  let current: Target | null = null;
  try {
    const sourceRevision = await store.streamRevision(sourceStream);
    const sourceFirst = await edgeCandleTime(store, sourceStream, 'forwards');
    const sourceLast = await edgeCandleTime(store, sourceStream, 'backwards');
    if (sourceFirst === undefined || sourceLast === undefined) {
      throw new ConfigError(
        `no ${exchange} ${symbol} ${from} candles are stored (${sourceStream} is empty)`,
        `import or download them first, e.g. tradekernel data download --symbols ${symbol} --timeframe ${from} --since 2024-01-01`,
      );
    }
    report.source.first = isoTime(sourceFirst);
    report.source.last = isoTime(sourceLast);

    for (const targetReport of report.targets) {
      const key: MarketKey = { exchange, symbol, timeframe: targetReport.timeframe };
      const writer = await MarketStreamWriter.open(store, key, pipeline, {
        context: { correlationId },
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      });
      const stored = writer.lastCandleOpenTime;
      targetReport.resumed = stored !== undefined;
      const start = stored === undefined ? Number.NEGATIVE_INFINITY : stored + timeframeMs(key.timeframe);
      targets.push({
        label: `${key.timeframe} candles resampled from ${sourceStream}`,
        report: targetReport,
        writer,
        resampler: createResampler(from, key.timeframe),
        start,
        chunk: [],
      });
    }

    // One pass over the source, from the earliest bucket any target still needs.
    const readFrom = Math.min(...targets.map((t) => t.start));
    const firstRevision = await firstRevisionAfter(store, sourceStream, sourceRevision, readFrom);
    const total = sourceRevision + 1 - firstRevision;
    let read = 0;
    for await (const event of store.readStream(sourceStream, { fromRevision: firstRevision })) {
      if (event.revision > sourceRevision) break; // appended meanwhile: the next run takes it
      if (event.type !== CandleClosed.type) continue;
      const candle = event.data as CandleClosedData;
      read++;
      for (const target of targets) {
        if (candle.openTime < target.start) continue;
        current = target;
        target.report.from ??= isoTime(alignTime(candle.openTime, target.report.timeframe));
        for (const bucket of target.resampler.push(candle)) take(target, bucket);
        if (target.chunk.length >= CHUNK) await write(target);
      }
      current = null;
      if ((read & 0x3fff) === 0) options.onProgress?.({ read, total });
    }
    report.source.read = read;
    options.onProgress?.({ read, total });
    for (const target of targets) {
      current = target;
      const last = target.resampler.flush();
      if (last !== null) target.report.pending = isoTime(last.openTime);
      await write(target);
      await target.writer.flush();
      target.report.status = 'resampled';
    }
    current = null;
  } catch (caught) {
    if (!(caught instanceof TradekernelError)) throw caught;
    await Promise.all(targets.map((t) => t.writer.flush().catch(() => {})));
    const failed = current as Target | null;
    if (failed) failed.report.status = 'failed';
    report.error = { ...errorReport(caught), timeframe: failed?.report.timeframe ?? null };
  }
  report.totals = totalsOf(report.targets);
  return report;
}

function checkTargets(from: Timeframe, to: readonly Timeframe[]): Timeframe[] {
  const unique = [...new Set(to)];
  if (unique.length === 0) throw new ConfigError('no timeframe to resample to', 'for example --to 1h,4h,1d');
  for (const target of unique) {
    let ratio: number;
    try {
      ratio = resampleRatio(from, target);
    } catch {
      throw new ConfigError(
        `cannot build ${target} candles from ${from} ones: ${target} is not a multiple of ${from}`,
        'resample to a longer timeframe that is a whole number of source candles, e.g. 1m → 5m, 1h, 4h, 1d',
      );
    }
    if (ratio === 1) throw new ConfigError(`--to ${target} is the source timeframe itself`);
  }
  return unique;
}

function take(target: Target, bucket: ResampledCandle): void {
  if (!bucket.complete) {
    target.report.incomplete++;
    return;
  }
  const { openTime, open, high, low, close, volume } = bucket;
  target.chunk.push({ openTime, open, high, low, close, volume });
  target.report.candles++;
}

async function write(target: Target): Promise<void> {
  if (target.chunk.length === 0) return;
  const candles = target.chunk;
  target.chunk = [];
  const { report } = target;
  const result = await target.writer.add(candles, { source: target.label });
  report.new += result.added;
  report.present += result.present;
  for (const gap of result.gaps) report.gaps.push(gapReport(gap));
  if (result.added > 0) {
    report.first ??= isoTime(candles[candles.length - result.added]!.openTime);
    report.last = isoOrNull(candles[candles.length - 1]!.openTime);
  }
}

/** The first revision whose event's occurredAt exceeds `time` (binary search; -Infinity: 0). */
async function firstRevisionAfter(
  store: EventStore,
  stream: string,
  lastRevision: number,
  time: number,
): Promise<number> {
  if (time === Number.NEGATIVE_INFINITY) return 0;
  let lo = 0;
  let hi = lastRevision + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let key = Number.POSITIVE_INFINITY;
    for await (const event of store.readStream(stream, { fromRevision: mid, maxCount: 1 }))
      key = streamTimeKey(event);
    if (key > time) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function totalsOf(targets: readonly ResampleTargetReport[]): ResampleReport['totals'] {
  const totals = { candles: 0, new: 0, present: 0, incomplete: 0, gaps: 0, missing: 0 };
  for (const t of targets) {
    totals.candles += t.candles;
    totals.new += t.new;
    totals.present += t.present;
    totals.incomplete += t.incomplete;
    totals.gaps += t.gaps.length;
    totals.missing += t.gaps.reduce((sum, gap) => sum + gap.missing, 0);
  }
  return totals;
}

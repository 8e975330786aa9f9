import type { Candle } from './candle.js';
import { alignTime, isAligned, type Timeframe, timeframeMs } from './timeframe.js';

/**
 * A candle built from `count` source candles. `complete` is false when source candles are
 * missing from its bucket (an outage, or the end of the data): such a bucket is kept, with the
 * prices it has, but never padded with invented candles.
 */
export interface ResampledCandle extends Candle {
  complete: boolean;
  /** number of source candles in the bucket */
  count: number;
}

/** How many source candles make one target candle; throws when the target is not a multiple. */
export function resampleRatio(source: Timeframe, target: Timeframe): number {
  const ratio = timeframeMs(target) / timeframeMs(source);
  // Buckets must also start on a source boundary; weekly buckets start on Monday, which every
  // timeframe up to 1d divides, so an integer ratio is enough for the timeframes we know.
  if (!Number.isInteger(ratio) || ratio < 1) {
    throw new RangeError(
      `cannot resample ${source} candles to ${target}: ${target} is not a multiple of ${source}`,
    );
  }
  return ratio;
}

/**
 * Incremental resampler, for a stream of candles (live data, or a file read row by row). Feed
 * candles in strictly increasing open-time order with `push`; it returns the buckets that are
 * finished: a bucket is emitted as soon as it is complete, or when a candle of a later bucket
 * arrives. `flush` returns the bucket still open at the end of the data, if any.
 */
export interface Resampler {
  push(candle: Candle | ResampledCandle): ResampledCandle[];
  flush(): ResampledCandle | null;
}

/** A bucket being filled; `sourcesComplete` is false once any source candle was incomplete. */
interface OpenBucket extends Candle {
  count: number;
  sourcesComplete: boolean;
  /** the volume in units of 10^-8 while every source volume is a whole number of them, else null */
  volumeUnits: number | null;
}

/**
 * Volumes are summed as whole units of 10^-8 when they are (exchanges publish volumes with at
 * most 8 decimals): the sum is then exact, and the resampled volume is the double nearest the
 * true decimal sum, the very number read from the exchange's own candle of that timeframe
 * ("4061.06093000"), and the same whether resampled at once or in stages. A plain float sum
 * would differ in the last bits, and a resampled candle would then conflict with the
 * exchange's candle of the same market and open time.
 */
const VOLUME_SCALE = 1e8;

function volumeUnitsOf(volume: number): number | null {
  const units = Math.round(volume * VOLUME_SCALE);
  // Exact: units / 1e8 is correctly rounded, so it gives back `volume` only when volume is the
  // double nearest a decimal with at most 8 decimals.
  return Number.isSafeInteger(units) && units / VOLUME_SCALE === volume ? units : null;
}

function addVolumeUnits(sum: number | null, volume: number): number | null {
  if (sum === null) return null;
  const units = volumeUnitsOf(volume);
  if (units === null) return null;
  const total = sum + units;
  return Number.isSafeInteger(total) ? total : null;
}

export function createResampler(source: Timeframe, target: Timeframe): Resampler {
  const ratio = resampleRatio(source, target);
  let bucket: OpenBucket | null = null;
  let lastOpenTime = Number.NEGATIVE_INFINITY;

  const close = (b: OpenBucket): ResampledCandle => ({
    openTime: b.openTime,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volumeUnits === null ? b.volume : b.volumeUnits / VOLUME_SCALE,
    complete: b.count === ratio && b.sourcesComplete,
    count: b.count,
  });

  return {
    push(candle) {
      if (!isAligned(candle.openTime, source)) {
        throw new RangeError(`resample: open time ${candle.openTime} is not aligned to ${source}`);
      }
      if (candle.openTime <= lastOpenTime) {
        throw new RangeError(
          `resample: open time ${candle.openTime} is not after ${lastOpenTime}; candles must strictly increase`,
        );
      }
      lastOpenTime = candle.openTime;

      const emitted: ResampledCandle[] = [];
      const bucketTime = alignTime(candle.openTime, target);
      if (bucket && bucket.openTime !== bucketTime) {
        emitted.push(close(bucket));
        bucket = null;
      }
      // A source candle that is itself an incomplete resample makes its bucket incomplete too,
      // so resampling in stages (1m → 5m → 1h) says the same as resampling at once.
      const sourceComplete = !('complete' in candle) || candle.complete;
      if (bucket === null) {
        bucket = {
          openTime: bucketTime,
          open: candle.open,
          high: candle.high,
          low: candle.low,
          close: candle.close,
          volume: candle.volume,
          count: 1,
          sourcesComplete: sourceComplete,
          volumeUnits: volumeUnitsOf(candle.volume),
        };
      } else {
        bucket.high = Math.max(bucket.high, candle.high);
        bucket.low = Math.min(bucket.low, candle.low);
        bucket.close = candle.close;
        bucket.volume += candle.volume;
        bucket.volumeUnits = addVolumeUnits(bucket.volumeUnits, candle.volume);
        bucket.count += 1;
        bucket.sourcesComplete &&= sourceComplete;
      }
      // Emit as soon as the last source candle arrives: live consumers should not wait for the
      // next bucket's first candle to learn that this one is done.
      if (bucket.count === ratio) {
        emitted.push(close(bucket));
        bucket = null;
      }
      return emitted;
    },

    flush() {
      const last = bucket;
      bucket = null;
      return last ? close(last) : null;
    },
  };
}

/**
 * Batch form: resamples a whole series. Candles must be aligned to `source` and in strictly
 * increasing order. Buckets with no source candle at all are absent from the result.
 */
export function resampleCandles(
  candles: readonly (Candle | ResampledCandle)[],
  source: Timeframe,
  target: Timeframe,
): ResampledCandle[] {
  const resampler = createResampler(source, target);
  const result: ResampledCandle[] = [];
  for (const candle of candles) {
    for (const bucket of resampler.push(candle)) result.push(bucket);
  }
  const last = resampler.flush();
  if (last) result.push(last);
  return result;
}

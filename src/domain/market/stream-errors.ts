import { TradekernelError } from '../errors.js';
import type { Candle } from './candle.js';
import { describeRowPosition } from './candle-issue.js';
import { TIMEFRAMES, type Timeframe, timeframeMs } from './timeframe.js';
import { describeTime } from './validate.js';

/**
 * The rules of a market stream, as errors. A market stream is append-only and in time order: a
 * stored candle is never changed, and nothing is ever inserted before the last stored candle.
 */

/** A candle that differs from the stored candle with the same open time. */
export interface CandleConflict {
  openTime: number;
  /** where the differing candle is in its source, when it comes from a file */
  line?: number;
  row?: number;
  stored: Candle;
  found: Candle;
}

const LISTED = 3;
const FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

export function describeConflict(conflict: CandleConflict): string {
  const where =
    conflict.line !== undefined && conflict.row !== undefined
      ? `${describeRowPosition({ line: conflict.line, row: conflict.row })} `
      : '';
  const diffs = FIELDS.filter((field) => conflict.stored[field] !== conflict.found[field]).map(
    (field) => `${field} ${conflict.found[field]} (stored ${conflict.stored[field]})`,
  );
  return `${where}${describeTime(conflict.openTime)}: ${diffs.join(', ')}`;
}

/** Candles of a source that contradict stored ones: the source is refused as a whole. */
export class CandleConflictError extends TradekernelError {
  constructor(
    readonly source: string,
    readonly stream: string,
    readonly conflicts: readonly CandleConflict[],
  ) {
    const n = conflicts.length;
    const listed = conflicts.slice(0, LISTED).map(describeConflict);
    const more = n > LISTED ? `; and ${n - LISTED} more` : '';
    super(
      `${source}: ${n} ${n === 1 ? 'candle differs' : 'candles differ'} from the ${n === 1 ? 'candle' : 'candles'} ` +
        `already stored in ${stream} with the same open time, so nothing of it was imported: ${listed.join('; ')}${more}`,
      'candle_conflict',
      'stored candles are never overwritten: check that --exchange, --symbol and --timeframe name the ' +
        "file's market, or import the file into another --data-dir",
    );
  }
}

/**
 * New candles older than the last stored candle of their stream (inside a recorded gap, or
 * before the first stored candle). A market stream only grows at its end.
 */
export class CandlesBeforeStreamEndError extends TradekernelError {
  constructor(
    readonly source: string,
    readonly stream: string,
    readonly count: number,
    readonly first: number,
    readonly lastStored: number,
  ) {
    super(
      `${source}: ${count} new ${count === 1 ? 'candle' : 'candles'} from ${describeTime(first)} ` +
        `${count === 1 ? 'is' : 'are'} older than the last candle stored in ${stream} ` +
        `(${describeTime(lastStored)}); a market stream is append-only in time order, so nothing of it was imported`,
      'candles_before_stream_end',
      'import files oldest first (the files of a directory are imported in time order); to rebuild a market ' +
        'from older data, import everything into a fresh --data-dir',
    );
  }
}

/**
 * A gap far longer than any exchange outage: files left out of an import, most likely. A
 * recorded gap is permanent (a market stream grows only at its end), so it is not recorded
 * unless asked for.
 */
export class LongGapError extends TradekernelError {
  constructor(
    readonly source: string,
    readonly stream: string,
    readonly gap: { from: number; to: number; missing: number },
    readonly limitMs: number,
  ) {
    super(
      `${source}: ${gap.missing} candles missing in ${stream} from ${describeTime(gap.from)} to ${describeTime(gap.to)}, ` +
        `longer than ${formatDuration(limitMs)}: more like files left out than an exchange outage; nothing of it was imported`,
      'long_gap',
      'import the missing files first (a recorded gap can never be filled), or pass --accept-gaps if the market really had no trading then',
    );
  }
}

/** A source whose candles are mostly spaced by another timeframe than the one given. */
export class TimeframeMismatchError extends TradekernelError {
  constructor(
    readonly source: string,
    readonly timeframe: Timeframe,
    readonly spacingMs: number,
  ) {
    const guess = Object.entries(TIMEFRAMES).find(([, ms]) => ms === spacingMs)?.[0];
    super(
      `${source}: most of its candles are ${formatDuration(spacingMs)} apart, so these are not ${timeframe} ` +
        `candles; importing them as ${timeframe} would ${spacingMs > timeframeMs(timeframe) ? 'record a gap after every candle' : 'refuse most of them as misaligned'}`,
      'timeframe_mismatch',
      guess ? `pass --timeframe ${guess}` : 'pass the --timeframe of the file',
    );
  }
}

/**
 * The spacing most consecutive candles have, when it is not the timeframe; else null. "Most":
 * at least half of the steps between consecutive open times (gaps and a few bad rows do not
 * change it). Needs three candles at least; works on unvalidated rows.
 */
export function dominantSpacingMismatch(
  candles: readonly { openTime: number }[],
  timeframe: Timeframe,
): number | null {
  if (candles.length < 3) return null;
  const counts = new Map<number, number>();
  let steps = 0;
  for (let i = 1; i < candles.length; i++) {
    const delta = candles[i]!.openTime - candles[i - 1]!.openTime;
    if (!(delta > 0)) continue;
    steps++;
    counts.set(delta, (counts.get(delta) ?? 0) + 1);
  }
  const expected = timeframeMs(timeframe);
  for (const [delta, count] of counts) {
    if (delta !== expected && count * 2 >= steps && count >= 2) return delta;
  }
  return null;
}

function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

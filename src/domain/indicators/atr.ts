/**
 * Average True Range with Wilder's smoothing, as TA-Lib computes it.
 *
 * True range of a bar: max(high - low, |previous close - high|, |previous close - low|). The
 * first bar has no previous close, so TA-Lib gives it no true range at all (it does NOT fall
 * back to high - low): true ranges start at index 1.
 * Seeding: the first ATR is the plain mean of the first `period` true ranges (bars 1..period);
 * after that atr = (atr * (period - 1) + trueRange) / period, in TA-Lib's operation order.
 * Warm-up: the first value is at index `period` (TA-Lib ATR lookback = period); period 1
 * gives the true range itself from index 1. Before that `value` is NaN and `ready` is false.
 * Flat market (high = low = close throughout): 0.
 */
import { requireFiniteInput, requireInteger } from './errors.js';
import { countField, finiteField, snapshotRecord, valueOrZero } from './snapshot-fields.js';

export interface AtrSnapshot {
  readonly kind: 'Atr';
  readonly period: number;
  /** bars seen, counted up to period + 1 */
  readonly count: number;
  readonly previousClose: number;
  /** sum of true ranges during warm-up */
  readonly seedSum: number;
  /** 0 during warm-up */
  readonly value: number;
}

export class Atr {
  readonly lookback: number;
  private count = 0;
  private previousClose = 0;
  private seedSum = 0;
  private current = Number.NaN;

  constructor(readonly period = 14) {
    requireInteger('Atr', 'period', period, 1);
    this.lookback = period;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.count > this.period;
  }

  update(high: number, low: number, close: number): this {
    requireFiniteInput('Atr', high);
    requireFiniteInput('Atr', low);
    requireFiniteInput('Atr', close);
    if (this.count > 0) {
      const trueRange = trueRangeOf(high, low, this.previousClose);
      if (this.count < this.period) {
        this.seedSum += trueRange;
      } else if (this.count === this.period) {
        this.seedSum += trueRange;
        this.current = this.seedSum / this.period;
      } else {
        this.current = (this.current * (this.period - 1) + trueRange) / this.period;
      }
    }
    this.previousClose = close;
    if (this.count <= this.period) this.count++;
    return this;
  }

  reset(): void {
    this.count = 0;
    this.previousClose = 0;
    this.seedSum = 0;
    this.current = Number.NaN;
  }

  snapshot(): AtrSnapshot {
    return {
      kind: 'Atr',
      period: this.period,
      count: this.count,
      previousClose: this.previousClose,
      seedSum: this.seedSum,
      value: valueOrZero(this.current),
    };
  }

  static restore(snapshot: AtrSnapshot): Atr {
    const record = snapshotRecord('Atr', snapshot);
    const atr = new Atr(countField('Atr', record, 'period'));
    atr.count = Math.min(countField('Atr', record, 'count'), atr.period + 1);
    atr.previousClose = finiteField('Atr', record, 'previousClose');
    atr.seedSum = finiteField('Atr', record, 'seedSum');
    atr.current = atr.ready ? finiteField('Atr', record, 'value') : Number.NaN;
    return atr;
  }
}

/** TA-Lib TRANGE, same comparisons in the same order. */
export function trueRangeOf(high: number, low: number, previousClose: number): number {
  let greatest = high - low;
  const fromHigh = Math.abs(previousClose - high);
  if (fromHigh > greatest) greatest = fromHigh;
  const fromLow = Math.abs(previousClose - low);
  if (fromLow > greatest) greatest = fromLow;
  return greatest;
}

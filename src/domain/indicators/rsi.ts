/**
 * Relative Strength Index with Wilder's smoothing, as TA-Lib computes it (classic, not
 * Metastock, mode).
 *
 * Seeding: average gain and average loss start as the plain means of the first `period`
 * price changes; after that avg = (avg * (period - 1) + change) / period, in TA-Lib's order.
 * RSI = 100 * avgGain / (avgGain + avgLoss).
 * Warm-up: `period` changes need period + 1 prices, so the first value is at index `period`
 * (TA-Lib RSI lookback = period). Before that `value` is NaN and `ready` is false.
 *
 * Flat market: with no gain and no loss the ratio is 0/0; TA-Lib returns 0 and so does this
 * (a series flat from the start gives RSI 0, not 50). After a move, a flat stretch leaves the
 * RSI where it was, because both averages decay by the same factor.
 *
 * Deliberate difference: TA-Lib returns 0 whenever avgGain + avgLoss < 1e-14 (an absolute
 * epsilon), which zeroes the RSI of hourly BTC scaled to prices near 1e-13 (286 of 300 bars),
 * and of any asset after a long flat stretch (BTC 1h RSI(14): within 1,000 flat bars). Here
 * only an exact 0 + 0 gives 0, so the RSI does not depend on the price scale (bit for bit
 * when prices are scaled by a power of two; tested).
 */
import { requireFiniteInput, requireInteger } from './errors.js';
import { countField, finiteField, snapshotRecord } from './snapshot-fields.js';

export interface RsiSnapshot {
  readonly kind: 'Rsi';
  readonly period: number;
  /** prices seen, counted up to period + 1 */
  readonly count: number;
  readonly previousPrice: number;
  /** sums during warm-up, Wilder averages after */
  readonly averageGain: number;
  readonly averageLoss: number;
}

export class Rsi {
  readonly lookback: number;
  private count = 0;
  private previousPrice = 0;
  private averageGain = 0;
  private averageLoss = 0;
  private current = Number.NaN;

  constructor(readonly period: number) {
    requireInteger('Rsi', 'period', period, 2);
    this.lookback = period;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.count > this.period;
  }

  update(price: number): this {
    requireFiniteInput('Rsi', price);
    if (this.count === 0) {
      this.previousPrice = price;
      this.count = 1;
      return this;
    }
    const change = price - this.previousPrice;
    this.previousPrice = price;
    if (this.count < this.period) {
      this.accumulate(change);
      this.count++;
    } else if (this.count === this.period) {
      this.accumulate(change);
      this.averageGain /= this.period;
      this.averageLoss /= this.period;
      this.count++;
      this.current = this.rsi();
    } else {
      this.averageGain *= this.period - 1;
      this.averageLoss *= this.period - 1;
      this.accumulate(change);
      this.averageGain /= this.period;
      this.averageLoss /= this.period;
      this.current = this.rsi();
    }
    return this;
  }

  private accumulate(change: number): void {
    // TA-Lib counts a zero change as a gain of 0: same result, same branch.
    if (change < 0) this.averageLoss -= change;
    else this.averageGain += change;
  }

  private rsi(): number {
    const total = this.averageGain + this.averageLoss;
    return total === 0 ? 0 : 100 * (this.averageGain / total);
  }

  reset(): void {
    this.count = 0;
    this.previousPrice = 0;
    this.averageGain = 0;
    this.averageLoss = 0;
    this.current = Number.NaN;
  }

  snapshot(): RsiSnapshot {
    return {
      kind: 'Rsi',
      period: this.period,
      count: this.count,
      previousPrice: this.previousPrice,
      averageGain: this.averageGain,
      averageLoss: this.averageLoss,
    };
  }

  static restore(snapshot: RsiSnapshot): Rsi {
    const record = snapshotRecord('Rsi', snapshot);
    const rsi = new Rsi(countField('Rsi', record, 'period'));
    rsi.count = Math.min(countField('Rsi', record, 'count'), rsi.period + 1);
    rsi.previousPrice = finiteField('Rsi', record, 'previousPrice');
    rsi.averageGain = finiteField('Rsi', record, 'averageGain');
    rsi.averageLoss = finiteField('Rsi', record, 'averageLoss');
    if (rsi.ready) rsi.current = rsi.rsi();
    return rsi;
  }
}

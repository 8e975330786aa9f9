/**
 * Rolling mean, variance and standard deviation of the last `period` values, population form
 * (divide by period), like TA-Lib STDDEV/VAR and the Bollinger Bands' deviation.
 *
 * Warm-up: the first value is at index period - 1 (TA-Lib STDDEV lookback = period - 1).
 * Before that the fields are NaN and `ready` is false.
 *
 * Method: variance = E[x^2] - E[x]^2 from running window sums, like TA-Lib, but:
 * - the sums are compensated (see CompensatedSum), so they do not drift over a long run;
 * - a flat window (all values equal) gives exactly 0 and mean = the price. TA-Lib's running
 *   sums leave a residue there: 1h BTC closes, then 20 bars flat at 4077.77, give TA-Lib
 *   STDDEV(20) = 4.3e-5 instead of 0, and two equal closes give STDDEV(2) > 0;
 * - a negative rounding residue is clamped to 0, but there is no absolute epsilon. TA-Lib
 *   returns 0 whenever variance < 1e-14, i.e. for any standard deviation below 1e-7, which
 *   zeroes the bands of every asset priced around 1e-5. Here stdDev(k * x) = k * stdDev(x).
 * The formula cancels digits when the deviation is tiny next to the price: the relative error
 * of the variance is a few ulps of E[x^2] / variance (about 1e-9 for a 5-bar window of quiet
 * 1-minute BTC). TA-Lib has the same error plus its drift.
 */
import { CompensatedSum, type CompensatedSumSnapshot, readCompensatedSum } from './compensated-sum.js';
import { requireFiniteInput, requireInteger } from './errors.js';
import { SlidingWindow } from './sliding-window.js';
import { countField, finiteArrayField, objectField, snapshotRecord } from './snapshot-fields.js';

export interface RollingStdDevSnapshot {
  readonly kind: 'RollingStdDev';
  readonly period: number;
  /** the last `period` inputs, oldest first */
  readonly window: readonly number[];
  readonly sum: CompensatedSumSnapshot;
  readonly sumOfSquares: CompensatedSumSnapshot;
}

export class RollingStdDev {
  readonly lookback: number;
  private readonly window: SlidingWindow;
  private readonly sum = new CompensatedSum();
  private readonly sumOfSquares = new CompensatedSum();
  private currentMean = Number.NaN;
  private currentVariance = Number.NaN;

  constructor(readonly period: number) {
    requireInteger('RollingStdDev', 'period', period, 2);
    this.lookback = period - 1;
    this.window = new SlidingWindow(period);
  }

  get ready(): boolean {
    return this.window.full;
  }

  get mean(): number {
    return this.currentMean;
  }

  /** population variance */
  get variance(): number {
    return this.currentVariance;
  }

  /** population standard deviation */
  get stdDev(): number {
    return Math.sqrt(this.currentVariance);
  }

  update(x: number): this {
    requireFiniteInput('RollingStdDev', x);
    if (this.window.full) {
      const leaving = this.window.oldest;
      this.sum.add(-leaving);
      this.sumOfSquares.add(-(leaving * leaving));
    }
    this.window.push(x);
    this.sum.add(x);
    this.sumOfSquares.add(x * x);
    if (this.window.full) this.computeMoments();
    return this;
  }

  private computeMoments(): void {
    if (this.window.constant) {
      this.currentMean = this.window.newest;
      this.currentVariance = 0;
      return;
    }
    const mean = this.sum.value / this.period;
    const variance = this.sumOfSquares.value / this.period - mean * mean;
    this.currentMean = mean;
    this.currentVariance = Math.max(variance, 0);
  }

  reset(): void {
    this.window.reset();
    this.sum.reset();
    this.sumOfSquares.reset();
    this.currentMean = Number.NaN;
    this.currentVariance = Number.NaN;
  }

  snapshot(): RollingStdDevSnapshot {
    return {
      kind: 'RollingStdDev',
      period: this.period,
      window: this.window.toArray(),
      sum: this.sum.snapshot(),
      sumOfSquares: this.sumOfSquares.snapshot(),
    };
  }

  static restore(snapshot: RollingStdDevSnapshot): RollingStdDev {
    const kind = 'RollingStdDev';
    const record = snapshotRecord(kind, snapshot);
    const stats = new RollingStdDev(countField(kind, record, 'period'));
    stats.window.refill(finiteArrayField(kind, record, 'window', stats.period));
    stats.sum.restoreFrom(readCompensatedSum(kind, objectField(kind, record, 'sum')));
    stats.sumOfSquares.restoreFrom(readCompensatedSum(kind, objectField(kind, record, 'sumOfSquares')));
    if (stats.window.full) stats.computeMoments();
    return stats;
  }
}

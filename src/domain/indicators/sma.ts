/**
 * Simple moving average: the mean of the last `period` values.
 *
 * Warm-up: the first value is at index period - 1 (TA-Lib SMA lookback = period - 1).
 * Before that `value` is NaN and `ready` is false.
 *
 * Differences from TA-Lib, all below 1e-12 relative:
 * - the running window sum is compensated (see CompensatedSum) where TA-Lib's drifts;
 * - on a flat window the value is exactly the price (TA-Lib: 0.1 gives 0.1 + 1.4e-17).
 */
import { CompensatedSum, type CompensatedSumSnapshot, readCompensatedSum } from './compensated-sum.js';
import { requireFiniteInput, requireInteger } from './errors.js';
import { SlidingWindow } from './sliding-window.js';
import { countField, finiteArrayField, objectField, snapshotRecord } from './snapshot-fields.js';

export interface SmaSnapshot {
  readonly kind: 'Sma';
  readonly period: number;
  /** the last `period` inputs, oldest first */
  readonly window: readonly number[];
  readonly sum: CompensatedSumSnapshot;
}

export class Sma {
  /** index of the first value: `ready` after lookback + 1 updates */
  readonly lookback: number;
  private readonly window: SlidingWindow;
  private readonly sum = new CompensatedSum();
  private current = Number.NaN;

  constructor(readonly period: number) {
    requireInteger('Sma', 'period', period, 2);
    this.lookback = period - 1;
    this.window = new SlidingWindow(period);
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.window.full;
  }

  update(x: number): this {
    requireFiniteInput('Sma', x);
    if (this.window.full) this.sum.add(-this.window.oldest);
    this.window.push(x);
    this.sum.add(x);
    if (this.window.full) this.current = this.window.constant ? x : this.sum.value / this.period;
    return this;
  }

  reset(): void {
    this.window.reset();
    this.sum.reset();
    this.current = Number.NaN;
  }

  snapshot(): SmaSnapshot {
    return { kind: 'Sma', period: this.period, window: this.window.toArray(), sum: this.sum.snapshot() };
  }

  static restore(snapshot: SmaSnapshot): Sma {
    const record = snapshotRecord('Sma', snapshot);
    const sma = new Sma(countField('Sma', record, 'period'));
    sma.window.refill(finiteArrayField('Sma', record, 'window', sma.period));
    sma.sum.restoreFrom(readCompensatedSum('Sma', objectField('Sma', record, 'sum')));
    if (sma.window.full) {
      sma.current = sma.window.constant ? sma.window.newest : sma.sum.value / sma.period;
    }
    return sma;
  }
}

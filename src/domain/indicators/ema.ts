/**
 * Exponential moving average, as TA-Lib computes it (default compatibility mode).
 *
 * Seeding: the first value is the SMA of the first `period` inputs; after that
 * value = (x - value) * k + value with k = 2 / (period + 1), in exactly TA-Lib's operation order.
 * The seed is accumulated as a running mean (m += (x - m) / i) rather than TA-Lib's sum / n:
 * the same to ~1e-15, and exact on a flat market, where TA-Lib's sum of twelve 0.00001234
 * divided by 12 is 0.000012340000000000006. So EMAs of a flat series equal the price and each
 * other, and an EMA crossover or a MACD sees no phantom signal there.
 * Warm-up: the first value is at index period - 1 (TA-Lib EMA lookback = period - 1).
 * Before that `value` is NaN and `ready` is false.
 */
import { requireFiniteInput, requireInteger } from './errors.js';
import { countField, finiteField, snapshotRecord, valueOrZero } from './snapshot-fields.js';

export interface EmaSnapshot {
  readonly kind: 'Ema';
  readonly period: number;
  /** inputs seen, counted up to `period` (after warm-up only "reached period" matters) */
  readonly count: number;
  /** running mean of the inputs during warm-up (the SMA seed) */
  readonly seedMean: number;
  /** 0 during warm-up */
  readonly value: number;
}

export class Ema {
  readonly lookback: number;
  /** the smoothing factor 2 / (period + 1) */
  readonly k: number;
  private count = 0;
  private seedMean = 0;
  private current = Number.NaN;

  constructor(readonly period: number) {
    requireInteger('Ema', 'period', period, 2);
    this.lookback = period - 1;
    this.k = 2 / (period + 1);
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  update(x: number): this {
    requireFiniteInput('Ema', x);
    if (this.count < this.period) {
      this.seedMean += (x - this.seedMean) / (this.count + 1);
      if (this.count + 1 === this.period) this.current = this.seedMean;
    } else {
      this.current = (x - this.current) * this.k + this.current;
    }
    // Saturate: past warm-up the count no longer matters, and it must not grow without bound.
    if (this.count < this.period) this.count++;
    return this;
  }

  reset(): void {
    this.count = 0;
    this.seedMean = 0;
    this.current = Number.NaN;
  }

  snapshot(): EmaSnapshot {
    return {
      kind: 'Ema',
      period: this.period,
      count: this.count,
      seedMean: this.seedMean,
      value: valueOrZero(this.current),
    };
  }

  static restore(snapshot: EmaSnapshot): Ema {
    const record = snapshotRecord('Ema', snapshot);
    const ema = new Ema(countField('Ema', record, 'period'));
    ema.count = Math.min(countField('Ema', record, 'count'), ema.period);
    ema.seedMean = finiteField('Ema', record, 'seedMean');
    ema.current = ema.ready ? finiteField('Ema', record, 'value') : Number.NaN;
    return ema;
  }
}

/**
 * Bollinger Bands: middle = SMA(period), upper/lower = middle +/- k * population standard
 * deviation of the same window. Same as TA-Lib BBANDS with MAType SMA and nbDevUp = nbDevDn = k.
 *
 * Warm-up: the first value is at index period - 1 (TA-Lib BBANDS lookback = period - 1).
 * Before that the fields are NaN and `ready` is false.
 * Flat window: upper = middle = lower = the price exactly (TA-Lib can leave a band width of
 * 1.7e-4 after a move, and collapses the bands of assets priced near 1e-5; see RollingStdDev).
 */
import { requireFiniteInput, requireInteger, requirePositiveFinite } from './errors.js';
import { RollingStdDev, type RollingStdDevSnapshot } from './rolling-std-dev.js';
import { finiteField, objectField, snapshotRecord } from './snapshot-fields.js';

export interface BollingerSnapshot {
  readonly kind: 'Bollinger';
  readonly k: number;
  readonly stats: RollingStdDevSnapshot;
}

export class Bollinger {
  readonly lookback: number;
  /** not readonly only so that restore() can put the resumed state in */
  private stats: RollingStdDev;
  private currentMiddle = Number.NaN;
  private currentUpper = Number.NaN;
  private currentLower = Number.NaN;

  constructor(
    readonly period = 20,
    readonly k = 2,
  ) {
    requireInteger('Bollinger', 'period', period, 2);
    requirePositiveFinite('Bollinger', 'k', k);
    this.stats = new RollingStdDev(period);
    this.lookback = this.stats.lookback;
  }

  get ready(): boolean {
    return this.stats.ready;
  }

  get middle(): number {
    return this.currentMiddle;
  }

  get upper(): number {
    return this.currentUpper;
  }

  get lower(): number {
    return this.currentLower;
  }

  /** population standard deviation of the window (half the band width divided by k) */
  get stdDev(): number {
    return this.stats.stdDev;
  }

  update(x: number): this {
    requireFiniteInput('Bollinger', x);
    this.stats.update(x);
    if (this.stats.ready) this.computeBands();
    return this;
  }

  private computeBands(): void {
    // TA-Lib multiplies once and adds/subtracts the same product.
    const halfWidth = this.stats.stdDev * this.k;
    this.currentMiddle = this.stats.mean;
    this.currentUpper = this.currentMiddle + halfWidth;
    this.currentLower = this.currentMiddle - halfWidth;
  }

  reset(): void {
    this.stats.reset();
    this.currentMiddle = Number.NaN;
    this.currentUpper = Number.NaN;
    this.currentLower = Number.NaN;
  }

  snapshot(): BollingerSnapshot {
    return { kind: 'Bollinger', k: this.k, stats: this.stats.snapshot() };
  }

  static restore(snapshot: BollingerSnapshot): Bollinger {
    const record = snapshotRecord('Bollinger', snapshot);
    const stats = RollingStdDev.restore(objectField('Bollinger', record, 'stats') as RollingStdDevSnapshot);
    const bands = new Bollinger(stats.period, finiteField('Bollinger', record, 'k'));
    bands.stats = stats;
    if (stats.ready) bands.computeBands();
    return bands;
  }
}

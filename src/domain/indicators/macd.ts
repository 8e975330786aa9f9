/**
 * MACD as TA-Lib computes it: macd = EMA(fast) - EMA(slow), signal = EMA(signalPeriod) of macd,
 * histogram = macd - signal. Every EMA is seeded with an SMA (see Ema).
 *
 * TA-Lib quirk, matched: the fast EMA is not seeded on the first `fast` prices. TA-Lib starts it
 * late so that its seed ends on the same bar as the slow EMA's: with 12/26/9 the slow EMA is
 * the SMA of prices 0..25 at index 25 and the fast EMA is the SMA of prices 14..25 (not 0..11),
 * both at index 25. Seeding the fast EMA on prices 0..11 instead moves the first outputs by far
 * more than 1e-9 (tested).
 * Warm-up: macd exists from index slow - 1, the signal needs signalPeriod of those, so the
 * first output (all three fields) is at index slow + signalPeriod - 2 = 33 for 12/26/9
 * (TA-Lib MACD lookback). Before that the fields are NaN and `ready` is false.
 *
 * On a flat market macd, signal and histogram are exactly 0 (TA-Lib: macd = -4.2e-17 at price
 * 0.1, a rounding residue of its two SMA seeds; see Ema).
 *
 * Parameters, stricter than TA-Lib: fast must be < slow (TA-Lib silently swaps them), and the
 * signal period must be >= 2. TA-Lib accepts signal period 1 but is broken there: its EMA
 * lookback for period 1 is -1, so the output starts one bar early with an uninitialised value
 * (4e-322) and every later value is shifted by one bar.
 */
import { Ema, type EmaSnapshot } from './ema.js';
import { IndicatorParameterError, requireFiniteInput, requireInteger } from './errors.js';
import { countField, objectField, snapshotRecord } from './snapshot-fields.js';

export interface MacdSnapshot {
  readonly kind: 'Macd';
  /** prices seen, counted up to the first output */
  readonly count: number;
  readonly fast: EmaSnapshot;
  readonly slow: EmaSnapshot;
  readonly signal: EmaSnapshot;
}

export class Macd {
  readonly lookback: number;
  /** not readonly only so that restore() can put the resumed state in */
  private fastEma: Ema;
  private slowEma: Ema;
  private signalEma: Ema;
  private count = 0;
  private currentMacd = Number.NaN;
  private currentSignal = Number.NaN;
  private currentHistogram = Number.NaN;

  constructor(
    readonly fastPeriod = 12,
    readonly slowPeriod = 26,
    readonly signalPeriod = 9,
  ) {
    requireInteger('Macd', 'fastPeriod', fastPeriod, 2);
    requireInteger('Macd', 'slowPeriod', slowPeriod, 2);
    requireInteger('Macd', 'signalPeriod', signalPeriod, 2);
    if (fastPeriod >= slowPeriod) {
      throw new IndicatorParameterError(
        'Macd',
        `fastPeriod ${fastPeriod} must be below slowPeriod ${slowPeriod}`,
      );
    }
    this.fastEma = new Ema(fastPeriod);
    this.slowEma = new Ema(slowPeriod);
    this.signalEma = new Ema(signalPeriod);
    this.lookback = slowPeriod - 1 + signalPeriod - 1;
  }

  get ready(): boolean {
    return this.signalEma.ready;
  }

  get macd(): number {
    return this.currentMacd;
  }

  get signal(): number {
    return this.currentSignal;
  }

  get histogram(): number {
    return this.currentHistogram;
  }

  update(price: number): this {
    requireFiniteInput('Macd', price);
    const index = this.count;
    if (this.count <= this.lookback) this.count++;
    this.slowEma.update(price);
    // The fast EMA's seed window ends where the slow one's does (TA-Lib alignment, see above).
    if (index >= this.slowPeriod - this.fastPeriod) this.fastEma.update(price);
    if (!this.slowEma.ready) return this;
    const macd = this.fastEma.value - this.slowEma.value;
    this.signalEma.update(macd);
    if (this.signalEma.ready) {
      this.currentMacd = macd;
      this.currentSignal = this.signalEma.value;
      this.currentHistogram = macd - this.currentSignal;
    }
    return this;
  }

  reset(): void {
    this.fastEma.reset();
    this.slowEma.reset();
    this.signalEma.reset();
    this.count = 0;
    this.currentMacd = Number.NaN;
    this.currentSignal = Number.NaN;
    this.currentHistogram = Number.NaN;
  }

  snapshot(): MacdSnapshot {
    return {
      kind: 'Macd',
      count: this.count,
      fast: this.fastEma.snapshot(),
      slow: this.slowEma.snapshot(),
      signal: this.signalEma.snapshot(),
    };
  }

  static restore(snapshot: MacdSnapshot): Macd {
    const record = snapshotRecord('Macd', snapshot);
    const fast = Ema.restore(objectField('Macd', record, 'fast') as EmaSnapshot);
    const slow = Ema.restore(objectField('Macd', record, 'slow') as EmaSnapshot);
    const signal = Ema.restore(objectField('Macd', record, 'signal') as EmaSnapshot);
    const macd = new Macd(fast.period, slow.period, signal.period);
    macd.fastEma = fast;
    macd.slowEma = slow;
    macd.signalEma = signal;
    macd.count = Math.min(countField('Macd', record, 'count'), macd.lookback + 1);
    if (signal.ready) {
      macd.currentMacd = fast.value - slow.value;
      macd.currentSignal = signal.value;
      macd.currentHistogram = macd.currentMacd - macd.currentSignal;
    }
    return macd;
  }
}

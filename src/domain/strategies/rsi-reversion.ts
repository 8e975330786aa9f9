/**
 * rsi-reversion: long when the RSI falls below `lower`, exit when it rises above `upper`.
 *
 * Signals fire when the RSI enters a zone, not on every candle inside it: long on the first
 * candle with RSI < lower after one with RSI >= lower (or the first RSI value, if already
 * below), exit likewise above `upper`. A long refused by the risk manager is therefore not
 * asked again until the RSI has left the zone and come back. RSI is TA-Lib's (Wilder, first
 * value at index `period`). Confidence is 1: the rule has no calibrated probability.
 */
import { Rsi, type RsiSnapshot } from '../indicators/rsi.js';
import {
  type CandleBar,
  requirePeriod,
  type Signal,
  StrategyConfigError,
  type StrategyDefinition,
  type StrategyInstance,
  StrategySnapshotError,
  snapshotObject,
} from './strategy.js';

const NAME = 'rsi-reversion';
const VERSION = '1';

export interface RsiReversionParams {
  period: number;
  lower: number;
  upper: number;
}

interface RsiReversionSnapshot {
  strategy: typeof NAME;
  version: typeof VERSION;
  rsi: RsiSnapshot;
  belowLower: boolean;
  aboveUpper: boolean;
  /** RSI at the previous candle; null before the first value */
  previousRsi: number | null;
}

class RsiReversion implements StrategyInstance {
  private belowLower = false;
  private aboveUpper = false;
  private previousRsi = Number.NaN;

  constructor(
    private readonly rsi: Rsi,
    private readonly lower: number,
    private readonly upper: number,
  ) {}

  update(candle: CandleBar): Signal | null {
    if (!this.rsi.update(candle.close).ready) return null;
    const rsi = this.rsi.value;
    const previous = this.previousRsi;
    this.previousRsi = rsi;
    const below = rsi < this.lower;
    const above = rsi > this.upper;
    const enteredBelow = below && !this.belowLower;
    const enteredAbove = above && !this.aboveUpper;
    this.belowLower = below;
    this.aboveUpper = above;
    if (enteredBelow) return this.signal('long', rsi, previous, candle.close);
    if (enteredAbove) return this.signal('exit', rsi, previous, candle.close);
    return null;
  }

  private signal(direction: 'long' | 'exit', rsi: number, previous: number, close: number): Signal {
    const indicators: Record<string, number> = { rsi, lower: this.lower, upper: this.upper, close };
    if (!Number.isNaN(previous)) indicators.previousRsi = previous;
    return { direction, confidence: 1, indicators };
  }

  snapshot(): RsiReversionSnapshot {
    return {
      strategy: NAME,
      version: VERSION,
      rsi: this.rsi.snapshot(),
      belowLower: this.belowLower,
      aboveUpper: this.aboveUpper,
      previousRsi: Number.isNaN(this.previousRsi) ? null : this.previousRsi,
    };
  }

  static restore(snapshot: unknown, lower: number, upper: number): RsiReversion {
    const record = snapshotObject(NAME, snapshot, VERSION);
    const strategy = new RsiReversion(Rsi.restore(record.rsi as RsiSnapshot), lower, upper);
    if (typeof record.belowLower !== 'boolean' || typeof record.aboveUpper !== 'boolean') {
      throw new StrategySnapshotError(NAME, 'belowLower and aboveUpper must be booleans');
    }
    const previous = record.previousRsi;
    if (previous !== null && !(typeof previous === 'number' && Number.isFinite(previous))) {
      throw new StrategySnapshotError(NAME, 'previousRsi must be a finite number or null');
    }
    strategy.belowLower = record.belowLower;
    strategy.aboveUpper = record.aboveUpper;
    strategy.previousRsi = previous === null ? Number.NaN : previous;
    return strategy;
  }
}

export function rsiReversion(params: Partial<RsiReversionParams> = {}): StrategyDefinition {
  const period = requirePeriod(NAME, 'period', params.period ?? 14);
  const lower = params.lower ?? 30;
  const upper = params.upper ?? 70;
  if (!(lower > 0 && lower < upper && upper < 100)) {
    throw new StrategyConfigError(NAME, `need 0 < lower < upper < 100, got lower ${lower}, upper ${upper}`);
  }
  return {
    name: NAME,
    version: VERSION,
    params: { period, lower, upper },
    create: () => new RsiReversion(new Rsi(period), lower, upper),
    restore: (snapshot) => {
      const strategy = RsiReversion.restore(snapshot, lower, upper);
      if ((snapshot as RsiReversionSnapshot).rsi.period !== period) {
        throw new StrategySnapshotError(
          NAME,
          `RSI period ${(snapshot as RsiReversionSnapshot).rsi.period}, expected ${period}`,
        );
      }
      return strategy;
    },
  };
}

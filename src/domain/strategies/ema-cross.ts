/**
 * ema-cross: long on a golden cross, exit on a death cross of two EMAs of the close.
 *
 * A cross happens on candle t when the sign of fast - slow changes against candle t - 1:
 * golden when fast - slow > 0 at t and <= 0 at t - 1; death when < 0 at t and >= 0 at t - 1
 * (freqtrade's crossed_above / crossed_below). Both EMAs must have a value at t - 1, so the first
 * possible signal is at index `slow` (EMAs are TA-Lib's, seeded with the SMA of the first n).
 * Confidence is 1: the rule is deterministic and has no calibrated probability.
 */
import { Ema, type EmaSnapshot } from '../indicators/ema.js';
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

const NAME = 'ema-cross';
const VERSION = '1';

export interface EmaCrossParams {
  fast: number;
  slow: number;
}

interface EmaCrossSnapshot {
  strategy: typeof NAME;
  version: typeof VERSION;
  fast: EmaSnapshot;
  slow: EmaSnapshot;
  /** fast - slow at the previous candle; null before both EMAs had a value */
  previousSpread: number | null;
}

class EmaCross implements StrategyInstance {
  private previousSpread = Number.NaN;

  constructor(
    private readonly fast: Ema,
    private readonly slow: Ema,
  ) {}

  update(candle: CandleBar): Signal | null {
    const fast = this.fast.update(candle.close).value;
    const slow = this.slow.update(candle.close).value;
    if (!this.slow.ready || !this.fast.ready) return null;
    const spread = fast - slow;
    const previous = this.previousSpread;
    this.previousSpread = spread;
    if (Number.isNaN(previous)) return null;
    if (spread > 0 && previous <= 0) return this.signal('long', fast, slow, previous, candle.close);
    if (spread < 0 && previous >= 0) return this.signal('exit', fast, slow, previous, candle.close);
    return null;
  }

  private signal(
    direction: 'long' | 'exit',
    fast: number,
    slow: number,
    previousSpread: number,
    close: number,
  ): Signal {
    return {
      direction,
      confidence: 1,
      indicators: { emaFast: fast, emaSlow: slow, spread: fast - slow, previousSpread, close },
    };
  }

  snapshot(): EmaCrossSnapshot {
    return {
      strategy: NAME,
      version: VERSION,
      fast: this.fast.snapshot(),
      slow: this.slow.snapshot(),
      previousSpread: Number.isNaN(this.previousSpread) ? null : this.previousSpread,
    };
  }

  static restore(snapshot: unknown): EmaCross {
    const record = snapshotObject(NAME, snapshot, VERSION);
    const strategy = new EmaCross(
      Ema.restore(record.fast as EmaSnapshot),
      Ema.restore(record.slow as EmaSnapshot),
    );
    const previous = record.previousSpread;
    if (previous !== null && !(typeof previous === 'number' && Number.isFinite(previous))) {
      throw new StrategySnapshotError(NAME, 'previousSpread must be a finite number or null');
    }
    strategy.previousSpread = previous === null ? Number.NaN : previous;
    return strategy;
  }
}

export function emaCross(params: Partial<EmaCrossParams> = {}): StrategyDefinition {
  const fast = requirePeriod(NAME, 'fast', params.fast ?? 12);
  const slow = requirePeriod(NAME, 'slow', params.slow ?? 26);
  if (fast >= slow) throw new StrategyConfigError(NAME, `fast (${fast}) must be shorter than slow (${slow})`);
  return {
    name: NAME,
    version: VERSION,
    params: { fast, slow },
    create: () => new EmaCross(new Ema(fast), new Ema(slow)),
    restore: (snapshot) => {
      const strategy = EmaCross.restore(snapshot);
      const record = snapshot as EmaCrossSnapshot;
      if (record.fast.period !== fast || record.slow.period !== slow) {
        throw new StrategySnapshotError(
          NAME,
          `periods ${record.fast.period}/${record.slow.period}, expected ${fast}/${slow}`,
        );
      }
      return strategy;
    },
  };
}

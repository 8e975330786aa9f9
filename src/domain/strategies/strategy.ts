/**
 * The strategy interface: state + closed candle → signal.
 *
 * A StrategyDefinition is a named, versioned rule with its parameters; the kernel creates one
 * instance per symbol and feeds it that symbol's closed candles in time order. Instances are
 * deterministic state machines: same candles, same signals. The version goes into every
 * SignalEmitted, so change it whenever the rule changes what it emits.
 */
import { TradekernelError } from '../errors.js';
import type { SignalDirection } from './events.js';

/** A closed candle as strategies see it (CandleClosed's data fits this shape). */
export interface CandleBar {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export interface Signal {
  readonly direction: SignalDirection;
  /** 0..1 */
  readonly confidence: number;
  /** the indicator values the rule compared (finite numbers only) */
  readonly indicators: Readonly<Record<string, number>>;
  /** for strategies that forecast: expected return (fraction) over horizonMs */
  readonly expectedReturn?: number;
  readonly horizonMs?: number;
}

export interface StrategyInstance {
  /**
   * Feeds one closed candle. Returns the signal when the rule fires, else null. Called for every
   * candle, so the null path must not allocate.
   */
  update(candle: CandleBar): Signal | null;
  /** JSON-safe state; the definition's restore() resumes from it. */
  snapshot(): unknown;
}

export interface StrategyDefinition {
  /** kebab-case, e.g. ema-cross */
  readonly name: string;
  readonly version: string;
  readonly params: Readonly<Record<string, number>>;
  /** A fresh instance for one symbol (the kernel makes one per symbol it trades). */
  create(symbol: string): StrategyInstance;
  restore(snapshot: unknown, symbol: string): StrategyInstance;
}

export class StrategyConfigError extends TradekernelError {
  constructor(strategy: string, detail: string) {
    super(`${strategy}: ${detail}`, 'invalid_strategy_config');
  }
}

export class StrategySnapshotError extends TradekernelError {
  constructor(strategy: string, detail: string) {
    super(
      `${strategy} snapshot: ${detail}`,
      'invalid_strategy_snapshot',
      'the saved state is damaged or belongs to another strategy version: rebuild it by replaying candles',
    );
  }
}

export function requirePeriod(strategy: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 2 || value > 100_000) {
    throw new StrategyConfigError(strategy, `${name} must be an integer from 2 to 100000, got ${value}`);
  }
  return value;
}

export function snapshotObject(
  strategy: string,
  snapshot: unknown,
  version: string,
): Record<string, unknown> {
  if (typeof snapshot !== 'object' || snapshot === null)
    throw new StrategySnapshotError(strategy, 'expected an object');
  const record = snapshot as Record<string, unknown>;
  if (record.strategy !== strategy || record.version !== version) {
    throw new StrategySnapshotError(
      strategy,
      `it is ${String(record.strategy)} version ${String(record.version)}, not ${strategy} version ${version}`,
    );
  }
  return record;
}

/** Strategies: one small interface (state + closed candle → signal) and the built-in rules. */
import { emaCross } from './ema-cross.js';
import { rsiReversion } from './rsi-reversion.js';
import { StrategyConfigError, type StrategyDefinition } from './strategy.js';

export { type EmaCrossParams, emaCross } from './ema-cross.js';
export {
  SIGNAL_DIRECTIONS,
  type SignalDirection,
  SignalEmitted,
  type SignalEmittedData,
  strategyEvents,
} from './events.js';
export { type RsiReversionParams, rsiReversion } from './rsi-reversion.js';
export {
  type CandleBar,
  type Signal,
  StrategyConfigError,
  type StrategyDefinition,
  type StrategyInstance,
  StrategySnapshotError,
} from './strategy.js';

const BUILT_IN: Record<string, (params: Record<string, number>) => StrategyDefinition> = {
  'ema-cross': emaCross,
  'rsi-reversion': rsiReversion,
};

export const BUILT_IN_STRATEGY_NAMES = Object.keys(BUILT_IN);

/** A built-in strategy by name (what a CLI's --strategy takes), with parameter overrides. */
export function builtInStrategy(name: string, params: Record<string, number> = {}): StrategyDefinition {
  const make = BUILT_IN[name];
  if (!make) {
    throw new StrategyConfigError(name, `no such strategy; built in: ${BUILT_IN_STRATEGY_NAMES.join(', ')}`);
  }
  const definition = make(params);
  const unknown = Object.keys(params).filter((key) => !Object.hasOwn(definition.params, key));
  if (unknown.length > 0) {
    throw new StrategyConfigError(
      name,
      `unknown parameter ${unknown.join(', ')}; it takes ${Object.keys(definition.params).join(', ')}`,
    );
  }
  return definition;
}

/**
 * Test support: a strategy that emits whatever a script says, so kernel tests control exactly
 * when signals happen (by candle open time, or by a function of the candle).
 */
import type { CandleBar, Signal, StrategyDefinition, StrategyInstance } from '../../strategies/strategy.js';

/** index: the candle's position among this symbol's candles */
export type Script = (candle: CandleBar, index: number, symbol: string) => 'long' | 'exit' | null;

export function scriptedStrategy(
  script: Script | Record<number, 'long' | 'exit'>,
  name = 'scripted',
): StrategyDefinition {
  const decide: Script = typeof script === 'function' ? script : (candle) => script[candle.openTime] ?? null;
  const create = (symbol: string, seen = 0): StrategyInstance => {
    let index = seen;
    return {
      update(candle: CandleBar): Signal | null {
        const direction = decide(candle, index++, symbol);
        return direction === null ? null : { direction, confidence: 1, indicators: { close: candle.close } };
      },
      snapshot: () => ({ seen: index }),
    };
  };
  return {
    name,
    version: '1',
    params: {},
    create: (symbol) => create(symbol),
    restore: (snapshot, symbol) => create(symbol, (snapshot as { seen: number }).seen),
  };
}

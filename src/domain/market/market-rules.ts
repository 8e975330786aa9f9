import { newEvent } from '../events/catalogue.js';
import type { NewEvent } from '../events/envelope.js';
import { deterministicId } from '../events/ids.js';
import type { MarketEventContext } from './candle-events.js';
import { MarketRulesObserved, type MarketRulesObservedData } from './events.js';

/**
 * An exchange's trading rules for one symbol as a MarketRulesObserved event. A market's rules
 * stream (marketRulesStream) holds one event per change: a download observes the rules each
 * time, and appends only when they differ from the last ones recorded.
 */

/** The rules themselves, without the market they belong to. */
export type ObservedMarketRules = Omit<MarketRulesObservedData, 'exchange' | 'symbol'>;

export function sameMarketRules(a: ObservedMarketRules, b: ObservedMarketRules): boolean {
  return (
    a.amountStep === b.amountStep &&
    a.priceStep === b.priceStep &&
    a.minAmount === b.minAmount &&
    a.minNotional === b.minNotional
  );
}

/**
 * The event for the `revision`-th entry of a market's rules stream, observed at `observedAt`
 * (epoch ms, its occurredAt). The id names the market and the entry: two downloads that see
 * the same change at once derive the same id, and the stream's expected revision lets only one
 * of them append it.
 */
export function marketRulesEvent(
  market: { exchange: string; symbol: string },
  rules: ObservedMarketRules,
  observedAt: number,
  revision: number,
  context: MarketEventContext = {},
): NewEvent<'MarketRulesObserved', MarketRulesObservedData> {
  const { exchange, symbol } = market;
  return newEvent(
    MarketRulesObserved,
    deterministicId(observedAt, 'MarketRulesObserved', exchange, symbol, revision),
    {
      exchange,
      symbol,
      amountStep: rules.amountStep,
      priceStep: rules.priceStep,
      minAmount: rules.minAmount,
      minNotional: rules.minNotional,
    },
    { ...context, occurredAt: observedAt },
  );
}

import { WrongExpectedRevisionError } from '../domain/errors.js';
import type { MarketEventContext } from '../domain/market/candle-events.js';
import {
  MarketRulesObserved,
  type MarketRulesObservedData,
  marketRulesStream,
} from '../domain/market/events.js';
import {
  marketRulesEvent,
  type ObservedMarketRules,
  sameMarketRules,
} from '../domain/market/market-rules.js';
import type { EventStore } from '../domain/ports/event-store.js';

/**
 * Records a market's trading rules as observed now: a MarketRulesObserved event in the market's
 * rules stream when they differ from the last recorded ones (or none are recorded), nothing
 * when they are the same. So the stream holds one event per change, however often it is
 * observed, and a download run twice records the rules once.
 */

export interface RecordRulesResult {
  /** true when this call appended a MarketRulesObserved event */
  recorded: boolean;
  stream: string;
}

/** Another process may record the same change at the same moment: re-read and compare again. */
const ATTEMPTS = 3;

export async function recordMarketRules(
  store: EventStore,
  market: { exchange: string; symbol: string },
  rules: ObservedMarketRules,
  observedAt: number,
  context: MarketEventContext = {},
): Promise<RecordRulesResult> {
  const stream = marketRulesStream(market.exchange, market.symbol);
  for (let attempt = 1; ; attempt++) {
    const { revision, last } = await lastRules(store, stream);
    if (last !== null && sameMarketRules(last, rules)) return { recorded: false, stream };
    const event = marketRulesEvent(market, rules, observedAt, revision + 1, context);
    try {
      await store.append(stream, [event], revision);
      return { recorded: true, stream };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt === ATTEMPTS) throw error;
    }
  }
}

/** The rules stream's revision (-1: none yet) and its last rules. */
async function lastRules(
  store: EventStore,
  stream: string,
): Promise<{ revision: number; last: MarketRulesObservedData | null }> {
  for await (const event of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) {
    const last = event.type === MarketRulesObserved.type ? (event.data as MarketRulesObservedData) : null;
    return { revision: event.revision, last };
  }
  return { revision: -1, last: null };
}

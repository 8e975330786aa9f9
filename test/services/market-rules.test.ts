import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketRulesStream } from '../../src/domain/market/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { recordMarketRules } from '../../src/services/market-rules-recorder.js';
import { backends } from '../support/backends.js';
import { testCatalogue } from '../support/test-events.js';
import { readMarket, uniqueExchange } from './support.js';

const BTC_RULES = { amountStep: 0.00001, priceStep: 0.01, minAmount: 0.00001, minNotional: 5 };
const T0 = Date.UTC(2024, 0, 1);

for (const backend of backends.filter((b) => b.name !== 'esdb')) {
  describe.skipIf(backend.skipReason !== null)(`recording market rules (${backend.name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => close?.());

    it('appends once per change; two observers of the same change record it once', async () => {
      const market = { exchange: uniqueExchange(), symbol: 'BTC/USDT' };
      const stream = marketRulesStream(market.exchange, market.symbol);
      const results = await Promise.all([
        recordMarketRules(store, market, BTC_RULES, T0),
        recordMarketRules(store, market, BTC_RULES, T0 + 1),
      ]);
      expect(results.map((r) => r.recorded).sort()).toEqual([false, true]);
      expect(await readMarket(store, stream)).toHaveLength(1);

      expect((await recordMarketRules(store, market, { ...BTC_RULES }, T0 + 2)).recorded).toBe(false);
      expect(
        (await recordMarketRules(store, market, { ...BTC_RULES, priceStep: 0.1 }, T0 + 3)).recorded,
      ).toBe(true);
      // Back to the first rules: a change too, recorded as a third fact.
      expect((await recordMarketRules(store, market, BTC_RULES, T0 + 4)).recorded).toBe(true);
      const events = await readMarket(store, stream);
      expect(events.map((e) => [(e.data as typeof BTC_RULES).priceStep, e.metadata.occurredAt])).toEqual([
        [0.01, expect.any(Number)],
        [0.1, T0 + 3],
        [0.01, T0 + 4],
      ]);
      expect(new Set(events.map((e) => e.id)).size).toBe(3);
    });
  });
}

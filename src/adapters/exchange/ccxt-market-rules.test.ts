import { describe, expect, it } from 'vitest';
import { CCXT_DECIMAL_PLACES, CCXT_TICK_SIZE, rulesOfCcxtMarket } from './ccxt-market-rules.js';

/** ccxt's SIGNIFICANT_DIGITS mode (no fixed step). */
const CCXT_SIGNIFICANT_DIGITS = 3;

describe('rulesOfCcxtMarket', () => {
  it('reads steps as they are in TICK_SIZE mode (Binance BTC/USDT)', () => {
    const market = {
      precision: { amount: 0.00001, price: 0.01 },
      limits: { amount: { min: 0.00001, max: 9000 }, cost: { min: 5, max: 9_000_000 } },
    };
    expect(rulesOfCcxtMarket(market, CCXT_TICK_SIZE)).toEqual({
      amountStep: 0.00001,
      priceStep: 0.01,
      minAmount: 0.00001,
      minNotional: 5,
    });
  });

  it('turns decimal places into steps, and missing minimums into 0', () => {
    const market = { precision: { amount: 8, price: 1 }, limits: { amount: {}, cost: {} } };
    expect(rulesOfCcxtMarket(market, CCXT_DECIMAL_PLACES)).toEqual({
      amountStep: 1e-8,
      priceStep: 0.1,
      minAmount: 0,
      minNotional: 0,
    });
  });

  it('reports no rules rather than invented ones', () => {
    const precise = { precision: { amount: 4, price: 5 } };
    expect(rulesOfCcxtMarket(precise, CCXT_SIGNIFICANT_DIGITS)).toBeNull();
    expect(rulesOfCcxtMarket({ precision: { price: 0.01 } }, CCXT_TICK_SIZE)).toBeNull();
    expect(rulesOfCcxtMarket({ precision: { amount: 0, price: 0.01 } }, CCXT_TICK_SIZE)).toBeNull();
    expect(
      rulesOfCcxtMarket(
        { precision: { amount: 1, price: 1 }, limits: { cost: { min: -1 } } },
        CCXT_TICK_SIZE,
      ),
    ).toBeNull();
  });
});

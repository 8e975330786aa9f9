import { describe, expect, it } from 'vitest';
import { marketGrid } from '../execution/market-rules.js';
import { kellySizing, type RiskConfig, type RiskRules, riskNone } from './config.js';
import { decideEntry, type EntryRequest } from './entry-decision.js';
import { emptyTradeStats } from './kelly.js';

/** Price 100, ATR 2 (stop distance 4 at 2 x ATR), equity and cash 10 000, no fee. */
const base: EntryRequest = {
  price: 100,
  atr: 2,
  equity: 10_000,
  freeCash: 10_000,
  feeRate: 0,
  openPositions: 0,
  symbolBusy: false,
  assetExposure: 0,
  heat: 0,
  drawdown: 0,
  block: null,
  correlation: null,
  tradeStats: emptyTradeStats(),
  grid: marketGrid({ amountStep: 0.001, priceStep: 0.01, minAmount: 0, minNotional: 0 }),
};

function config(fraction: number, rules: Partial<RiskRules> = {}): RiskConfig {
  const none = riskNone(fraction);
  return { ...none, rules: { ...none.rules, ...rules } };
}

const stop = { stopLoss: { enabled: true, atrMultiple: 2 } };

describe('sizing', () => {
  it('fixed fraction: fraction x equity / price, approved when no rule objects', () => {
    const d = decideEntry(config(0.2), base);
    expect(d).toMatchObject({
      outcome: 'approved',
      rule: 'sizing',
      requestedQuantity: 20,
      finalQuantity: 20,
    });
  });

  it('fractional Kelly from the priors: 0.25 x (0.5 - 0.5 / 1.5) of equity', () => {
    const d = decideEntry({ ...config(0.2), sizing: kellySizing() }, base);
    // f = 0.25 x 0.1666… = 0.041666… → 4.1666… units → 4.166
    expect(d.numbers.sizingFraction).toBeCloseTo(0.25 / 6, 12);
    expect(d.finalQuantity).toBe(4.166);
    expect(d.numbers.kellyFromHistory).toBe(0);
  });

  it("fractional Kelly from the strategy's own trades once it has enough", () => {
    const tradeStats = { trades: 20, wins: 12, sumWinReturn: 12 * 0.03, sumLossReturn: 8 * 0.02 };
    const d = decideEntry({ ...config(0.2), sizing: kellySizing() }, { ...base, tradeStats });
    // W = 0.6, R = 0.03 / 0.02 = 1.5 → f* = 0.6 - 0.4 / 1.5 = 1/3; x 0.25 = 1/12
    expect(d.numbers.sizingFraction).toBeCloseTo(1 / 12, 12);
    expect(d.finalQuantity).toBe(8.333);
    expect(d.numbers.kellyFromHistory).toBe(1);
  });

  it('Kelly without an edge rejects', () => {
    const tradeStats = { trades: 20, wins: 4, sumWinReturn: 4 * 0.01, sumLossReturn: 16 * 0.02 };
    const d = decideEntry({ ...config(0.2), sizing: kellySizing() }, { ...base, tradeStats });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'sizing', finalQuantity: 0 });
  });
});

describe('maxRiskPerTrade: quantity x stop distance <= 2% of equity', () => {
  const rules = { ...stop, maxRiskPerTrade: { enabled: true, fraction: 0.02 } };
  it('approves 20 units at risk 20 x 4 = 80 (0.8%)', () => {
    const d = decideEntry(config(0.2, rules), base);
    expect(d.outcome).toBe('approved');
    expect(d.numbers.riskAmount).toBe(80);
    expect(d.stopPrice).toBe(96);
  });
  it('resizes 60 units (risk 240) to 200 / 4 = 50', () => {
    const d = decideEntry(config(0.6, rules), base);
    expect(d).toMatchObject({
      outcome: 'resized',
      rule: 'maxRiskPerTrade',
      requestedQuantity: 60,
      finalQuantity: 50,
    });
    expect(d.numbers.riskAmount).toBe(200);
    expect(d.checks.find((c) => c.rule === 'maxRiskPerTrade')).toMatchObject({
      outcome: 'resize',
      maxQuantity: 50,
      limit: 0.02,
    });
  });
  it('without a stop the whole price is at risk: 200 / 100 = 2 units', () => {
    const d = decideEntry(config(0.6, { maxRiskPerTrade: rules.maxRiskPerTrade }), base);
    expect(d.finalQuantity).toBe(2);
  });
  it('switched off, it does nothing', () => {
    expect(decideEntry(config(0.6, stop), base).finalQuantity).toBe(60);
  });
});

describe('stopLoss', () => {
  it('rejects before the ATR has a value', () => {
    const d = decideEntry(config(0.2, stop), { ...base, atr: Number.NaN });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'stopLoss' });
  });
  it('rejects a stop distance at or beyond the price', () => {
    expect(decideEntry(config(0.2, stop), { ...base, atr: 50 }).rule).toBe('stopLoss');
  });
  it('rejects a stop distance under one price step (the stop would round up to the price)', () => {
    // price 0.5, step 0.01, ATR 0.002: 2 x ATR = 0.004 → 0.496 rounds up to 0.50
    const d = decideEntry(config(0.2, stop), { ...base, price: 0.5, atr: 0.002 });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'stopLoss', finalQuantity: 0 });
    expect(d.reason).toMatch(/less than one price step/);
    // one step of distance is enough: 0.5 - 0.01 = 0.49
    expect(decideEntry(config(0.2, stop), { ...base, price: 0.5, atr: 0.005 })).toMatchObject({
      outcome: 'approved',
      stopPrice: 0.49,
    });
  });
  it('switched off, a missing ATR does not matter', () => {
    expect(decideEntry(config(0.2), { ...base, atr: Number.NaN }).outcome).toBe('approved');
  });
  it('take-profit at entry + R x distance', () => {
    const d = decideEntry(config(0.2, { ...stop, takeProfit: { enabled: true, rMultiple: 3 } }), base);
    expect(d.takeProfitPrice).toBe(112);
    expect(d.protection).toMatchObject({ stopDistance: 4, takeProfitR: 3 });
  });
});

describe('maxAssetExposure: at most 40% of equity in one asset', () => {
  const rules = { maxAssetExposure: { enabled: true, fraction: 0.4 } };
  it('resizes 60 units (6 000) to 40 (4 000)', () => {
    const d = decideEntry(config(0.6, rules), base);
    expect(d).toMatchObject({ outcome: 'resized', rule: 'maxAssetExposure', finalQuantity: 40 });
  });
  it('counts what is already held or ordered: 1 000 held leaves room for 30', () => {
    expect(decideEntry(config(0.6, rules), { ...base, assetExposure: 1_000 }).finalQuantity).toBe(30);
  });
  it('rejects when the asset is already at the limit', () => {
    expect(decideEntry(config(0.6, rules), { ...base, assetExposure: 4_000 })).toMatchObject({
      outcome: 'rejected',
      rule: 'maxAssetExposure',
    });
  });
  it('approves within the limit', () => {
    expect(decideEntry(config(0.2, rules), base).outcome).toBe('approved');
  });
});

describe('maxHeat: open risk to the stops <= 6% of equity', () => {
  const rules = { ...stop, maxHeat: { enabled: true, fraction: 0.06 } };
  it('with 500 of heat open, room for 100 / 4 = 25 units', () => {
    const d = decideEntry(config(0.5, rules), { ...base, heat: 500 });
    expect(d).toMatchObject({ outcome: 'resized', rule: 'maxHeat', finalQuantity: 25 });
    expect(d.numbers.heatAfter).toBe(600);
  });
  it('rejects when heat is already at the limit', () => {
    expect(decideEntry(config(0.5, rules), { ...base, heat: 600 })).toMatchObject({
      outcome: 'rejected',
      rule: 'maxHeat',
    });
  });
  it('approves with room to spare', () => {
    expect(decideEntry(config(0.2, rules), { ...base, heat: 100 }).outcome).toBe('approved');
  });
});

describe('maxPositions', () => {
  const rules = { maxPositions: { enabled: true, max: 3 } };
  it('rejects a fourth position', () => {
    expect(decideEntry(config(0.2, rules), { ...base, openPositions: 3 })).toMatchObject({
      outcome: 'rejected',
      rule: 'maxPositions',
    });
  });
  it('approves a third', () => {
    expect(decideEntry(config(0.2, rules), { ...base, openPositions: 2 }).outcome).toBe('approved');
  });
  it('switched off, any number', () => {
    expect(decideEntry(config(0.2), { ...base, openPositions: 30 }).outcome).toBe('approved');
  });
});

describe('correlation', () => {
  const rules = { correlation: { enabled: true, maxCorrelation: 0.8, lookback: 100, minSamples: 30 } };
  it('rejects above the threshold, naming the symbol', () => {
    const d = decideEntry(config(0.2, rules), { ...base, correlation: { value: 0.9, symbol: 'ETH/USDT' } });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'correlation' });
    expect(d.reason).toContain('ETH/USDT');
  });
  it('approves at or below it, and when unknown', () => {
    expect(
      decideEntry(config(0.2, rules), { ...base, correlation: { value: 0.8, symbol: 'ETH/USDT' } }).outcome,
    ).toBe('approved');
    expect(decideEntry(config(0.2, rules), base).outcome).toBe('approved');
  });
});

describe('drawdown', () => {
  const rules = { drawdown: { enabled: true, reduceAt: 0.15, reduceFactor: 0.5, haltAt: 0.25 } };
  it('halves sizes at 15% below the peak', () => {
    expect(decideEntry(config(0.2, rules), { ...base, drawdown: 0.15 })).toMatchObject({
      outcome: 'resized',
      rule: 'drawdown',
      finalQuantity: 10,
    });
  });
  it('full size below 15%', () => {
    expect(decideEntry(config(0.2, rules), { ...base, drawdown: 0.1499 }).finalQuantity).toBe(20);
  });
});

describe('gates from the trading state', () => {
  it('a block (kill switch, pause, halt) rejects with its rule', () => {
    const block = { rule: 'lossLimits', reason: 'daily-loss-limit reached', value: 0.05, limit: 0.05 };
    expect(decideEntry(config(0.2), { ...base, block })).toMatchObject({
      outcome: 'rejected',
      rule: 'lossLimits',
    });
  });
  it('one position per symbol', () => {
    expect(decideEntry(config(0.2), { ...base, symbolBusy: true }).rule).toBe('one-position-per-symbol');
  });
});

describe('cash and the market grid', () => {
  it('a buy and its fee fit in the free cash: 1 000 / (100 x 1.001) → 9.99', () => {
    const d = decideEntry(config(0.2), { ...base, freeCash: 1_000, feeRate: 0.001 });
    expect(d).toMatchObject({ outcome: 'resized', rule: 'cash', finalQuantity: 9.99 });
  });
  it('a quantity below one amount step is rejected', () => {
    expect(decideEntry(config(0.2), { ...base, equity: 0.2 }).rule).toBe('amountStep');
  });
  it('marketMinimums rejects below the minimum notional, and does nothing when off', () => {
    const grid = marketGrid({ amountStep: 0.001, priceStep: 0.01, minAmount: 0, minNotional: 10 });
    const small = { ...base, equity: 25, grid };
    expect(decideEntry(config(0.2, { marketMinimums: { enabled: true } }), small)).toMatchObject({
      outcome: 'rejected',
      rule: 'marketMinimums',
    });
    expect(decideEntry(config(0.2), small).finalQuantity).toBe(0.05);
  });
});

describe('the decision explains itself', () => {
  it('lists every rule: evaluated ones with numbers, switched-off ones as off', () => {
    const d = decideEntry(config(0.2, stop), base);
    const outcomes = Object.fromEntries(d.checks.map((c) => [c.rule, c.outcome]));
    expect(outcomes).toMatchObject({
      stopLoss: 'pass',
      sizing: 'pass',
      cash: 'pass',
      maxHeat: 'off',
      correlation: 'off',
    });
    for (const value of Object.values(d.numbers)) expect(Number.isFinite(value)).toBe(true);
  });
});

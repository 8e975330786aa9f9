import { ConfigError } from '../errors.js';
import { stepDecimals } from './amounts.js';

/** An exchange's trading rules for one symbol (what MarketRulesObserved reports). */
export interface MarketRules {
  /** smallest quantity step */
  readonly amountStep: number;
  /** smallest price step */
  readonly priceStep: number;
  readonly minAmount: number;
  /** minimum order value in quote currency */
  readonly minNotional: number;
}

/**
 * Rules used until the exchange's are observed: a fine grid (1e-8, Binance's smallest step) and
 * no minimums, so a market without known rules is not blocked, only rounded.
 */
export const DEFAULT_MARKET_RULES: MarketRules = Object.freeze({
  amountStep: 1e-8,
  priceStep: 1e-8,
  minAmount: 0,
  minNotional: 0,
});

/** Market rules with their step decimals worked out once, not on every rounding. */
export interface MarketGrid extends MarketRules {
  readonly amountDecimals: number;
  readonly priceDecimals: number;
}

export function marketGrid(rules: MarketRules): MarketGrid {
  for (const key of ['amountStep', 'priceStep'] as const) {
    if (!(Number.isFinite(rules[key]) && rules[key] > 0)) {
      throw new ConfigError(`market rules: ${key} must be a positive number, got ${rules[key]}`);
    }
  }
  for (const key of ['minAmount', 'minNotional'] as const) {
    if (!(Number.isFinite(rules[key]) && rules[key] >= 0)) {
      throw new ConfigError(`market rules: ${key} must be a number >= 0, got ${rules[key]}`);
    }
  }
  return {
    amountStep: rules.amountStep,
    priceStep: rules.priceStep,
    minAmount: rules.minAmount,
    minNotional: rules.minNotional,
    amountDecimals: stepDecimals(rules.amountStep),
    priceDecimals: stepDecimals(rules.priceStep),
  };
}

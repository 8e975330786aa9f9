import type { ObservedMarketRules } from '../../domain/market/market-rules.js';

/**
 * A ccxt market's trading rules as steps and minimums. ccxt reports `precision` in one of three
 * modes (the exchange's `precisionMode`): TICK_SIZE, where precision is the step itself
 * (Binance: stepSize 0.00001, tickSize 0.01); DECIMAL_PLACES, where it is a number of decimals
 * (a step of 10^-n); SIGNIFICANT_DIGITS, which is no fixed step at all, so no rules are reported
 * rather than invented ones. Missing minimums are 0 (none), as the exchange states no limit.
 */

/**
 * ccxt's precision modes (`exchange.precisionMode`), the same numbers in every ccxt language
 * (base/functions/number: DECIMAL_PLACES = 2, SIGNIFICANT_DIGITS = 3, TICK_SIZE = 4); ccxt's
 * ES module does not export the constants by name.
 */
export const CCXT_DECIMAL_PLACES = 2;
export const CCXT_TICK_SIZE = 4;

/** The parts of a ccxt market read here. */
export interface CcxtMarketLike {
  precision?: { amount?: number | undefined; price?: number | undefined };
  limits?: {
    amount?: { min?: number | undefined };
    cost?: { min?: number | undefined };
  };
}

export function rulesOfCcxtMarket(market: CcxtMarketLike, precisionMode: number): ObservedMarketRules | null {
  const amountStep = stepOf(market.precision?.amount, precisionMode);
  const priceStep = stepOf(market.precision?.price, precisionMode);
  if (amountStep === null || priceStep === null) return null;
  const minAmount = minimumOf(market.limits?.amount?.min);
  const minNotional = minimumOf(market.limits?.cost?.min);
  if (minAmount === null || minNotional === null) return null;
  return { amountStep, priceStep, minAmount, minNotional };
}

function stepOf(precision: number | undefined, mode: number): number | null {
  if (typeof precision !== 'number' || !Number.isFinite(precision)) return null;
  let step: number | null = null;
  if (mode === CCXT_TICK_SIZE) step = precision;
  // Number('1e-8') is the double nearest to 10^-8, unlike 10 ** -8.
  else if (mode === CCXT_DECIMAL_PLACES && Number.isInteger(precision) && precision >= 0 && precision <= 20)
    step = Number(`1e-${precision}`);
  return step !== null && step > 0 ? step : null;
}

function minimumOf(value: number | undefined): number | null {
  if (value === undefined || value === null) return 0;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

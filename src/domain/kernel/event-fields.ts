/**
 * Field schemas shared by the event families the trading kernel writes (signals, risk, orders,
 * positions), so a symbol or a quantity is checked the same way in each.
 */
import { number, string } from '../events/schema.js';

export const ACCOUNT = string({ maxLength: 200 });
export const SYMBOL = string({
  pattern: /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/,
  patternName: 'a symbol like BTC/USDT',
});
export const STRATEGY_NAME = string({
  pattern: /^[a-z0-9][a-z0-9-]{0,49}$/,
  patternName: 'a strategy name like ema-cross',
});
export const VERSION = string({ maxLength: 20 });
/** Binance's client order id alphabet and length */
export const CLIENT_ORDER_ID = string({
  pattern: /^[A-Za-z0-9_.:/-]{1,36}$/,
  patternName: 'a client order id (at most 36 of A-Z a-z 0-9 _ . : / -)',
});
export const QUANTITY = number({ gt: 0 });
export const PRICE = number({ gt: 0 });
/** an amount of quote currency that cannot be negative (a fee, a notional) */
export const AMOUNT = number({ min: 0 });
/** an amount of quote currency with a sign (a P&L) */
export const MONEY = number();
export const CURRENCY = string({ pattern: /^[A-Z0-9]{1,20}$/, patternName: 'an asset like USDT' });
export const REASON_TEXT = string({ maxLength: 500 });

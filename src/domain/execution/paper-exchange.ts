/**
 * The paper exchange: where, whether and how much an order fills in one candle. Pure functions
 * of the order, the candle and the account's free cash. docs/fill-contract.md is the written
 * contract; each clause is cited here where it is implemented.
 */
import type { Order } from '../orders/order.js';
import { roundDownToStep } from './amounts.js';
import type { FillConfig } from './fill-config.js';
import type { MarketGrid } from './market-rules.js';
import { adversePrice, slippageBps } from './slippage.js';

/** A candle's prices as the exchange sees them. */
export interface CandlePrices {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export interface MatchEnvironment {
  readonly config: FillConfig;
  readonly grid: MarketGrid;
  /** base units this symbol may still fill in this candle; Infinity without a volume limit */
  readonly capacity: number;
  /** quote currency free for a buy (a sell ignores it) */
  readonly freeCash: number;
  /** ATR known before this candle, NaN when not ready (volatility slippage) */
  readonly atr: number;
}

export interface FillQuote {
  /** the fill price, slippage included */
  readonly price: number;
  readonly quantity: number;
  /** the price before slippage: open, stop or limit */
  readonly referencePrice: number;
  readonly slippageBps: number;
  readonly fee: number;
  readonly liquidity: 'maker' | 'taker';
  /** the order traded at the open because the candle opened beyond its stop */
  readonly gap: boolean;
  /** free cash cut the quantity (the kernel cancels the rest of the order) */
  readonly cashLimited: boolean;
}

/**
 * The price this order trades at in this candle before slippage, or NaN when it does not
 * trade. Contract §2 (market at the open), §4 (stops: stop price, or the open on a gap),
 * §5 (limits at the limit price when touched).
 */
export function referencePriceFor(order: Order, candle: CandlePrices): number {
  if (order.type === 'market' || order.triggered) return candle.open;
  if (order.type === 'stop') {
    const stop = order.stopPrice!;
    if (order.side === 'sell')
      return candle.open <= stop ? candle.open : candle.low <= stop ? stop : Number.NaN;
    return candle.open >= stop ? candle.open : candle.high >= stop ? stop : Number.NaN;
  }
  const limit = order.limitPrice!;
  if (order.side === 'sell') return candle.high >= limit ? limit : Number.NaN;
  return candle.low <= limit ? limit : Number.NaN;
}

/**
 * Matches one working order against one candle: null when it does not trade (price not
 * reached, or no volume left in the candle). A quote with quantity 0 means free cash could not
 * pay for a single amount step at the fill price.
 */
export function matchOrder(order: Order, candle: CandlePrices, env: MatchEnvironment): FillQuote | null {
  const reference = referencePriceFor(order, candle);
  if (Number.isNaN(reference)) return null;
  const { config, grid } = env;

  // §6: at most maxVolumeShare of the candle's volume; the rest stays open.
  let quantity = order.remainingQuantity;
  if (env.capacity < quantity) {
    quantity = roundDownToStep(env.capacity, grid.amountStep, grid.amountDecimals);
    if (quantity <= 0) return null;
  }

  // §3: takers pay adverse slippage; a resting limit fills at its price as a maker.
  const taker = order.type !== 'limit' || order.triggered;
  const slippage = (q: number) =>
    taker
      ? slippageBps(config.slippage, { price: reference, atr: env.atr, quantity: q, volume: candle.volume })
      : 0;
  let bps = slippage(quantity);
  let price = adversePrice(reference, order.side, bps);
  const feeRate = taker ? config.feeRate : config.makerFeeRate;

  // §7: a buy never spends more than the free cash, fee included.
  let cashLimited = false;
  if (order.side === 'buy') {
    const cost = (q: number) => q * price + q * price * feeRate;
    if (cost(quantity) > env.freeCash) {
      cashLimited = true;
      quantity = roundDownToStep(
        env.freeCash / (price * (1 + feeRate)),
        grid.amountStep,
        grid.amountDecimals,
      );
      // Rounding of the division may leave one step too many.
      if (quantity > 0 && cost(quantity) > env.freeCash) {
        quantity = roundDownToStep(quantity - grid.amountStep, grid.amountStep, grid.amountDecimals);
      }
      // §3: the slippage is that of the quantity that fills. With the volume model it is less
      // than the uncut quantity's, so the price only falls and the cut still fits the cash.
      bps = slippage(quantity);
      price = adversePrice(reference, order.side, bps);
    }
  }

  return {
    price,
    quantity,
    referencePrice: reference,
    slippageBps: bps,
    fee: quantity * price * feeRate,
    liquidity: taker ? 'taker' : 'maker',
    gap: order.type === 'stop' && !order.triggered && reference === candle.open,
    cashLimited,
  };
}

export const NO_TRIGGER = 0;
export const STOP_TRIGGER = 1;
export const TAKE_PROFIT_TRIGGER = 2;
export type ProtectiveTrigger = typeof NO_TRIGGER | typeof STOP_TRIGGER | typeof TAKE_PROFIT_TRIGGER;

/**
 * Which protection of a long position this candle fires (contract §4). `stop` is the effective
 * stop (the higher of the stop-loss and the trailing stop), `takeProfit` the target; 0 for none
 * (two numbers, not an object: this runs on every candle of an open position). The open is known first:
 * an open at or below the stop, or at or above the take-profit, fires that one. Otherwise, when
 * the range reaches both, the order inside the candle is unknown and the adverse one, the stop,
 * is assumed first.
 */
export function protectiveTrigger(stop: number, takeProfit: number, candle: CandlePrices): ProtectiveTrigger {
  if (stop > 0 && candle.open <= stop) return STOP_TRIGGER;
  if (takeProfit > 0 && candle.open >= takeProfit) return TAKE_PROFIT_TRIGGER;
  if (stop > 0 && candle.low <= stop) return STOP_TRIGGER;
  if (takeProfit > 0 && candle.high >= takeProfit) return TAKE_PROFIT_TRIGGER;
  return NO_TRIGGER;
}

/**
 * The entry decision: may this long signal open a position, and how big?
 *
 * Pure: every number it needs comes in an EntryRequest, and the decision carries every number
 * it used, so the RiskDecisionMade event alone explains it. Rules run in a fixed order:
 *
 *   gates (reject):   trading state (kill switch, pause, drawdown halt, loss limits),
 *                     one position per symbol, maxPositions, correlation, stop distance (ATR)
 *   sizing:           fixed fraction or fractional Kelly → requested quantity
 *   caps (resize):    drawdown reduction, maxRiskPerTrade, maxAssetExposure, maxHeat, free cash
 *   grid (reject):    amount step (round down), marketMinimums
 *
 * A cap only ever lowers the quantity; the rule that lowered it last is the deciding rule.
 */
import { roundDownToStep, roundUpToStep } from '../execution/amounts.js';
import type { MarketGrid } from '../execution/market-rules.js';
import type { RiskConfig } from './config.js';
import type { EntryBlock } from './equity-guard.js';
import type { RiskCheck, RiskOutcome } from './events.js';
import { kellyEstimate, type TradeStats } from './kelly.js';

export interface EntryRequest {
  /** the signal candle's close: sizing and the indicative stop use it */
  readonly price: number;
  /** ATR at the signal candle; NaN before it has a value */
  readonly atr: number;
  /** cash + positions marked to their last close */
  readonly equity: number;
  /** cash not reserved by working buy orders */
  readonly freeCash: number;
  /** taker fee rate, so a buy's fee is paid from the cash check */
  readonly feeRate: number;
  /** open positions plus working entry orders, all symbols */
  readonly openPositions: number;
  /** a position or a working order in this symbol already */
  readonly symbolBusy: boolean;
  /** value already held or ordered in this asset */
  readonly assetExposure: number;
  /** sum over open positions of quantity x (mark - stop), plus working entries' planned risk */
  readonly heat: number;
  /** fraction below the equity peak */
  readonly drawdown: number;
  /** set when trading is paused, killed or halted */
  readonly block: EntryBlock | null;
  /** highest correlation with an open position's symbol (null when unknown or rule off) */
  readonly correlation: { readonly value: number; readonly symbol: string } | null;
  /** the strategy's closed trades (Kelly sizing) */
  readonly tradeStats: TradeStats;
  readonly grid: MarketGrid;
}

/** Approved plan for the position's protection, anchored on the entry price at fill time. */
export interface ProtectionPlan {
  readonly stopDistance: number | null;
  readonly trailingDistance: number | null;
  readonly takeProfitR: number | null;
  readonly timeStopCandles: number | null;
}

export interface EntryDecision {
  readonly outcome: RiskOutcome;
  readonly rule: string;
  readonly reason: string;
  readonly requestedQuantity: number;
  readonly finalQuantity: number;
  /** indicative levels from the signal price (the position's are set from its entry price) */
  readonly stopPrice: number | null;
  readonly takeProfitPrice: number | null;
  readonly protection: ProtectionPlan;
  readonly numbers: Record<string, number>;
  readonly checks: RiskCheck[];
}

export function decideEntry(config: RiskConfig, request: EntryRequest): EntryDecision {
  const { rules } = config;
  const { price, equity, grid } = request;
  const checks: RiskCheck[] = [];
  const numbers: Record<string, number> = {
    equity,
    freeCash: request.freeCash,
    price,
    openPositions: request.openPositions,
    assetExposure: request.assetExposure,
    heat: request.heat,
    drawdown: request.drawdown,
  };
  if (Number.isFinite(request.atr)) numbers.atr = request.atr;
  let protection: ProtectionPlan = {
    stopDistance: null,
    trailingDistance: null,
    takeProfitR: null,
    timeStopCandles: null,
  };

  const check = (
    rule: string,
    outcome: RiskCheck['outcome'],
    value: number | null,
    limit: number | null,
    maxQuantity: number | null = null,
  ) =>
    checks.push({
      rule,
      outcome,
      value: finiteOrNull(value),
      limit: finiteOrNull(limit),
      maxQuantity: finiteOrNull(maxQuantity),
    });
  const decision = (
    outcome: RiskOutcome,
    rule: string,
    reason: string,
    requested: number,
    final: number,
  ): EntryDecision => {
    for (const [name, rule] of Object.entries(rules)) {
      if (!rule.enabled) check(name, 'off', null, null);
    }
    const stopPrice =
      protection.stopDistance === null
        ? null
        : roundUpToStep(price - protection.stopDistance, grid.priceStep, grid.priceDecimals);
    const takeProfitPrice =
      protection.stopDistance === null || protection.takeProfitR === null
        ? null
        : roundDownToStep(
            price + protection.takeProfitR * protection.stopDistance,
            grid.priceStep,
            grid.priceDecimals,
          );
    numbers.requestedQuantity = requested;
    numbers.finalQuantity = final;
    return {
      outcome,
      rule,
      reason,
      requestedQuantity: requested,
      finalQuantity: final,
      stopPrice: stopPrice !== null && stopPrice > 0 ? stopPrice : null,
      takeProfitPrice,
      protection,
      numbers,
      checks,
    };
  };
  const reject = (
    rule: string,
    reason: string,
    value: number | null,
    limit: number | null,
    requested = 0,
  ) => {
    check(rule, 'reject', value, limit, 0);
    return decision('rejected', rule, reason, requested, 0);
  };

  // Gates: any of these refuses the entry outright.
  if (request.block)
    return reject(request.block.rule, request.block.reason, request.block.value, request.block.limit);
  if (request.symbolBusy)
    return reject('one-position-per-symbol', 'a position or order in this symbol is already open', 1, 0);

  if (rules.maxPositions.enabled) {
    const { max } = rules.maxPositions;
    numbers.maxPositions = max;
    if (request.openPositions + 1 > max) {
      return reject(
        'maxPositions',
        `${request.openPositions} positions open, at most ${max}`,
        request.openPositions + 1,
        max,
      );
    }
    check('maxPositions', 'pass', request.openPositions + 1, max);
  }

  if (rules.correlation.enabled) {
    const { maxCorrelation } = rules.correlation;
    const c = request.correlation;
    if (c) numbers.correlation = c.value;
    if (c && c.value > maxCorrelation) {
      return reject(
        'correlation',
        `returns correlate ${c.value.toFixed(3)} with open ${c.symbol}, above ${maxCorrelation}`,
        c.value,
        maxCorrelation,
      );
    }
    check('correlation', 'pass', c?.value ?? null, maxCorrelation);
  }

  const atrBased = rules.stopLoss.enabled || rules.trailingStop.enabled;
  if (atrBased && !(request.atr > 0)) {
    const rule = rules.stopLoss.enabled ? 'stopLoss' : 'trailingStop';
    return reject(rule, 'no ATR yet (or a flat market): the stop distance is unknown', request.atr, null);
  }
  const stopDistance = rules.stopLoss.enabled ? rules.stopLoss.atrMultiple * request.atr : null;
  protection = {
    stopDistance,
    trailingDistance: rules.trailingStop.enabled ? rules.trailingStop.atrMultiple * request.atr : null,
    takeProfitR: rules.takeProfit.enabled ? rules.takeProfit.rMultiple : null,
    timeStopCandles: rules.timeStop.enabled ? rules.timeStop.maxCandles : null,
  };
  if (stopDistance !== null) {
    numbers.stopDistance = stopDistance;
    if (price - stopDistance <= 0) {
      return reject(
        'stopLoss',
        `stop distance ${stopDistance} is not below the price ${price}`,
        stopDistance,
        price,
      );
    }
    // Rounded toward the price (so that rounding never adds risk), a distance under one price
    // step puts the stop at the price itself: the position would open without a stop.
    if (roundUpToStep(price - stopDistance, grid.priceStep, grid.priceDecimals) >= price) {
      return reject(
        'stopLoss',
        `stop distance ${stopDistance} is less than one price step (${grid.priceStep}) below the price ${price}`,
        stopDistance,
        grid.priceStep,
      );
    }
    check('stopLoss', 'pass', stopDistance, price);
  }
  // Without a stop the whole price is at risk: a position can go to zero.
  const riskDistance = stopDistance ?? price;
  numbers.riskDistance = riskDistance;

  // Sizing.
  let fraction: number;
  if (config.sizing.mode === 'fixed-fraction') {
    fraction = config.sizing.fraction;
  } else {
    const kelly = kellyEstimate(config.sizing, request.tradeStats);
    numbers.kelly = kelly.kelly;
    numbers.kellyWinRate = kelly.winRate;
    if (Number.isFinite(kelly.payoff)) numbers.kellyPayoff = kelly.payoff;
    numbers.kellyFromHistory = kelly.fromHistory;
    numbers.kellyTrades = request.tradeStats.trades;
    fraction = kelly.fraction;
    if (!(fraction > 0))
      return reject('sizing', `Kelly ${kelly.kelly.toFixed(4)} shows no edge`, kelly.kelly, 0);
  }
  numbers.sizingFraction = fraction;
  let quantity = (fraction * equity) / price;
  const requested = roundDownToStep(quantity, grid.amountStep, grid.amountDecimals);
  check('sizing', 'pass', fraction, null, quantity);
  let decidingRule = 'sizing';

  // Caps: each may lower the quantity.
  const cap = (
    rule: string,
    maxQuantity: number,
    value: number,
    limit: number,
    why: string,
  ): EntryDecision | null => {
    if (!(maxQuantity > 0)) {
      return reject(rule, `${why}: no room left`, value, limit, requested);
    }
    if (maxQuantity < quantity) {
      check(rule, 'resize', value, limit, maxQuantity);
      quantity = maxQuantity;
      decidingRule = rule;
    } else {
      check(rule, 'pass', value, limit, maxQuantity);
    }
    return null;
  };

  if (rules.drawdown.enabled) {
    const { reduceAt, reduceFactor } = rules.drawdown;
    if (request.drawdown >= reduceAt) {
      const rejected = cap(
        'drawdown',
        quantity * reduceFactor,
        request.drawdown,
        reduceAt,
        'drawdown reduction',
      );
      if (rejected) return rejected;
    } else {
      check('drawdown', 'pass', request.drawdown, reduceAt);
    }
  }
  if (rules.maxRiskPerTrade.enabled) {
    const limit = rules.maxRiskPerTrade.fraction;
    const rejected = cap(
      'maxRiskPerTrade',
      (limit * equity) / riskDistance,
      (quantity * riskDistance) / equity,
      limit,
      'risk per trade',
    );
    if (rejected) return rejected;
  }
  if (rules.maxAssetExposure.enabled) {
    const limit = rules.maxAssetExposure.fraction;
    const rejected = cap(
      'maxAssetExposure',
      (limit * equity - request.assetExposure) / price,
      (request.assetExposure + quantity * price) / equity,
      limit,
      'exposure to this asset',
    );
    if (rejected) return rejected;
  }
  if (rules.maxHeat.enabled) {
    const limit = rules.maxHeat.fraction;
    const rejected = cap(
      'maxHeat',
      (limit * equity - request.heat) / riskDistance,
      (request.heat + quantity * riskDistance) / equity,
      limit,
      'portfolio heat',
    );
    if (rejected) return rejected;
  }
  // Spot: no borrowing. Always on: it is what the exchange would enforce.
  {
    const rejected = cap(
      'cash',
      request.freeCash / (price * (1 + request.feeRate)),
      quantity * price * (1 + request.feeRate),
      request.freeCash,
      'free cash',
    );
    if (rejected) return rejected;
  }

  const final = roundDownToStep(quantity, grid.amountStep, grid.amountDecimals);
  if (final <= 0) {
    return reject(
      'amountStep',
      `${quantity} rounds down to 0 at the amount step ${grid.amountStep}`,
      quantity,
      grid.amountStep,
      requested,
    );
  }
  if (rules.marketMinimums.enabled) {
    if (final < grid.minAmount || final * price < grid.minNotional) {
      return reject(
        'marketMinimums',
        `order of ${final} (${final * price} quote) is below the market minimum (${grid.minAmount}, ${grid.minNotional} quote)`,
        final * price,
        grid.minNotional,
        requested,
      );
    }
    check('marketMinimums', 'pass', final * price, grid.minNotional);
  }

  numbers.riskAmount = final * riskDistance;
  numbers.riskFraction = (final * riskDistance) / equity;
  numbers.heatAfter = request.heat + final * riskDistance;
  numbers.assetExposureAfter = request.assetExposure + final * price;
  if (final < requested) {
    return decision(
      'resized',
      decidingRule,
      `${decidingRule} lowered the quantity from ${requested} to ${final}`,
      requested,
      final,
    );
  }
  return decision(
    'approved',
    'sizing',
    `sized at ${fraction} of equity; every rule passed`,
    requested,
    final,
  );
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

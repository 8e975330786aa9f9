import { ConfigError } from '../errors.js';

/**
 * How slippage is estimated, in basis points of the reference price, always against the trader
 * (a buy pays more, a sell receives less):
 * - fixed: `bps` on every taker fill;
 * - volatility: `baseBps` + `atrShare` x (ATR / price) in bps, with the ATR known before the
 *   fill (so a jumpy market costs more);
 * - volume: `baseBps` + `impactBps` x sqrt(fill quantity / candle volume), the square-root
 *   market-impact law (a bigger share of the candle costs more).
 */
export type SlippageModel =
  | { readonly model: 'fixed'; readonly bps: number }
  | { readonly model: 'volatility'; readonly baseBps: number; readonly atrShare: number }
  | { readonly model: 'volume'; readonly baseBps: number; readonly impactBps: number };

export interface FillConfig {
  /** fee on fill notional for taker fills (market orders, triggered stops); Binance spot 0.1% */
  readonly feeRate: number;
  /** fee for maker fills (resting limit orders) */
  readonly makerFeeRate: number;
  readonly slippage: SlippageModel;
  /**
   * Largest share of a candle's volume one symbol's fills may take in that candle; the rest of
   * an order stays open for the next candle. null: no limit.
   */
  readonly maxVolumeShare: number | null;
}

/**
 * Defaults: Binance spot taker fee 0.1% (maker the same without BNB discounts); 5 bps of
 * slippage, deliberately pessimistic for liquid pairs so that a strategy that only works without
 * costs shows it; at most 10% of a candle's volume.
 */
export const DEFAULT_FILL_CONFIG: FillConfig = Object.freeze({
  feeRate: 0.001,
  makerFeeRate: 0.001,
  slippage: Object.freeze({ model: 'fixed', bps: 5 }),
  maxVolumeShare: 0.1,
});

function requireNumber(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (!(Number.isFinite(value) && value >= min && value <= max)) {
    throw new ConfigError(`fill config: ${name} must be a number from ${min} to ${max}, got ${value}`);
  }
}

export function validateFillConfig(config: FillConfig): FillConfig {
  requireNumber('feeRate', config.feeRate, 0, 0.1);
  requireNumber('makerFeeRate', config.makerFeeRate, 0, 0.1);
  const s = config.slippage;
  if (s.model === 'fixed') requireNumber('slippage.bps', s.bps, 0, 10_000);
  else if (s.model === 'volatility') {
    requireNumber('slippage.baseBps', s.baseBps, 0, 10_000);
    requireNumber('slippage.atrShare', s.atrShare, 0, 100);
  } else if (s.model === 'volume') {
    requireNumber('slippage.baseBps', s.baseBps, 0, 10_000);
    requireNumber('slippage.impactBps', s.impactBps, 0, 10_000);
  } else {
    throw new ConfigError(
      `fill config: unknown slippage model ${JSON.stringify((s as { model: unknown }).model)}`,
    );
  }
  if (config.maxVolumeShare !== null && !(config.maxVolumeShare > 0 && config.maxVolumeShare <= 1)) {
    throw new ConfigError(
      `fill config: maxVolumeShare must be in (0, 1] or null, got ${config.maxVolumeShare}`,
    );
  }
  return config;
}

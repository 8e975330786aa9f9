import type { SlippageModel } from './fill-config.js';

export interface SlippageInputs {
  /** the reference price (open, stop) */
  readonly price: number;
  /** ATR known before the fill; NaN when not ready (volatility model then uses its base) */
  readonly atr: number;
  readonly quantity: number;
  /** the candle's volume, base units */
  readonly volume: number;
}

/** Slippage in basis points (>= 0) for one taker fill. */
export function slippageBps(model: SlippageModel, inputs: SlippageInputs): number {
  switch (model.model) {
    case 'fixed':
      return model.bps;
    case 'volatility': {
      const relativeAtr = inputs.atr > 0 ? inputs.atr / inputs.price : 0;
      return model.baseBps + model.atrShare * relativeAtr * 10_000;
    }
    case 'volume': {
      // A fill larger than the candle's volume is capped at full participation.
      const participation = inputs.volume > 0 ? Math.min(1, inputs.quantity / inputs.volume) : 1;
      return model.baseBps + model.impactBps * Math.sqrt(participation);
    }
  }
}

/** Moves a price against the trader: a buy pays more, a sell receives less. */
export function adversePrice(price: number, side: 'buy' | 'sell', bps: number): number {
  return side === 'buy' ? price * (1 + bps / 10_000) : price * (1 - bps / 10_000);
}

/** Execution: the paper exchange (a pure fill simulator, docs/fill-contract.md) and its settings. */
export { roundDownToStep, roundUpToStep, stepDecimals } from './amounts.js';
export {
  DEFAULT_FILL_CONFIG,
  type FillConfig,
  type SlippageModel,
  validateFillConfig,
} from './fill-config.js';
export { DEFAULT_MARKET_RULES, type MarketGrid, type MarketRules, marketGrid } from './market-rules.js';
export {
  type CandlePrices,
  type FillQuote,
  type MatchEnvironment,
  matchOrder,
  NO_TRIGGER,
  type ProtectiveTrigger,
  protectiveTrigger,
  referencePriceFor,
  STOP_TRIGGER,
  TAKE_PROFIT_TRIGGER,
} from './paper-exchange.js';
export { adversePrice, type SlippageInputs, slippageBps } from './slippage.js';

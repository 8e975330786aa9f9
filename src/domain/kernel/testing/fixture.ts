/** Test support: hand-made candles and small kernels for the fill-contract and kernel tests. */
import { createCatalogue } from '../../catalogue.js';
import type { NewEvent } from '../../events/envelope.js';
import type { FillConfig } from '../../execution/fill-config.js';
import type { MarketRules } from '../../execution/market-rules.js';
import { type RiskConfig, type RiskRules, riskNone } from '../../risk/config.js';
import type { StrategyDefinition } from '../../strategies/strategy.js';
import { defaultKernelConfig, type KernelConfig } from '../config.js';
import { TradingKernel } from '../trading-kernel.js';
import type { Bar } from './candle-events.js';

export const T0 = Date.UTC(2024, 0, 1);
export const HOUR = 3_600_000;

export function bar(
  index: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume = 1_000_000,
): Bar {
  return { openTime: T0 + index * HOUR, open, high, low, close, volume };
}

/** `count` candles from `from` with open = close = price and a range of ±`range` (ATR = 2 x range). */
export function flatBars(count: number, price: number, range = 1, from = 0): Bar[] {
  return Array.from({ length: count }, (_, i) => bar(from + i, price, price + range, price - range, price));
}

/** No slippage, 0.1% fee, no volume limit: the simplest exchange to compute by hand. */
export const PLAIN_FILLS: FillConfig = {
  feeRate: 0.001,
  makerFeeRate: 0.001,
  slippage: { model: 'fixed', bps: 0 },
  maxVolumeShare: null,
};

/** Fraction-of-equity sizing with only the named rules switched on (with their settings). */
export function riskWith(fraction: number, rules: Partial<RiskRules> = {}): RiskConfig {
  const base = riskNone(fraction);
  return { ...base, rules: { ...base.rules, ...rules } };
}

export interface KernelSetup {
  strategies: StrategyDefinition[];
  risk?: RiskConfig;
  fills?: FillConfig;
  symbols?: string[];
  initialCash?: number;
  entryOrderTtlCandles?: number;
  marketRules?: Record<string, MarketRules>;
}

export function setupConfig(setup: KernelSetup): KernelConfig {
  return defaultKernelConfig({
    initialCash: setup.initialCash ?? 10_000,
    risk: setup.risk ?? riskNone(0.5),
    fills: setup.fills ?? PLAIN_FILLS,
    entryOrderTtlCandles: setup.entryOrderTtlCandles ?? 5,
    ...(setup.marketRules ? { marketRules: setup.marketRules } : {}),
  });
}

export function setupContext(setup: KernelSetup) {
  return {
    accountId: 'bt-test',
    mode: 'backtest' as const,
    runId: 'test-1',
    exchange: 'binance',
    timeframe: '1h' as const,
    symbols: setup.symbols ?? ['BTC/USDT'],
    strategies: setup.strategies,
  };
}

export function testKernel(setup: KernelSetup): TradingKernel {
  return new TradingKernel(setupConfig(setup), setupContext(setup));
}

export function ofType<T = Record<string, unknown>>(events: readonly NewEvent[], type: string): T[] {
  return events.filter((e) => e.type === type).map((e) => e.data as T);
}

const catalogue = createCatalogue();

/** Every event must pass the catalogue's schema, as the store would demand. */
export function assertAllValid(events: readonly NewEvent[]): void {
  for (const event of events) catalogue.assertValid('bt-test', event);
}

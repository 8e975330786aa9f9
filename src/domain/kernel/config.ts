import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { MODES, type Mode, RUN_ID_PATTERN } from '../events/envelope.js';
import { DEFAULT_FILL_CONFIG, type FillConfig, validateFillConfig } from '../execution/fill-config.js';
import { type MarketRules, marketGrid } from '../execution/market-rules.js';
import { isTimeframe, type Timeframe } from '../market/timeframe.js';
import { defaultRiskConfig, type RiskConfig, validateRiskConfig } from '../risk/config.js';
import type { StrategyDefinition } from '../strategies/strategy.js';

/** What the kernel trades with: money, risk rules, fill model. */
export interface KernelConfig {
  /** starting cash in the quote currency */
  readonly initialCash: number;
  /** every symbol must be quoted in it, e.g. USDT */
  readonly quoteCurrency: string;
  readonly risk: RiskConfig;
  readonly fills: FillConfig;
  /** candles an entry order is offered to before its unfilled rest expires */
  readonly entryOrderTtlCandles: number;
  /** market rules known up front; MarketRulesObserved events replace them */
  readonly marketRules?: Readonly<Record<string, MarketRules>>;
}

/** Who the kernel is and what it watches. */
export interface KernelContext {
  /** the account this kernel is the single writer of */
  readonly accountId: string;
  readonly mode: Mode;
  readonly runId: string;
  /** candles of other exchanges, timeframes or symbols are ignored */
  readonly exchange: string;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  /** run on every symbol; names must differ */
  readonly strategies: readonly StrategyDefinition[];
}

export function defaultKernelConfig(overrides: Partial<KernelConfig> = {}): KernelConfig {
  return {
    initialCash: 10_000,
    quoteCurrency: 'USDT',
    risk: defaultRiskConfig(),
    fills: DEFAULT_FILL_CONFIG,
    entryOrderTtlCandles: 5,
    ...overrides,
  };
}

export function validateKernel(config: KernelConfig, context: KernelContext): void {
  if (!(Number.isFinite(config.initialCash) && config.initialCash > 0)) {
    throw new ConfigError(`kernel: initialCash must be a positive number, got ${config.initialCash}`);
  }
  if (!Number.isInteger(config.entryOrderTtlCandles) || config.entryOrderTtlCandles < 1) {
    throw new ConfigError(
      `kernel: entryOrderTtlCandles must be an integer >= 1, got ${config.entryOrderTtlCandles}`,
    );
  }
  validateRiskConfig(config.risk);
  validateFillConfig(config.fills);
  for (const rules of Object.values(config.marketRules ?? {})) marketGrid(rules);
  if (!context.accountId || context.accountId.length > 200) {
    throw new ConfigError('kernel: accountId must be 1 to 200 characters');
  }
  if (!RUN_ID_PATTERN.test(context.runId))
    throw new ConfigError(`kernel: runId "${context.runId}" is not a valid run id`);
  if (!MODES.includes(context.mode)) throw new ConfigError(`kernel: mode must be one of ${MODES.join(', ')}`);
  if (!isTimeframe(context.timeframe))
    throw new ConfigError(`kernel: unknown timeframe ${context.timeframe}`);
  if (context.symbols.length === 0) throw new ConfigError('kernel: at least one symbol is needed');
  if (new Set(context.symbols).size !== context.symbols.length)
    throw new ConfigError('kernel: symbols repeat');
  for (const symbol of context.symbols) {
    if (!symbol.endsWith(`/${config.quoteCurrency}`)) {
      throw new ConfigError(
        `kernel: ${symbol} is not quoted in ${config.quoteCurrency}`,
        'one kernel accounts in one quote currency: run one kernel per quote currency',
      );
    }
  }
  if (context.strategies.length === 0) throw new ConfigError('kernel: at least one strategy is needed');
  const names = context.strategies.map((s) => s.name);
  if (new Set(names).size !== names.length)
    throw new ConfigError(`kernel: strategy names repeat (${names.join(', ')})`);
}

/**
 * A digest of everything that shapes the kernel's decisions. A snapshot carries it, and
 * restoring under a different configuration is refused: the continued run would not be the
 * run the snapshot came from.
 */
export function kernelFingerprint(config: KernelConfig, context: KernelContext): string {
  const described = {
    config,
    context: {
      ...context,
      strategies: context.strategies.map((s) => ({ name: s.name, version: s.version, params: s.params })),
    },
  };
  return createHash('sha256').update(JSON.stringify(described)).digest('hex').slice(0, 32);
}

/**
 * Risk configuration: how positions are sized and which rules guard them. Every rule has an
 * `enabled` switch; a rule switched off does nothing and shows as `off` in each decision.
 * docs/risk-rules.md explains each rule and the order they run in.
 */
import { ConfigError } from '../errors.js';

export type SizingConfig =
  /** quantity = fraction x equity / price */
  | { readonly mode: 'fixed-fraction'; readonly fraction: number }
  /**
   * fraction = multiplier x Kelly (W - (1 - W) / R), at most maxFraction. W (win rate) and
   * R (average win / average loss, as returns) come from the strategy's own closed trades once
   * it has minTrades of them, from winRate and payoff until then.
   */
  | {
      readonly mode: 'kelly';
      readonly multiplier: number;
      readonly winRate: number;
      readonly payoff: number;
      readonly minTrades: number;
      readonly maxFraction: number;
    };

export interface RiskRules {
  /** risk = quantity x stop distance <= fraction x equity */
  readonly maxRiskPerTrade: { readonly enabled: boolean; readonly fraction: number };
  /** stop at entry - atrMultiple x ATR; without it the whole price counts as at risk */
  readonly stopLoss: { readonly enabled: boolean; readonly atrMultiple: number };
  /** stop follows the highest high since entry at atrMultiple x ATR (ATR at the signal) */
  readonly trailingStop: { readonly enabled: boolean; readonly atrMultiple: number };
  /** exit after the position was held this many candles of its symbol */
  readonly timeStop: { readonly enabled: boolean; readonly maxCandles: number };
  /** take profit at entry + rMultiple x stop distance (needs stopLoss) */
  readonly takeProfit: { readonly enabled: boolean; readonly rMultiple: number };
  /** open positions plus working entry orders */
  readonly maxPositions: { readonly enabled: boolean; readonly max: number };
  /** value in one asset <= fraction x equity */
  readonly maxAssetExposure: { readonly enabled: boolean; readonly fraction: number };
  /** portfolio heat: sum of open risk to the stops <= fraction x equity */
  readonly maxHeat: { readonly enabled: boolean; readonly fraction: number };
  /** refuse an entry whose returns correlate above maxCorrelation with an open position's */
  readonly correlation: {
    readonly enabled: boolean;
    readonly maxCorrelation: number;
    /** candles of returns compared */
    readonly lookback: number;
    /** fewer candles with matching times than this: the correlation is unknown and passes */
    readonly minSamples: number;
  };
  /** from the equity peak: at reduceAt sizes are multiplied by reduceFactor, at haltAt entries stop */
  readonly drawdown: {
    readonly enabled: boolean;
    readonly reduceAt: number;
    readonly reduceFactor: number;
    readonly haltAt: number;
  };
  /** loss from the equity at the start of the UTC day / week (Monday) / month; null: no limit */
  readonly lossLimits: {
    readonly enabled: boolean;
    readonly daily: number | null;
    readonly weekly: number | null;
    readonly monthly: number | null;
  };
  /** refuse orders below the market's minimum amount or notional */
  readonly marketMinimums: { readonly enabled: boolean };
}

export interface RiskConfig {
  /** recorded in every decision; change it when the rules change */
  readonly version: string;
  /** ATR period for stops (and volatility slippage) */
  readonly atrPeriod: number;
  readonly sizing: SizingConfig;
  readonly rules: RiskRules;
}

export const RISK_RULES_VERSION = '1';

/** The owner's rules (issue 4 §3). */
export function defaultRiskConfig(): RiskConfig {
  return {
    version: RISK_RULES_VERSION,
    atrPeriod: 14,
    sizing: { mode: 'fixed-fraction', fraction: 0.2 },
    rules: {
      maxRiskPerTrade: { enabled: true, fraction: 0.02 },
      stopLoss: { enabled: true, atrMultiple: 2 },
      trailingStop: { enabled: true, atrMultiple: 3 },
      timeStop: { enabled: true, maxCandles: 100 },
      takeProfit: { enabled: true, rMultiple: 3 },
      maxPositions: { enabled: true, max: 3 },
      maxAssetExposure: { enabled: true, fraction: 0.4 },
      maxHeat: { enabled: true, fraction: 0.06 },
      correlation: { enabled: true, maxCorrelation: 0.8, lookback: 100, minSamples: 30 },
      drawdown: { enabled: true, reduceAt: 0.15, reduceFactor: 0.5, haltAt: 0.25 },
      lossLimits: { enabled: true, daily: 0.05, weekly: 0.1, monthly: 0.2 },
      marketMinimums: { enabled: true },
    },
  };
}

/** Fractional Kelly sizing with the owner's 0.25 multiplier, other rules as default. */
export function kellySizing(
  overrides: Partial<Omit<Extract<SizingConfig, { mode: 'kelly' }>, 'mode'>> = {},
): SizingConfig {
  return {
    mode: 'kelly',
    multiplier: 0.25,
    winRate: 0.5,
    payoff: 1.5,
    minTrades: 20,
    maxFraction: 0.2,
    ...overrides,
  };
}

/**
 * Only fraction-of-equity sizing, every rule off (`--risk none --fraction 0.95`): the setting
 * that compares with engines that have no risk manager. Free cash still bounds a buy.
 */
export function riskNone(fraction: number): RiskConfig {
  const base = defaultRiskConfig();
  const off = <T extends { enabled: boolean }>(rule: T): T => ({ ...rule, enabled: false });
  const rules = Object.fromEntries(Object.entries(base.rules).map(([name, rule]) => [name, off(rule)]));
  return validateRiskConfig({
    ...base,
    sizing: { mode: 'fixed-fraction', fraction },
    rules: rules as unknown as RiskRules,
  });
}

function fraction(name: string, value: number, { max = 1, allowZero = false } = {}): void {
  if (!(Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && value <= max)) {
    throw new ConfigError(
      `risk config: ${name} must be in ${allowZero ? '[0' : '(0'}, ${max}], got ${value}`,
    );
  }
}

function integer(name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new ConfigError(`risk config: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

function positive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new ConfigError(`risk config: ${name} must be a positive number, got ${value}`);
  }
}

/** Checks every number; returns the config so it can wrap a literal. */
export function validateRiskConfig(config: RiskConfig): RiskConfig {
  integer('atrPeriod', config.atrPeriod, 1);
  const s = config.sizing;
  if (s.mode === 'fixed-fraction') fraction('sizing.fraction', s.fraction);
  else if (s.mode === 'kelly') {
    fraction('sizing.multiplier', s.multiplier);
    fraction('sizing.winRate', s.winRate, { max: 1, allowZero: true });
    positive('sizing.payoff', s.payoff);
    integer('sizing.minTrades', s.minTrades, 1);
    fraction('sizing.maxFraction', s.maxFraction);
  } else {
    throw new ConfigError(
      `risk config: sizing.mode must be fixed-fraction or kelly, got ${JSON.stringify((s as { mode: unknown }).mode)}`,
    );
  }
  const r = config.rules;
  const expected = Object.keys(defaultRiskConfig().rules).sort();
  const actual = Object.keys(r).sort();
  if (expected.join() !== actual.join()) {
    throw new ConfigError(
      `risk config: rules must be exactly ${expected.join(', ')}; got ${actual.join(', ')}`,
    );
  }
  for (const [name, rule] of Object.entries(r)) {
    if (typeof (rule as { enabled: unknown }).enabled !== 'boolean') {
      throw new ConfigError(`risk config: rules.${name}.enabled must be true or false`);
    }
  }
  fraction('rules.maxRiskPerTrade.fraction', r.maxRiskPerTrade.fraction);
  positive('rules.stopLoss.atrMultiple', r.stopLoss.atrMultiple);
  positive('rules.trailingStop.atrMultiple', r.trailingStop.atrMultiple);
  integer('rules.timeStop.maxCandles', r.timeStop.maxCandles, 1);
  positive('rules.takeProfit.rMultiple', r.takeProfit.rMultiple);
  integer('rules.maxPositions.max', r.maxPositions.max, 1);
  fraction('rules.maxAssetExposure.fraction', r.maxAssetExposure.fraction);
  fraction('rules.maxHeat.fraction', r.maxHeat.fraction);
  fraction('rules.correlation.maxCorrelation', r.correlation.maxCorrelation);
  integer('rules.correlation.lookback', r.correlation.lookback, 3);
  integer('rules.correlation.minSamples', r.correlation.minSamples, 3);
  if (r.correlation.minSamples > r.correlation.lookback) {
    throw new ConfigError('risk config: rules.correlation.minSamples must not exceed lookback');
  }
  fraction('rules.drawdown.reduceAt', r.drawdown.reduceAt);
  fraction('rules.drawdown.reduceFactor', r.drawdown.reduceFactor);
  fraction('rules.drawdown.haltAt', r.drawdown.haltAt);
  for (const period of ['daily', 'weekly', 'monthly'] as const) {
    const limit = r.lossLimits[period];
    if (limit !== null) fraction(`rules.lossLimits.${period}`, limit);
  }
  if (r.takeProfit.enabled && !r.stopLoss.enabled) {
    throw new ConfigError(
      'risk config: takeProfit is an R-multiple of the stop distance, so it needs stopLoss enabled',
    );
  }
  return config;
}

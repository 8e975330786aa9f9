/**
 * What a backtest is: the strategy, the market range, and the settings that shape decisions
 * (capital, fills, risk, entry-order time to live). Built from defaults, then a config file, then
 * command-line flags, each validated with errors that name the offending key. The settings are
 * recorded whole in RunStarted.settings, so a stored run can be re-derived (`replay verify`) even
 * after the defaults change.
 */

import { ConfigError } from '../../domain/errors.js';
import {
  DEFAULT_FILL_CONFIG,
  type FillConfig,
  validateFillConfig,
} from '../../domain/execution/fill-config.js';
import type { KernelContext } from '../../domain/kernel/config.js';
import { defaultKernelConfig, type KernelConfig } from '../../domain/kernel/config.js';
import type { Timeframe } from '../../domain/market/timeframe.js';
import {
  defaultRiskConfig,
  kellySizing,
  type RiskConfig,
  riskNone,
  validateRiskConfig,
} from '../../domain/risk/config.js';
import { builtInStrategy } from '../../domain/strategies/index.js';
import type { StrategyDefinition } from '../../domain/strategies/strategy.js';
import type { SimulationSetup } from './simulate.js';

/** Everything but the strategy and the market range that shapes a run's decisions. */
export interface BacktestSettings {
  /** starting cash in the quote currency */
  readonly capital: number;
  /** the symbols' quote currency (derived from the symbols) */
  readonly quoteCurrency: string;
  readonly fills: FillConfig;
  readonly risk: RiskConfig;
  readonly entryOrderTtlCandles: number;
}

export interface BacktestSpec {
  readonly strategy: { readonly name: string; readonly params: Readonly<Record<string, number>> };
  readonly exchange: string;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  /** open time of the first candle (epoch ms) */
  readonly from: number;
  /** exclusive */
  readonly to: number;
  readonly settings: BacktestSettings;
}

export const DEFAULT_CAPITAL = 10_000;

export function defaultSettings(quoteCurrency = 'USDT'): BacktestSettings {
  const kernel = defaultKernelConfig();
  return {
    capital: DEFAULT_CAPITAL,
    quoteCurrency,
    fills: structuredClone(DEFAULT_FILL_CONFIG) as FillConfig,
    risk: defaultRiskConfig(),
    entryOrderTtlCandles: kernel.entryOrderTtlCandles,
  };
}

/** The quote currency the symbols share; ConfigError when they differ. */
export function quoteOf(symbols: readonly string[]): string {
  const quotes = [...new Set(symbols.map((s) => s.split('/')[1] ?? ''))];
  if (quotes.length !== 1 || !quotes[0]) {
    throw new ConfigError(
      `--symbols: one portfolio needs one quote currency, got ${quotes.join(', ') || 'none'}`,
      'run one backtest per quote currency, e.g. --symbols BTC/USDT,ETH/USDT',
    );
  }
  return quotes[0];
}

/** The kernel's configuration and context for a spec, under a run id. */
export function kernelSetup(spec: BacktestSpec, runId: string): SimulationSetup {
  const s = spec.settings;
  const config: KernelConfig = defaultKernelConfig({
    initialCash: s.capital,
    quoteCurrency: s.quoteCurrency,
    fills: s.fills,
    risk: s.risk,
    entryOrderTtlCandles: s.entryOrderTtlCandles,
  });
  const context: KernelContext = {
    accountId: `bt-${runId}`,
    mode: 'backtest',
    runId,
    exchange: spec.exchange,
    timeframe: spec.timeframe,
    symbols: spec.symbols,
    strategies: [strategyOf(spec)],
  };
  return { config, context };
}

export function strategyOf(spec: Pick<BacktestSpec, 'strategy'>): StrategyDefinition {
  return builtInStrategy(spec.strategy.name, { ...spec.strategy.params });
}

// ─── the config file ─────────────────────────────────────────────────────────────────────────

/**
 * The keys a config file may hold (all optional); docs/backtesting.md shows an example.
 * Settings keys are merged onto the defaults key by key: give only what differs.
 */
export interface ConfigFile {
  strategy?: string;
  params?: Record<string, number>;
  exchange?: string;
  symbols?: string[] | string;
  timeframe?: string;
  from?: string | number;
  to?: string | number;
  /** a crash preset (src/replay/research/scenarios.ts) instead of from/to */
  scenario?: string;
  runId?: string;
  capital?: number;
  entryOrderTtlCandles?: number;
  fills?: Partial<FillConfig>;
  /** "none" | "default" | { preset?: "default" | "none", fraction?, atrPeriod?, sizing?, rules? } */
  risk?: unknown;
}

const FILE_KEYS = [
  'strategy',
  'params',
  'exchange',
  'symbols',
  'timeframe',
  'from',
  'to',
  'scenario',
  'runId',
  'capital',
  'entryOrderTtlCandles',
  'fills',
  'risk',
] as const;

/** Checks the top level of a parsed config file; the values are checked where they are used. */
export function readConfigFile(value: unknown, file: string): ConfigFile {
  if (!isObject(value)) throw new ConfigError(`${file}: expected a JSON object`);
  for (const key of Object.keys(value)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`${file}: unknown key "${key}"`, `the keys are ${FILE_KEYS.join(', ')}`);
    }
  }
  const c = value as ConfigFile;
  const type = (key: keyof ConfigFile, expected: string, ok: (v: unknown) => boolean) => {
    if (c[key] !== undefined && !ok(c[key]))
      throw new ConfigError(`${file}: "${key}" must be ${expected}, got ${JSON.stringify(c[key])}`);
  };
  type('strategy', 'a string', (v) => typeof v === 'string');
  type('exchange', 'a string', (v) => typeof v === 'string');
  type('timeframe', 'a string', (v) => typeof v === 'string');
  type('runId', 'a string', (v) => typeof v === 'string');
  type('from', 'a date string or epoch ms', (v) => typeof v === 'string' || typeof v === 'number');
  type('to', 'a date string or epoch ms', (v) => typeof v === 'string' || typeof v === 'number');
  type('scenario', 'a scenario name', (v) => typeof v === 'string');
  type(
    'symbols',
    'a list of symbols',
    (v) => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')),
  );
  type('capital', 'a positive number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
  type('entryOrderTtlCandles', 'an integer >= 1', (v) => Number.isInteger(v) && (v as number) >= 1);
  type(
    'params',
    'an object of numbers',
    (v) => isObject(v) && Object.values(v).every((n) => typeof n === 'number'),
  );
  type('fills', 'an object', isObject);
  return c;
}

/** Fills: the defaults with the file's keys laid over them (slippage replaced when its model changes). */
export function fillsFrom(base: FillConfig, override: unknown, where: string): FillConfig {
  if (override === undefined) return base;
  const o = override as Record<string, unknown>;
  let merged: Record<string, unknown>;
  if (isObject(o.slippage) && o.slippage.model !== undefined && o.slippage.model !== base.slippage.model) {
    const slippageBase = SLIPPAGE_DEFAULTS[String(o.slippage.model)];
    if (!slippageBase)
      throw new ConfigError(
        `${where}.slippage.model: "${String(o.slippage.model)}" is not a slippage model`,
        `use one of ${Object.keys(SLIPPAGE_DEFAULTS).join(', ')}`,
      );
    merged = mergeChecked({ ...base, slippage: slippageBase }, o, where);
  } else merged = mergeChecked(base, o, where);
  return wrap(where, () => validateFillConfig(merged as unknown as FillConfig));
}

const SLIPPAGE_DEFAULTS: Record<string, FillConfig['slippage']> = {
  fixed: { model: 'fixed', bps: 5 },
  volatility: { model: 'volatility', baseBps: 2, atrShare: 10 },
  volume: { model: 'volume', baseBps: 2, impactBps: 50 },
};

/**
 * Risk: "default", "none" (with `fraction`, default 0.95), or an object whose `preset` picks the
 * base ("default" unless given) and whose other keys override it key by key, e.g.
 * { "rules": { "timeStop": { "enabled": false }, "maxPositions": { "max": 5 } } }.
 */
export function riskFrom(override: unknown, where: string): RiskConfig {
  if (override === undefined || override === 'default') return defaultRiskConfig();
  if (override === 'none') return riskNone(0.95);
  if (!isObject(override))
    throw new ConfigError(
      `${where}: expected "default", "none" or an object, got ${JSON.stringify(override)}`,
    );
  const { preset = 'default', fraction, ...rest } = override as Record<string, unknown>;
  if (preset !== 'default' && preset !== 'none')
    throw new ConfigError(`${where}.preset: "${String(preset)}" is not a preset`, 'use "default" or "none"');
  if (fraction !== undefined && typeof fraction !== 'number')
    throw new ConfigError(`${where}.fraction: must be a number, got ${JSON.stringify(fraction)}`);
  let base = preset === 'none' ? riskNone((fraction as number | undefined) ?? 0.95) : defaultRiskConfig();
  if (preset === 'default' && fraction !== undefined)
    base = { ...base, sizing: { mode: 'fixed-fraction', fraction: fraction as number } };
  const sizing = rest.sizing as Record<string, unknown> | undefined;
  if (isObject(sizing) && sizing.mode !== undefined && sizing.mode !== base.sizing.mode) {
    if (sizing.mode === 'kelly') base = { ...base, sizing: kellySizing() };
    else if (sizing.mode === 'fixed-fraction')
      base = { ...base, sizing: { mode: 'fixed-fraction', fraction: 0.2 } };
    else
      throw new ConfigError(
        `${where}.sizing.mode: "${String(sizing.mode)}" is not a sizing mode`,
        'use fixed-fraction or kelly',
      );
  }
  const merged = mergeChecked(base, rest, where);
  return wrap(where, () => validateRiskConfig(merged as unknown as RiskConfig));
}

/**
 * `base` with `override`'s keys laid over it, recursively. Every key must exist in `base` and
 * keep its type (a number stays a number, null and numbers mix): the error names the key path.
 */
export function mergeChecked(base: object, override: unknown, where: string): Record<string, unknown> {
  if (!isObject(override))
    throw new ConfigError(`${where}: expected an object, got ${JSON.stringify(override)}`);
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    const path = `${where}.${key}`;
    if (!Object.hasOwn(base, key)) {
      throw new ConfigError(`${path}: unknown key`, `${where} takes ${Object.keys(base).join(', ')}`);
    }
    const current = (base as Record<string, unknown>)[key];
    if (isObject(current)) out[key] = mergeChecked(current, value, path);
    else if (!sameKind(current, value)) {
      throw new ConfigError(`${path}: expected ${kindOf(current)}, got ${JSON.stringify(value)}`);
    } else out[key] = value;
  }
  return out;
}

function sameKind(current: unknown, value: unknown): boolean {
  if (typeof current === 'number' || current === null)
    return value === null || (typeof value === 'number' && Number.isFinite(value));
  return typeof current === typeof value;
}

function kindOf(current: unknown): string {
  if (typeof current === 'number' || current === null) return 'a number (or null)';
  if (typeof current === 'boolean') return 'true or false';
  return `a ${typeof current}`;
}

function wrap<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${where}: ${error.message}`, error.hint);
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

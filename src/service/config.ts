/**
 * The paper-trading service's configuration: `tradekernel.config.json` (JSON with // and /* *\/
 * comments) plus environment variables (or `.env`) for secrets. Every error names the key and
 * the fix. Risk and fill overrides reuse the backtest's parsers (src/replay/backtest/settings.ts),
 * so `backtest --config` and the service read those sections the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../domain/errors.js';
import { DEFAULT_FILL_CONFIG, type FillConfig } from '../domain/execution/fill-config.js';
import { defaultKernelConfig, type KernelConfig, validateKernel } from '../domain/kernel/config.js';
import { isTimeframe, type Timeframe } from '../domain/market/timeframe.js';
import type { RiskConfig } from '../domain/risk/config.js';
import { BUILT_IN_STRATEGY_NAMES, builtInStrategy } from '../domain/strategies/index.js';
import type { StrategyDefinition } from '../domain/strategies/strategy.js';
import { fillsFrom, riskFrom } from '../replay/backtest/settings.js';

export const CONFIG_FILE = 'tradekernel.config.json';
export const SMTP_PASSWORD_ENV = 'TRADEKERNEL_SMTP_PASSWORD';

export interface StrategyRef {
  readonly name: string;
  readonly params: Readonly<Record<string, number>>;
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user: string | null;
  /** from the environment (TRADEKERNEL_SMTP_PASSWORD), never from the file */
  readonly password: string | null;
  readonly from: string;
  readonly to: readonly string[];
}

export interface ServiceConfig {
  /** account name: the account stream is `paper-<account>` */
  readonly account: string;
  readonly exchange: string;
  /** send the exchange's API requests to this origin (a mirror; tests) */
  readonly exchangeApiUrl: string | null;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  readonly capital: number;
  readonly quoteCurrency: string;
  readonly strategies: readonly StrategyRef[];
  readonly risk: RiskConfig;
  readonly fills: FillConfig;
  readonly entryOrderTtlCandles: number;
  /** candles fetched before the start, to warm the indicators up (traded paused: no entries) */
  readonly warmupCandles: number;
  /** wait after a candle closes before fetching it (the exchange publishes it a little later) */
  readonly settleDelayMs: number;
  /** a candle older than this when it arrives is handled paused: no new decisions on stale data */
  readonly maxDataAgeMs: number;
  /** attempts per fetch (the source retries transient errors inside each attempt too) */
  readonly fetchAttempts: number;
  readonly api: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly reports: {
    /** UTC hour after which the previous day's report goes out */
    readonly dailyHourUtc: number;
    readonly weekly: boolean;
  };
  readonly alerts: {
    /** drawdown fractions, each alerted once when crossed */
    readonly drawdownThresholds: readonly number[];
    /** a crossed threshold re-arms once drawdown is below it by this much (hysteresis) */
    readonly rearmMargin: number;
  };
  readonly smtp: SmtpSettings | null;
  readonly logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const CONFIG_KEYS = [
  'account',
  'exchange',
  'exchangeApiUrl',
  'timeframe',
  'symbols',
  'capital',
  'strategies',
  'risk',
  'fills',
  'entryOrderTtlCandles',
  'warmupCandles',
  'settleDelaySeconds',
  'maxDataAgeMinutes',
  'fetchAttempts',
  'api',
  'reports',
  'alerts',
  'smtp',
  'logLevel',
] as const;

/** Removes // and /* *\/ comments outside strings, and trailing commas, keeping line numbers. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += next ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
    } else if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') out += '\n';
        i++;
      }
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

export function parseConfigText(text: string, file: string): unknown {
  try {
    return JSON.parse(stripJsonComments(text));
  } catch (error) {
    throw new ConfigError(
      `${file}: not valid JSON (comments allowed): ${(error as Error).message}`,
      'fix the syntax, or write a fresh file with `tradekernel init --force`',
    );
  }
}

export function readConfigFileAt(path: string, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  if (!existsSync(path))
    throw new ConfigError(
      `${path}: no such file`,
      'write one with `tradekernel init` or pass --config <file>',
    );
  return validateServiceConfig(parseConfigText(readFileSync(path, 'utf8'), path), path, env);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A nested section's keys: a typo ("api.prot") is an error, not a setting silently ignored. */
function onlyKeys(raw: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const key of Object.keys(raw)) {
    if (!keys.includes(key))
      throw new ConfigError(`${where}: unknown key "${key}"`, `the keys are ${keys.join(', ')}`);
  }
}

/** A true/false setting: "true" (a string) would otherwise read as false. */
function flag(raw: Record<string, unknown>, key: string, fallback: boolean, where: string): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean')
    throw new ConfigError(`${where}.${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Defaults, the file's keys over them, then the environment's secrets; validated whole. */
export function validateServiceConfig(
  value: unknown,
  file = CONFIG_FILE,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  if (!isObject(value)) throw new ConfigError(`${file}: expected a JSON object`);
  for (const key of Object.keys(value)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      throw new ConfigError(`${file}: unknown key "${key}"`, `the keys are ${CONFIG_KEYS.join(', ')}`);
  }
  const at = (key: string) => `${file}: "${key}"`;
  const str = (key: string, fallback: string, pattern?: RegExp, hint?: string): string => {
    const v = value[key] ?? fallback;
    if (typeof v !== 'string' || (pattern && !pattern.test(v)))
      throw new ConfigError(`${at(key)} must be ${hint ?? 'a string'}, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (key: string, fallback: number, ok: (n: number) => boolean, expected: string): number => {
    const v = value[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
      throw new ConfigError(`${at(key)} must be ${expected}, got ${JSON.stringify(v)}`);
    return v;
  };

  const account = str(
    'account',
    'main',
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,80}$/,
    'letters, digits, _ . : - (e.g. "main")',
  );
  const exchange = str('exchange', 'binance', /^[a-z0-9]{2,30}$/, 'a ccxt exchange id like "binance"');
  const exchangeApiUrl =
    value.exchangeApiUrl === undefined ? null : str('exchangeApiUrl', '', /^https?:\/\//, 'an http(s) URL');
  const timeframe = str('timeframe', '1h');
  if (!isTimeframe(timeframe))
    throw new ConfigError(`${at('timeframe')}: "${timeframe}" is not a timeframe`, 'use e.g. 1h, 4h, 1d');
  const symbolsRaw = value.symbols ?? ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
  if (
    !Array.isArray(symbolsRaw) ||
    symbolsRaw.length === 0 ||
    !symbolsRaw.every((s) => typeof s === 'string')
  )
    throw new ConfigError(
      `${at('symbols')} must be a non-empty list like ["BTC/USDT"], got ${JSON.stringify(symbolsRaw)}`,
    );
  const symbols = symbolsRaw as string[];
  for (const s of symbols) {
    if (!/^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/.test(s))
      throw new ConfigError(
        `${at('symbols')}: "${s}" is not a spot symbol`,
        'write BASE/QUOTE in capitals, e.g. "BTC/USDT"',
      );
  }
  const quotes = [...new Set(symbols.map((s) => s.split('/')[1]!))];
  if (quotes.length !== 1)
    throw new ConfigError(
      `${at('symbols')}: one account needs one quote currency, got ${quotes.join(', ')}`,
      'run one account per quote currency',
    );
  const capital = num('capital', 1_000, (n) => n > 0, 'a positive amount of the quote currency');

  const strategiesRaw = value.strategies ?? BUILT_IN_STRATEGY_NAMES;
  if (!Array.isArray(strategiesRaw) || strategiesRaw.length === 0)
    throw new ConfigError(
      `${at('strategies')} must be a non-empty list`,
      `built in: ${BUILT_IN_STRATEGY_NAMES.join(', ')}`,
    );
  const strategies: StrategyRef[] = strategiesRaw.map((s, i) => {
    const ref = typeof s === 'string' ? { name: s, params: {} } : s;
    if (!isObject(ref) || typeof ref.name !== 'string')
      throw new ConfigError(`${at('strategies')}[${i}] must be a name or { "name": ..., "params": {...} }`);
    onlyKeys(ref, ['name', 'params'], `${at('strategies')}[${i}]`);
    const params = (ref.params ?? {}) as Record<string, number>;
    try {
      builtInStrategy(ref.name, params);
    } catch (error) {
      throw new ConfigError(
        `${at('strategies')}[${i}]: ${(error as Error).message}`,
        `built in: ${BUILT_IN_STRATEGY_NAMES.join(', ')}`,
      );
    }
    return { name: ref.name, params };
  });

  const risk = riskFrom(value.risk, `${file}: risk`);
  const fills = fillsFrom(structuredClone(DEFAULT_FILL_CONFIG) as FillConfig, value.fills, `${file}: fills`);
  const entryOrderTtlCandles = num(
    'entryOrderTtlCandles',
    defaultKernelConfig().entryOrderTtlCandles,
    (n) => Number.isInteger(n) && n >= 1,
    'an integer >= 1',
  );
  const warmupCandles = num(
    'warmupCandles',
    200,
    (n) => Number.isInteger(n) && n >= 0 && n <= 5_000,
    'an integer from 0 to 5000',
  );
  const settleDelayMs =
    num('settleDelaySeconds', 10, (n) => n >= 0 && n <= 600, 'seconds from 0 to 600') * 1000;
  const maxDataAgeMs = num('maxDataAgeMinutes', 90, (n) => n > 0, 'a positive number of minutes') * 60_000;
  const fetchAttempts = num(
    'fetchAttempts',
    3,
    (n) => Number.isInteger(n) && n >= 1 && n <= 20,
    'an integer from 1 to 20',
  );

  const apiRaw = value.api ?? {};
  if (!isObject(apiRaw)) throw new ConfigError(`${at('api')} must be an object like { "port": 8080 }`);
  onlyKeys(apiRaw, ['enabled', 'host', 'port'], at('api'));
  const host = apiRaw.host ?? '127.0.0.1';
  const port = apiRaw.port ?? 8080;
  if (typeof host !== 'string' || host === '')
    throw new ConfigError(
      `${at('api')}.host must be an address, got ${JSON.stringify(host)}`,
      'e.g. "127.0.0.1"',
    );
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError(`${at('api')}.port must be a port 0-65535, got ${JSON.stringify(port)}`);
  const api = { enabled: flag(apiRaw, 'enabled', true, at('api')), host, port };

  const reportsRaw = value.reports ?? {};
  if (!isObject(reportsRaw)) throw new ConfigError(`${at('reports')} must be an object`);
  onlyKeys(reportsRaw, ['dailyHourUtc', 'weekly'], at('reports'));
  const weekly = flag(reportsRaw, 'weekly', true, at('reports'));
  const dailyHourUtc = reportsRaw.dailyHourUtc ?? 0;
  if (
    typeof dailyHourUtc !== 'number' ||
    !Number.isInteger(dailyHourUtc) ||
    dailyHourUtc < 0 ||
    dailyHourUtc > 23
  )
    throw new ConfigError(
      `${at('reports')}.dailyHourUtc must be an hour 0-23, got ${JSON.stringify(dailyHourUtc)}`,
    );

  const alertsRaw = value.alerts ?? {};
  if (!isObject(alertsRaw)) throw new ConfigError(`${at('alerts')} must be an object`);
  onlyKeys(alertsRaw, ['drawdownThresholds', 'rearmMargin'], at('alerts'));
  const thresholds = alertsRaw.drawdownThresholds ?? [0.05, 0.1, 0.15];
  if (!Array.isArray(thresholds) || !thresholds.every((t) => typeof t === 'number' && t > 0 && t < 1))
    throw new ConfigError(
      `${at('alerts')}.drawdownThresholds must be fractions between 0 and 1, e.g. [0.05, 0.1]`,
    );
  const rearmMargin = alertsRaw.rearmMargin ?? 0.02;
  if (typeof rearmMargin !== 'number' || !(rearmMargin >= 0 && rearmMargin < 1))
    throw new ConfigError(
      `${at('alerts')}.rearmMargin must be a fraction from 0 to 1, got ${JSON.stringify(rearmMargin)}`,
      'e.g. 0.02: a 5 % drawdown alert re-arms once drawdown is back under 3 %',
    );

  const smtp = smtpFrom(value.smtp, file, env);
  const logLevel = str('logLevel', 'info');
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(
      `${at('logLevel')}: "${logLevel}" is not a level`,
      `use one of ${LOG_LEVELS.join(', ')}`,
    );

  const config: ServiceConfig = {
    account,
    exchange,
    exchangeApiUrl,
    timeframe,
    symbols,
    capital,
    quoteCurrency: quotes[0]!,
    strategies,
    risk,
    fills,
    entryOrderTtlCandles,
    warmupCandles,
    settleDelayMs,
    maxDataAgeMs,
    fetchAttempts,
    api,
    reports: { dailyHourUtc, weekly },
    alerts: { drawdownThresholds: [...thresholds].sort((a, b) => a - b), rearmMargin },
    smtp,
    logLevel,
  };
  // the kernel's own checks, named as config errors
  try {
    const { config: k, context } = kernelSetupOf(config, 'check');
    validateKernel(k, context);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${file}: ${error.message}`, error.hint);
    throw error;
  }
  return config;
}

function smtpFrom(raw: unknown, file: string, env: NodeJS.ProcessEnv): SmtpSettings | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw new ConfigError(`${file}: "smtp" must be an object or null`);
  const where = `${file}: "smtp"`;
  if ('password' in raw)
    throw new ConfigError(
      `${where}.password: secrets do not belong in the file`,
      `put it in the environment or .env as ${SMTP_PASSWORD_ENV}`,
    );
  onlyKeys(raw, ['enabled', 'host', 'port', 'secure', 'user', 'from', 'to'], where);
  if (!flag(raw, 'enabled', true, where)) return null;
  if (typeof raw.host !== 'string' || raw.host === '')
    throw new ConfigError(
      `${where}.host is missing`,
      'give the mail server, e.g. "smtp.example.com", or set "smtp": null',
    );
  const port = raw.port ?? 587;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(`${where}.port must be a port, got ${JSON.stringify(port)}`);
  const to = typeof raw.to === 'string' ? [raw.to] : raw.to;
  if (!Array.isArray(to) || to.length === 0 || !to.every((t) => typeof t === 'string' && t.includes('@')))
    throw new ConfigError(
      `${where}.to must be an address or a list of addresses`,
      'e.g. "to": "me@example.com"',
    );
  if (typeof raw.from !== 'string' || !raw.from.includes('@'))
    throw new ConfigError(`${where}.from must be an address`, 'e.g. "from": "tradekernel@example.com"');
  if (raw.user !== undefined && raw.user !== null && typeof raw.user !== 'string')
    throw new ConfigError(`${where}.user must be a user name, got ${JSON.stringify(raw.user)}`);
  const user = typeof raw.user === 'string' ? raw.user : null;
  const password = env[SMTP_PASSWORD_ENV] ?? null;
  if (user && !password)
    throw new ConfigError(
      `${where}.user is set but ${SMTP_PASSWORD_ENV} is not`,
      `set ${SMTP_PASSWORD_ENV} in the environment or .env`,
    );
  return {
    host: raw.host,
    port,
    secure: flag(raw, 'secure', false, where),
    user,
    password,
    from: raw.from,
    to: to as string[],
  };
}

/** The account stream: `paper-<account>`. */
export const accountStreamOf = (config: Pick<ServiceConfig, 'account'>) => `paper-${config.account}`;

export function strategiesOf(config: ServiceConfig): StrategyDefinition[] {
  return config.strategies.map((s) => builtInStrategy(s.name, { ...s.params }));
}

/** What shapes decisions: recorded in RunStarted.settings and checked on every restart. */
export function decisionSettings(config: ServiceConfig): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      capital: config.capital,
      quoteCurrency: config.quoteCurrency,
      fills: config.fills,
      risk: config.risk,
      entryOrderTtlCandles: config.entryOrderTtlCandles,
    }),
  ) as Record<string, unknown>;
}

export function kernelSetupOf(config: ServiceConfig, runId: string) {
  const kernel: KernelConfig = defaultKernelConfig({
    initialCash: config.capital,
    quoteCurrency: config.quoteCurrency,
    fills: config.fills,
    risk: config.risk,
    entryOrderTtlCandles: config.entryOrderTtlCandles,
  });
  return {
    config: kernel,
    context: {
      accountId: accountStreamOf(config),
      mode: 'paper' as const,
      runId,
      exchange: config.exchange,
      timeframe: config.timeframe,
      symbols: config.symbols,
      strategies: strategiesOf(config),
    },
  };
}

/** The commented default `tradekernel init` writes. */
export function defaultConfigText(): string {
  return `// tradekernel paper-trading service configuration (docs/service.md).
// JSON with comments. Secrets never go here: put them in the environment or .env:
//   TRADEKERNEL_SMTP_PASSWORD   the SMTP password (when smtp.user is set)
//   TRADEKERNEL_API_TOKEN       bearer token of the control endpoints (pause, kill switch, ...)
// Check it with: tradekernel config check
{
  // the account: events go to the stream paper-<account>
  "account": "main",
  // ccxt exchange id; public market data only, no API key needed for paper trading
  "exchange": "binance",
  "timeframe": "1h",
  "symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
  // starting cash in the quote currency
  "capital": 1000,
  // built-in strategies (ema-cross, rsi-reversion); { "name": "ema-cross", "params": { "fast": 12 } }
  "strategies": ["ema-cross", "rsi-reversion"],
  // the owner's risk rules (docs/risk-rules.md); override key by key, e.g.
  // { "rules": { "maxPositions": { "max": 2 } } }, or "none"
  "risk": "default",
  // fill model (docs/fill-contract.md); e.g. { "feeRate": 0.001 }
  "fills": {},
  // candles fetched before the start to warm up the indicators (handled paused: no entries)
  "warmupCandles": 200,
  // wait after each candle close before fetching it
  "settleDelaySeconds": 10,
  // a candle older than this on arrival is never traded on (a logged, evented skip)
  "maxDataAgeMinutes": 90,
  "fetchAttempts": 3,
  // the query API (+ /metrics) runs inside the service
  "api": { "enabled": true, "host": "127.0.0.1", "port": 8080 },
  // daily report after this UTC hour (Markdown under <data-dir>/reports, and e-mail); weekly deep dive on Mondays
  "reports": { "dailyHourUtc": 0, "weekly": true },
  // e-mailed at once: drawdown crossing a threshold (once; re-armed when drawdown is back under
  // the threshold minus rearmMargin), loss-limit halts, data-collection failures, errors
  "alerts": { "drawdownThresholds": [0.05, 0.1, 0.15], "rearmMargin": 0.02 },
  // e-mail; null disables it. e.g. { "host": "smtp.example.com", "port": 587, "user": "me",
  //   "from": "tradekernel@example.com", "to": "me@example.com" }
  "smtp": null,
  "logLevel": "info"
}
`;
}

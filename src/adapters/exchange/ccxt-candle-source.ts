import type { Exchange } from 'ccxt';
import { ConfigError, TradekernelError, UnavailableError } from '../../domain/errors.js';
import type { Candle } from '../../domain/market/candle.js';
import type { ObservedMarketRules } from '../../domain/market/market-rules.js';
import type { Timeframe } from '../../domain/market/timeframe.js';
import type { CandleSource } from '../../domain/ports/candle-source.js';
import { rulesOfCcxtMarket } from './ccxt-market-rules.js';
import { RetriesExhaustedError, type RetryPolicy, withRetry } from './retry.js';

/**
 * The CandleSource port on ccxt: public market-data endpoints only, no API key. ccxt is loaded
 * on first use (it is large), with its rate limiter on (`enableRateLimit`), so consecutive
 * requests are spaced as the exchange asks. Network failures are retried with back-off here.
 */

export interface CcxtCandleSourceOptions {
  /** ccxt exchange id, e.g. binance */
  exchange: string;
  /**
   * Sends every API request to this origin instead of the exchange's (e.g. http://127.0.0.1:8080):
   * a mirror, a proxy, or a recorded-response server in tests. The paths stay the exchange's.
   */
  apiUrl?: string;
  /** per request, default 10 s */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** called before each wait between attempts (for a message on the terminal) */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** An exchange that answered, but refused the request (not a network problem). */
export class ExchangeRequestError extends TradekernelError {
  constructor(message: string, hint?: string) {
    super(message, 'exchange_request', hint);
  }
}

type CcxtModule = typeof import('ccxt');

/** The ccxt class of an exchange id, or undefined when ccxt does not know the id. */
function exchangeClass(ccxt: CcxtModule, id: string): (new (config: object) => Exchange) | undefined {
  const classes = ccxt.exchanges as unknown as Record<string, new (config: object) => Exchange>;
  const ExchangeClass = Object.hasOwn(classes, id) ? classes[id] : undefined;
  return typeof ExchangeClass === 'function' ? ExchangeClass : undefined;
}

/** Whether ccxt knows this exchange id (loads ccxt, ~0.7 s: for checks that run once). */
export async function isCcxtExchange(id: string): Promise<boolean> {
  return exchangeClass(await import('ccxt'), id) !== undefined;
}

export async function openCcxtCandleSource(options: CcxtCandleSourceOptions): Promise<CandleSource> {
  const ccxt: CcxtModule = await import('ccxt');
  const id = options.exchange;
  const ExchangeClass = exchangeClass(ccxt, id);
  if (ExchangeClass === undefined) {
    throw new ConfigError(
      `--exchange "${id}" is not an exchange ccxt knows`,
      'use a ccxt exchange id, for example binance, kraken, okx, bybit, coinbase',
    );
  }
  const config: Record<string, unknown> = { enableRateLimit: true, timeout: options.timeoutMs ?? 10_000 };
  // Spot only: Binance would otherwise also load its futures and options markets, from other hosts.
  if (id.startsWith('binance')) config.options = { fetchMarkets: { types: ['spot'] }, defaultType: 'spot' };
  const exchange = new ExchangeClass(config);
  if (!exchange.has.fetchOHLCV) {
    throw new ConfigError(
      `${id} does not publish candles through ccxt (no fetchOHLCV)`,
      'pick another exchange',
    );
  }
  if (options.apiUrl) redirectApi(exchange, options.apiUrl);
  return new CcxtCandleSource(ccxt, exchange, options);
}

class CcxtCandleSource implements CandleSource {
  readonly exchange: string;
  readonly location: string;
  readonly maxPageSize: number;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly ccxt: CcxtModule,
    private readonly client: Exchange,
    private readonly options: CcxtCandleSourceOptions,
  ) {
    this.exchange = client.id;
    this.location = options.apiUrl ?? firstUrl(client.urls?.api) ?? String(client.urls?.www ?? client.id);
    // Binance serves at most 1000 spot candles per request; ccxt's default elsewhere is lower.
    this.maxPageSize = client.id.startsWith('binance') ? 1000 : 500;
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
  }

  async fetchCandles(symbol: string, timeframe: Timeframe, since: number, limit: number): Promise<Candle[]> {
    const rows = await this.call(`${symbol} ${timeframe} candles`, async () => {
      // A failed first load leaves ccxt holding the rejected promise: force a reload.
      if (!this.client.markets) await this.client.loadMarkets(true);
      this.checkMarket(symbol, timeframe);
      return this.client.fetchOHLCV(symbol, timeframe, since, Math.min(limit, this.maxPageSize));
    });
    return rows.map(([openTime, open, high, low, close, volume]) => ({
      openTime: Number(openTime ?? Number.NaN),
      open: Number(open ?? Number.NaN),
      high: Number(high ?? Number.NaN),
      low: Number(low ?? Number.NaN),
      close: Number(close ?? Number.NaN),
      volume: Number(volume ?? Number.NaN),
    }));
  }

  async marketRules(symbol: string): Promise<ObservedMarketRules | null> {
    await this.call(`${symbol} market rules`, async () => {
      if (!this.client.markets) await this.client.loadMarkets(true);
      this.checkMarket(symbol);
    });
    const market = this.client.markets?.[symbol];
    const mode = this.client.precisionMode;
    return market && typeof mode === 'number' ? rulesOfCcxtMarket(market, mode) : null;
  }

  async close(): Promise<void> {
    const closable = this.client as unknown as { close?: () => Promise<void> };
    await closable.close?.().catch(() => {});
  }

  private checkMarket(symbol: string, timeframe?: Timeframe): void {
    const market = this.client.markets?.[symbol];
    if (!market) {
      throw new ConfigError(
        `${symbol} is not a market on ${this.exchange}`,
        'check the symbol (BASE/QUOTE as the exchange lists it, e.g. BTC/USDT)',
      );
    }
    if (market.spot === false) {
      throw new ConfigError(
        `${symbol} on ${this.exchange} is not a spot market`,
        'download spot markets only',
      );
    }
    if (timeframe !== undefined && this.client.timeframes && !(timeframe in this.client.timeframes)) {
      throw new ConfigError(
        `${this.exchange} has no ${timeframe} candles`,
        `use one of ${Object.keys(this.client.timeframes).join(', ')}`,
      );
    }
  }

  /** Runs one exchange call with retries, turning ccxt errors into tradekernel errors. */
  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    const { NetworkError, BadSymbol, ExchangeError } = this.ccxt;
    try {
      return await withRetry(work, this.policy, {
        retryable: (error) => error instanceof NetworkError,
        ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      });
    } catch (error) {
      if (error instanceof TradekernelError) throw error;
      if (error instanceof RetriesExhaustedError) {
        throw new UnavailableError(
          `${this.exchange} is unreachable at ${this.location}: ${what} failed ${error.attempts} ${error.attempts === 1 ? 'time' : 'times'}; ` +
            `last error: ${shorten((error.lastError as Error).message)}`,
          'check the network connection and the exchange status, then run the same command again: ' +
            'the download resumes after the last stored candle',
        );
      }
      if (error instanceof BadSymbol) {
        throw new ConfigError(`${this.exchange}: ${shorten((error as Error).message)}`, 'check the symbol');
      }
      if (error instanceof ExchangeError) {
        throw new ExchangeRequestError(
          `${this.exchange} refused the request for ${what}: ${shorten((error as Error).message)}`,
        );
      }
      throw error;
    }
  }
}

/** Replaces the origin of every API URL (nested maps included) with `origin`. */
function redirectApi(exchange: Exchange, origin: string): void {
  const base = origin.replace(/\/+$/, '');
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, base);
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = visit(record[key]);
    }
    return value;
  };
  exchange.urls.api = visit(exchange.urls.api) as Exchange['urls']['api'];
}

function firstUrl(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.public === 'string') return record.public;
    for (const item of Object.values(record)) {
      const found = firstUrl(item);
      if (found) return found;
    }
  }
  return undefined;
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Where the service's candles come from, behind the domain's CandleSource port: the live
 * exchange through ccxt (src/adapters/exchange), or recorded candles replayed "as if live"
 * (`--source replay:<file-or-dir>`, any format the importer reads). The loop treats both alike:
 * it asks for the candles after the last one it has and drops those not closed by its clock.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inferMarketFromFileName } from '../adapters/market-files/file-name.js';
import { readMarketFile } from '../adapters/market-files/read-market-file.js';
import { ConfigError } from '../domain/errors.js';
import type { Candle } from '../domain/market/candle.js';
import { type Timeframe, timeframeMs } from '../domain/market/timeframe.js';
import type { CandleSource } from '../domain/ports/candle-source.js';

export type SourceSpec = { kind: 'live' } | { kind: 'replay'; path: string };

export function parseSource(value: string): SourceSpec {
  if (value === 'live' || value === 'exchange') return { kind: 'live' };
  if (value.startsWith('replay:') && value.length > 'replay:'.length)
    return { kind: 'replay', path: value.slice('replay:'.length) };
  throw new ConfigError(`--source: "${value}" is not a source`, 'use live, or replay:<file-or-dir>');
}

/** Recorded candles served like an exchange serves them: by market, from a time, a page at a time. */
export class ReplayCandleSource implements CandleSource {
  readonly maxPageSize = 1000;
  constructor(
    readonly exchange: string,
    readonly location: string,
    private readonly markets: ReadonlyMap<string, readonly Candle[]>,
    private readonly timeframe: Timeframe,
  ) {}

  /** Reads every candle file under `path` (a file or a directory) for the given symbols. */
  static async open(path: string, exchange: string, timeframe: Timeframe, symbols: readonly string[]) {
    let files: string[];
    try {
      files = statSync(path).isDirectory()
        ? readdirSync(path)
            .sort()
            .map((f) => join(path, f))
            .filter((f) => statSync(f).isFile())
        : [path];
    } catch {
      throw new ConfigError(
        `--source replay:${path}: no such file or directory`,
        'try replay:examples/candles',
      );
    }
    const markets = new Map<string, Candle[]>();
    for (const file of files) {
      const inferred = inferMarketFromFileName(file);
      if (!inferred.symbol || !symbols.includes(inferred.symbol)) continue;
      if (inferred.timeframe !== null && inferred.timeframe !== timeframe) continue;
      const decoded = await readMarketFile(file);
      const list = markets.get(inferred.symbol) ?? [];
      for (const c of decoded.candles)
        list.push({
          openTime: c.openTime,
          open: c.open,
          high: c.high,
          low: c.low,
          close: c.close,
          volume: c.volume,
        });
      markets.set(inferred.symbol, list);
    }
    for (const symbol of symbols) {
      const list = markets.get(symbol);
      if (!list || list.length === 0)
        throw new ConfigError(
          `--source replay:${path}: no ${timeframe} candles of ${symbol}`,
          'name files like BTC_USDT-1h.json (freqtrade), BTCUSDT-1h-....csv (Binance) or pass --symbols',
        );
      list.sort((a, b) => a.openTime - b.openTime);
      // repeated candles across files: keep the first
      const unique = list.filter((c, i) => i === 0 || c.openTime !== list[i - 1]!.openTime);
      markets.set(symbol, unique);
    }
    return new ReplayCandleSource(exchange, `replay:${path}`, markets, timeframe);
  }

  /** First open time and last close time over every market. */
  range(): { first: number; lastClose: number } {
    let first = Number.POSITIVE_INFINITY;
    let lastClose = Number.NEGATIVE_INFINITY;
    for (const list of this.markets.values()) {
      first = Math.min(first, list[0]!.openTime);
      lastClose = Math.max(lastClose, list[list.length - 1]!.openTime + timeframeMs(this.timeframe));
    }
    return { first, lastClose };
  }

  async fetchCandles(symbol: string, timeframe: Timeframe, since: number, limit: number): Promise<Candle[]> {
    if (timeframe !== this.timeframe)
      throw new ConfigError(`replay source holds ${this.timeframe} candles, not ${timeframe}`);
    const list = this.markets.get(symbol);
    if (!list) throw new ConfigError(`replay source has no ${symbol}`);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.openTime < since) lo = mid + 1;
      else hi = mid;
    }
    return list.slice(lo, lo + Math.min(limit, this.maxPageSize)).map((c) => ({ ...c }));
  }

  async close(): Promise<void> {}
}

/**
 * A CandleSource that fails on demand: the soak's and the tests' injected timeouts and exchange
 * errors. A timeout waits `timeoutMs` real ms first, as a request that never answers would.
 */
export class FaultyCandleSource implements CandleSource {
  private calls = 0;
  constructor(
    private readonly inner: CandleSource,
    /** whether this call (0-based, over all symbols) fails, and how */
    private readonly fail: (call: number, symbol: string) => false | 'timeout' | 'error',
    private readonly timeoutMs = 0,
  ) {}
  get exchange() {
    return this.inner.exchange;
  }
  get location() {
    return this.inner.location;
  }
  get maxPageSize() {
    return this.inner.maxPageSize;
  }
  async fetchCandles(symbol: string, timeframe: Timeframe, since: number, limit: number): Promise<Candle[]> {
    const failure = this.fail(this.calls++, symbol);
    if (failure === 'timeout') {
      if (this.timeoutMs > 0) await new Promise((r) => setTimeout(r, this.timeoutMs));
      throw new Error(`injected timeout fetching ${symbol}: no answer in ${this.timeoutMs} ms`);
    }
    if (failure === 'error') throw new Error(`injected exchange error 503 fetching ${symbol}`);
    return this.inner.fetchCandles(symbol, timeframe, since, limit);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture, fixtureLines } from './support.js';

/**
 * A local stand-in for Binance's public spot REST API, serving the two endpoints ccxt uses to
 * download candles, with the real response shapes:
 * - GET /api/v3/exchangeInfo: test/fixtures/exchange/exchangeInfo.json (real-shaped, spot);
 * - GET /api/v3/klines?symbol&interval&startTime&endTime&limit: 12-element arrays exactly as
 *   Binance returns them (times and trade counts as numbers, prices and volumes as strings),
 *   oldest first, at most `limit` (default 500, max 1000), starting at the first candle opening
 *   at or after startTime (a hole in the data is skipped over, as Binance does).
 * Like the real exchange it serves the candle still forming at `now()`, and no later one.
 * A symbol's filters (its trading rules) can be changed between requests (setFilter).
 * Failures can be queued for the next klines requests: an HTTP status, or a response that
 * never comes (a timeout on the client side).
 */

/** [openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades, "takerBase", "takerQuote", "0"] */
export type KlineRow = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

export interface FakeBinance {
  /** origin to point ccxt at, e.g. http://127.0.0.1:43121 */
  url: string;
  /** every request received, in order */
  requests: { path: string; query: URLSearchParams; at: number }[];
  klineRequests(): URLSearchParams[];
  /** the next klines requests fail: with this status, or by never answering */
  failNext(...failures: (number | 'hang')[]): void;
  /**
   * Changes fields of one of a symbol's filters in the exchangeInfo served from now on, as
   * Binance does when it changes a market's rules, e.g. ('BTCUSDT', 'NOTIONAL', { minNotional: '10.00000000' }).
   */
  setFilter(symbol: string, filterType: string, fields: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeBinance(
  markets: Record<string, Record<string, KlineRow[]>>,
  options: { now: () => number },
): Promise<FakeBinance> {
  const exchangeInfo = JSON.parse(readFileSync(fixture('exchange/exchangeInfo.json'), 'utf8')) as {
    symbols: { symbol: string; filters: { filterType: string }[] }[];
  };
  const requests: FakeBinance['requests'] = [];
  const failures: (number | 'hang')[] = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ path: url.pathname, query: url.searchParams, at: Date.now() });
    if (url.pathname === '/api/v3/exchangeInfo') {
      const served = exchangeInfo.symbols.filter((s) => s.symbol in markets);
      return json(res, 200, { ...exchangeInfo, serverTime: options.now(), symbols: served });
    }
    if (url.pathname === '/api/v3/klines') {
      const failure = failures.shift();
      if (failure === 'hang') return; // never answered: the client times out
      if (failure !== undefined) {
        res.writeHead(failure, { 'content-type': 'text/html' });
        return res.end(`<html><body><h1>${failure} Service Unavailable</h1></body></html>`);
      }
      const rows = markets[url.searchParams.get('symbol') ?? '']?.[url.searchParams.get('interval') ?? ''];
      if (!rows) return json(res, 400, { code: -1121, msg: 'Invalid symbol.' });
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 500), 1000);
      const start = Number(url.searchParams.get('startTime') ?? 0);
      const end = Number(url.searchParams.get('endTime') ?? Number.MAX_SAFE_INTEGER);
      const now = options.now();
      const page = rows.filter((row) => row[0] >= start && row[0] <= end && row[0] <= now).slice(0, limit);
      return json(res, 200, page);
    }
    json(res, 404, { code: -1, msg: `no such endpoint ${url.pathname}` });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    klineRequests: () => requests.filter((r) => r.path === '/api/v3/klines').map((r) => r.query),
    failNext: (...next) => void failures.push(...next),
    setFilter(symbol, filterType, fields) {
      const filter = exchangeInfo.symbols
        .find((s) => s.symbol === symbol)
        ?.filters.find((f) => f.filterType === filterType);
      if (!filter) throw new Error(`fake binance: no ${filterType} filter for ${symbol}`);
      Object.assign(filter, fields);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Real Binance kline CSV rows (12 columns) as the REST API returns them. */
export function klineRowsFromCsv(path: string): KlineRow[] {
  return fixtureLines(path).map((line) => {
    const c = line.split(',');
    return [
      Number(c[0]),
      c[1]!,
      c[2]!,
      c[3]!,
      c[4]!,
      c[5]!,
      Number(c[6]),
      c[7]!,
      Number(c[8]),
      c[9]!,
      c[10]!,
      c[11]!,
    ];
  });
}

/**
 * 1h rows from real freqtrade candles ([open_time, o, h, l, c, v]): OHLCV as published, the
 * close time exact, the other columns (quote volume, trades, taker volumes) derived, since
 * freqtrade files do not keep them and ccxt does not read them.
 */
export function klineRowsFromFreqtrade(path: string, timeframeMs = 3_600_000): KlineRow[] {
  const rows = JSON.parse(readFileSync(path, 'utf8')) as number[][];
  return rows.map(([t, o, h, l, c, v]) => [
    t!,
    o!.toFixed(8),
    h!.toFixed(8),
    l!.toFixed(8),
    c!.toFixed(8),
    v!.toFixed(8),
    t! + timeframeMs - 1,
    (v! * c!).toFixed(8),
    0,
    '0.00000000',
    '0.00000000',
    '0',
  ]);
}

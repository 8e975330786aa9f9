/**
 * Reading candle files from disk. Typical use by an importer:
 *
 *   const market = resolveMarket(path, { symbol: flags.symbol, timeframe: flags.timeframe });
 *   const decoded = await readMarketFile(path);
 *   const issues = [...decoded.issues, ...validateCandles(decoded.candles, market.timeframe)];
 *   // all-or-nothing: if (issues.length) throw new InvalidCandlesError(path, issues)
 *   // --skip-invalid:  const candles = dropInvalidRows(decoded.candles, issues)
 *   const gaps = findGaps(candles, market.timeframe, { after: lastStoredOpenTime });
 */
export { BINANCE_KLINE_COLUMNS, parseBinanceKlines } from './binance-klines.js';
export { type Compression, detectCompression, detectTextFormat, type MarketFileFormat } from './detect.js';
export { MarketFileError } from './errors.js';
export {
  type InferredMarket,
  inferMarketFromFileName,
  type MarketFlags,
  type ResolvedMarket,
  resolveMarket,
} from './file-name.js';
export { parseFreqtradeJson } from './freqtrade-json.js';
export { parseOhlcvCsv } from './ohlcv-csv.js';
export { type DecodedMarketFile, decodeMarketFile, readMarketFile } from './read-market-file.js';
export type { ParsedCandles } from './rows.js';
export { parseUtcDateTime, readEpoch } from './values.js';

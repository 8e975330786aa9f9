import { ConfigError } from '../../domain/errors.js';
import {
  formatSymbol,
  isQuoteAsset,
  parseSymbol,
  splitConcatenatedSymbol,
} from '../../domain/market/symbol.js';
import { isTimeframe, TIMEFRAMES, type Timeframe } from '../../domain/market/timeframe.js';

/** What a file name says about its market; null for each part it does not say. */
export interface InferredMarket {
  symbol: string | null;
  timeframe: Timeframe | null;
}

const DATA_EXTENSIONS = /\.(gz|zip|csv|json|jsongz|txt)$/i;

/**
 * Reads the symbol and timeframe from the file name layouts in use:
 * - freqtrade `BTC_USDT-1h.json` (futures: `BTC_USDT_USDT-1h-futures.json` → BTC/USDT:USDT),
 * - Binance `BTCUSDT-1m-2021-01-01.csv` / `.zip` / `.csv.gz` (and monthly `…-2021-01.zip`),
 * - `BTCUSDT_1h.csv`.
 * Only the start of the name is read as a symbol, so a name such as `binance_export_1h.csv`
 * yields no symbol rather than a wrong one; the caller then asks for --symbol.
 */
export function inferMarketFromFileName(path: string): InferredMarket {
  let stem = path.split(/[/\\]/).pop() ?? '';
  while (DATA_EXTENSIONS.test(stem)) stem = stem.replace(DATA_EXTENSIONS, '');
  const tokens = stem.split(/[-_\s]+/).filter((token) => token !== '');
  return { symbol: symbolFromTokens(tokens), timeframe: timeframeFromTokens(tokens) };
}

function symbolFromTokens(tokens: readonly string[]): string | null {
  const [first, second, third] = tokens;
  if (first === undefined || !/[A-Za-z]/.test(first)) return null;
  if (second !== undefined && isQuoteAsset(second)) {
    const spot = formatSymbol(first, second);
    // freqtrade names futures BASE_QUOTE_SETTLE; ccxt writes that market BASE/QUOTE:SETTLE
    return spot && third !== undefined && isQuoteAsset(third) ? `${spot}:${third.toUpperCase()}` : spot;
  }
  return splitConcatenatedSymbol(first);
}

/** The timeframe token; null when there is none, or two that disagree. */
function timeframeFromTokens(tokens: readonly string[]): Timeframe | null {
  const found = new Set(tokens.filter(isTimeframe));
  return found.size === 1 ? ([...found][0] as Timeframe) : null;
}

/** Command-line values; each overrides what the file name says. */
export interface MarketFlags {
  symbol?: string;
  timeframe?: string;
}

export interface ResolvedMarket {
  symbol: string;
  timeframe: Timeframe;
  /** where each value came from */
  source: { symbol: 'flag' | 'file name'; timeframe: 'flag' | 'file name' };
  /** flags that contradict the file name: worth showing, since one of the two is wrong */
  warnings: string[];
}

/**
 * Merges explicit flags with what the file name says. A flag wins over the name; when neither
 * says, throws a ConfigError naming the missing flag(s) and the file.
 */
export function resolveMarket(
  file: string,
  flags: MarketFlags,
  inferred: InferredMarket = inferMarketFromFileName(file),
): ResolvedMarket {
  const flagSymbol = flags.symbol === undefined ? null : parseSymbolFlag(flags.symbol);
  const flagTimeframe = flags.timeframe === undefined ? null : parseTimeframeFlag(flags.timeframe);
  const symbol = flagSymbol ?? inferred.symbol;
  const timeframe = flagTimeframe ?? inferred.timeframe;

  if (symbol === null || timeframe === null) {
    throw missingFlagsError(file, { symbol: symbol === null, timeframe: timeframe === null });
  }

  const warnings: string[] = [];
  if (flagSymbol !== null && inferred.symbol !== null && flagSymbol !== inferred.symbol) {
    warnings.push(`--symbol ${flagSymbol} overrides ${inferred.symbol} from the name of ${file}`);
  }
  if (flagTimeframe !== null && inferred.timeframe !== null && flagTimeframe !== inferred.timeframe) {
    warnings.push(`--timeframe ${flagTimeframe} overrides ${inferred.timeframe} from the name of ${file}`);
  }
  return {
    symbol,
    timeframe,
    source: { symbol: flagSymbol ? 'flag' : 'file name', timeframe: flagTimeframe ? 'flag' : 'file name' },
    warnings,
  };
}

/** Names every missing flag at once, so the user fixes the command in one go. */
function missingFlagsError(file: string, missing: { symbol: boolean; timeframe: boolean }): ConfigError {
  const parts = [
    ...(missing.symbol ? [{ part: 'symbol', example: '--symbol BTC/USDT' }] : []),
    ...(missing.timeframe ? [{ part: 'timeframe', example: '--timeframe 1h' }] : []),
  ];
  return new ConfigError(
    `cannot tell the ${parts.map((p) => p.part).join(' or ')} of ${file} from its name: ` +
      `pass ${parts.map((p) => `--${p.part}`).join(' and ')}`,
    `for example ${parts.map((p) => p.example).join(' ')}`,
  );
}

function parseSymbolFlag(value: string): string {
  const symbol = parseSymbol(value);
  if (symbol === null) {
    throw new ConfigError(
      `--symbol "${value}" is not a symbol`,
      'write it as BASE/QUOTE, for example --symbol BTC/USDT',
    );
  }
  return symbol;
}

function parseTimeframeFlag(value: string): Timeframe {
  if (isTimeframe(value)) return value;
  throw new ConfigError(
    `--timeframe "${value}" is not a timeframe`,
    `use one of ${Object.keys(TIMEFRAMES).join(', ')}`,
  );
}

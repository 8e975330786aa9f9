/**
 * Market symbols are written BASE/QUOTE (the ccxt convention), e.g. BTC/USDT. Exchanges and
 * their file dumps concatenate the two (BTCUSDT), so splitting needs a list of quote assets.
 */

/**
 * Quote assets used to split concatenated symbols, matched longest first so that BTCFDUSD is
 * BTC/FDUSD and USDCUSDT is USDC/USDT. Plain USD is deliberately absent: BNBUSD would read as
 * both BNB/USD and BN/BUSD, and guessing wrong silently is worse than asking for --symbol.
 */
export const QUOTE_ASSETS: readonly string[] = [
  'FDUSD',
  'USDT',
  'USDC',
  'BUSD',
  'TUSD',
  'USDP',
  'BIDR',
  'IDRT',
  'DAI',
  'BTC',
  'ETH',
  'BNB',
  'EUR',
  'GBP',
  'TRY',
  'BRL',
  'AUD',
  'JPY',
  'RUB',
  'UAH',
  'ZAR',
  'PLN',
  'ARS',
  'TRX',
  'XRP',
].sort((a, b) => b.length - a.length);

const ASSET = /^[A-Z0-9]{1,20}$/;

export function isQuoteAsset(asset: string): boolean {
  return QUOTE_ASSETS.includes(asset.toUpperCase());
}

/** Joins two assets into the BASE/QUOTE form, or null when either does not look like an asset. */
export function formatSymbol(base: string, quote: string): string | null {
  const b = base.toUpperCase();
  const q = quote.toUpperCase();
  if (!ASSET.test(b) || !ASSET.test(q) || b === q) return null;
  return `${b}/${q}`;
}

/** BTCUSDT → BTC/USDT by its quote-asset suffix; null when no known quote asset ends it. */
export function splitConcatenatedSymbol(text: string): string | null {
  const upper = text.toUpperCase();
  for (const quote of QUOTE_ASSETS) {
    if (upper.length > quote.length && upper.endsWith(quote)) {
      return formatSymbol(upper.slice(0, -quote.length), quote);
    }
  }
  return null;
}

/**
 * Reads a symbol as a user may type it: BTC/USDT, btc-usdt, BTC_USDT or BTCUSDT, and a futures
 * market's settle asset after a colon (BTC/USDT:USDT, the ccxt form). Returns the BASE/QUOTE
 * form, or null when it cannot tell base from quote.
 */
export function parseSymbol(text: string): string | null {
  const [market = '', settle, ...rest] = text.trim().split(':');
  if (rest.length > 0 || (settle !== undefined && !ASSET.test(settle.toUpperCase()))) return null;
  const parts = market.split(/[/\-_]/);
  let symbol: string | null = null;
  if (parts.length === 2) symbol = formatSymbol(parts[0]!, parts[1]!);
  else if (parts.length === 1) symbol = splitConcatenatedSymbol(parts[0]!);
  return symbol && settle !== undefined ? `${symbol}:${settle.toUpperCase()}` : symbol;
}

import { describe, expect, it } from 'vitest';
import { parseSymbol, splitConcatenatedSymbol } from './symbol.js';

describe('splitConcatenatedSymbol', () => {
  it.each([
    ['BTCUSDT', 'BTC/USDT'],
    ['ethbtc', 'ETH/BTC'],
    ['BNBETH', 'BNB/ETH'],
    ['BTCFDUSD', 'BTC/FDUSD'], // FDUSD, not a base "BTCFD" over USD
    ['USDCUSDT', 'USDC/USDT'],
    ['BTCTUSD', 'BTC/TUSD'],
    ['BTCBUSD', 'BTC/BUSD'],
    ['USDTTRY', 'USDT/TRY'],
    ['BTCEUR', 'BTC/EUR'],
    ['1INCHUSDT', '1INCH/USDT'],
  ])('%s → %s', (text, symbol) => {
    expect(splitConcatenatedSymbol(text)).toBe(symbol);
  });

  it.each(['USDT', 'BTCXYZ', '', 'candles'])('returns null for %j (no base, or no known quote)', (text) => {
    expect(splitConcatenatedSymbol(text)).toBeNull();
  });
});

describe('parseSymbol', () => {
  it.each([
    ['BTC/USDT', 'BTC/USDT'],
    ['btc-usdt', 'BTC/USDT'],
    ['ETH_BTC', 'ETH/BTC'],
    ['SOLUSDT', 'SOL/USDT'],
    [' XRP/USDT ', 'XRP/USDT'],
    ['BTC/USDT:USDT', 'BTC/USDT:USDT'],
  ])('%j → %s', (text, symbol) => {
    expect(parseSymbol(text)).toBe(symbol);
  });

  it.each(['BTC', 'BTC/USDT/ETH', 'BTC/', 'BTC/BTC', 'BT C/USDT', 'BTC/USDT:'])('refuses %j', (text) => {
    expect(parseSymbol(text)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../domain/errors.js';
import { inferMarketFromFileName, resolveMarket } from './file-name.js';

describe('inferMarketFromFileName', () => {
  it.each([
    ['BTC_USDT-1h.json', 'BTC/USDT', '1h'],
    ['/work/shared/data/binance-spot/freqtrade-1h/ETH_USDT-1h.json', 'ETH/USDT', '1h'],
    ['SOL_USDT-1h.json.gz', 'SOL/USDT', '1h'],
    ['BTC_USDT_USDT-1h-futures.json', 'BTC/USDT:USDT', '1h'],
    ['ETH_BTC-1d.json', 'ETH/BTC', '1d'],
    ['BTCUSDT-1m-2021-01-01.csv', 'BTC/USDT', '1m'],
    ['BTCUSDT-1m-2021-01-01.zip', 'BTC/USDT', '1m'],
    ['BTCUSDT-1m-2021-01-01.csv.gz', 'BTC/USDT', '1m'],
    ['BTCUSDT-1h-2021-01.zip', 'BTC/USDT', '1h'],
    ['C:\\data\\ETHBTC-15m-2021-06-30.csv', 'ETH/BTC', '15m'],
    ['BTCUSDT_1h.csv', 'BTC/USDT', '1h'],
    ['btcfdusd_4h.csv', 'BTC/FDUSD', '4h'],
    ['BNBETH-1w.csv', 'BNB/ETH', '1w'],
  ])('%s → %s %s', (name, symbol, timeframe) => {
    expect(inferMarketFromFileName(name)).toEqual({ symbol, timeframe });
  });

  it.each([
    ['candles.csv', null, null],
    ['export_1h.csv', null, '1h'],
    ['BTCUSDT.csv', 'BTC/USDT', null],
    ['BTCUSDT-1M-2021-01.zip', 'BTC/USDT', null], // Binance's 1M is a month, not a minute
    ['BTCUSDT-1h-from-1m.csv', 'BTC/USDT', null], // two timeframes: ambiguous
    ['binance_BTCUSDT_1h.csv', null, '1h'], // the symbol is not where names put it
    ['2021-01-01.csv', null, null],
  ])('%s says only what it says: symbol %s, timeframe %s', (name, symbol, timeframe) => {
    expect(inferMarketFromFileName(name)).toEqual({ symbol, timeframe });
  });
});

describe('resolveMarket', () => {
  it('takes what the file name says', () => {
    expect(resolveMarket('BTCUSDT-1m-2021-01-01.zip', {})).toEqual({
      symbol: 'BTC/USDT',
      timeframe: '1m',
      source: { symbol: 'file name', timeframe: 'file name' },
      warnings: [],
    });
  });

  it('lets flags fill in and override the name, warning on contradictions', () => {
    expect(resolveMarket('candles.csv', { symbol: 'eth-usdt', timeframe: '4h' })).toMatchObject({
      symbol: 'ETH/USDT',
      timeframe: '4h',
      source: { symbol: 'flag', timeframe: 'flag' },
      warnings: [],
    });
    expect(resolveMarket('BTCUSDT-1m-2021-01-01.csv', { timeframe: '5m' })).toMatchObject({
      symbol: 'BTC/USDT',
      timeframe: '5m',
      warnings: ['--timeframe 5m overrides 1m from the name of BTCUSDT-1m-2021-01-01.csv'],
    });
    expect(resolveMarket('BTC_USDT-1h.json', { symbol: 'BTC/USDT' }).warnings).toEqual([]);
  });

  it('names the missing flag and the file when neither says', () => {
    expect(() => resolveMarket('data/export_1h.csv', {})).toThrow(
      'cannot tell the symbol of data/export_1h.csv from its name: pass --symbol',
    );
    expect(() => resolveMarket('data/BTCUSDT.csv', {})).toThrow(
      'cannot tell the timeframe of data/BTCUSDT.csv from its name: pass --timeframe',
    );
    try {
      resolveMarket('candles.csv', {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        'cannot tell the symbol or timeframe of candles.csv from its name: pass --symbol and --timeframe',
      );
      expect((error as ConfigError).hint).toBe('for example --symbol BTC/USDT --timeframe 1h');
    }
  });

  it('refuses flags it cannot read, naming the flag', () => {
    expect(() => resolveMarket('candles.csv', { symbol: 'BITCOIN', timeframe: '1h' })).toThrow(
      '--symbol "BITCOIN" is not a symbol',
    );
    expect(() => resolveMarket('BTCUSDT.csv', { timeframe: '1M' })).toThrow(
      '--timeframe "1M" is not a timeframe',
    );
  });
});

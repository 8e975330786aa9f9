import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { defaultConfigText, parseConfigText, validateServiceConfig } from '../../src/service/config.js';

describe('service config', () => {
  it('the init template parses (comments allowed) into the documented defaults', () => {
    const c = validateServiceConfig(parseConfigText(defaultConfigText(), 'tradekernel.config.json'), 'f', {});
    expect(c.symbols).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(c.exchange).toBe('binance');
    expect(c.timeframe).toBe('1h');
    expect(c.capital).toBe(1000);
    expect(c.strategies.map((s) => s.name)).toEqual(['ema-cross', 'rsi-reversion']);
    expect(c.smtp).toBeNull();
    expect(c.alerts).toEqual({ drawdownThresholds: [0.05, 0.1, 0.15], rearmMargin: 0.02 });
    expect(c.maxDataAgeMs).toBe(90 * 60_000);
    expect(c.settleDelayMs).toBe(10_000);
  });

  const error = (value: unknown, env: NodeJS.ProcessEnv = {}) => {
    try {
      validateServiceConfig(value, 'f.json', env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return `${(e as ConfigError).message} | ${(e as ConfigError).hint ?? ''}`;
    }
    throw new Error('expected an error');
  };

  it('names the key and the fix', () => {
    expect(error({ symbol: ['BTC/USDT'] })).toMatch(/unknown key "symbol".*symbols/);
    expect(error({ symbols: ['btcusdt'] })).toMatch(/symbols.*BASE\/QUOTE/);
    expect(error({ symbols: ['BTC/USDT', 'ETH/BTC'] })).toMatch(/one quote currency/);
    expect(error({ capital: -5 })).toMatch(/"capital" must be a positive/);
    expect(error({ strategies: ['nope'] })).toMatch(/strategies.*\[0\].*built in/);
    expect(error({ risk: { rules: { maxPositions: { max: 'two' } } } })).toMatch(
      /risk\.rules\.maxPositions\.max/,
    );
    expect(error({ fills: { feeRate: 'x' } })).toMatch(/fills\.feeRate/);
    expect(error({ smtp: { host: 'h', from: 'a@b', to: 'c@d', password: 'x' } })).toMatch(
      /secrets.*TRADEKERNEL_SMTP_PASSWORD/,
    );
    expect(error({ smtp: { host: 'h', from: 'a@b', to: 'c@d', user: 'u' } })).toMatch(
      /TRADEKERNEL_SMTP_PASSWORD is not/,
    );
    expect(error({ alerts: { rearmMargin: 2 } })).toMatch(
      /"alerts"\.rearmMargin must be a fraction.*re-arms/,
    );
    expect(error({ maxDataAgeMinutes: 0 })).toMatch(
      /"maxDataAgeMinutes" must be a positive number of minutes/,
    );
  });

  it('takes secrets from the environment', () => {
    const c = validateServiceConfig(
      { smtp: { host: 'h', port: 2525, from: 'a@b', to: 'c@d', user: 'u' } },
      'f',
      {
        TRADEKERNEL_SMTP_PASSWORD: 'pw',
      },
    );
    expect(c.smtp?.password).toBe('pw');
  });

  it('rejects broken JSON with the file name', () => {
    expect(() => parseConfigText('{ "capital": 1000, // ok\n "x": }', 'cfg.json')).toThrow(
      /cfg\.json: not valid JSON/,
    );
  });
});

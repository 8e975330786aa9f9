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

  it('nested sections: a wrong type is an error, never read as the default; a typo is an unknown key', () => {
    const smtp = { host: 'h', port: 465, from: 'a@b', to: 'c@d' };
    expect(error({ smtp: { ...smtp, secure: 'true' } })).toMatch(
      /"smtp"\.secure must be true or false, got "true"/,
    );
    expect(error({ api: { enabled: 'yes' } })).toMatch(/"api"\.enabled must be true or false/);
    expect(error({ reports: { weekly: 'no' } })).toMatch(/"reports"\.weekly must be true or false/);
    expect(error({ api: { port: '9090' } })).toMatch(/"api"\.port must be a port 0-65535, got "9090"/);
    expect(error({ api: { host: 5 } })).toMatch(/"api"\.host must be an address/);
    expect(error({ api: { prot: 9090 } })).toMatch(/"api": unknown key "prot".*enabled, host, port/);
    expect(error({ alerts: { drawdownThreshold: [0.1] } })).toMatch(
      /"alerts": unknown key "drawdownThreshold"/,
    );
    expect(error({ reports: { dailyHour: 6 } })).toMatch(/"reports": unknown key "dailyHour"/);
    expect(error({ smtp: { ...smtp, pasword: 'x' } })).toMatch(/"smtp": unknown key "pasword"/);
    expect(error({ smtp: { ...smtp, user: 5 } })).toMatch(/"smtp"\.user must be a user name/);
    expect(error({ strategies: [{ name: 'ema-cross', parms: { fast: 5 } }] })).toMatch(
      /"strategies"\[0\]: unknown key "parms".*name, params/,
    );
    // the right types still read as given
    const c = validateServiceConfig(
      { smtp: { ...smtp, secure: true }, api: { enabled: false, port: 9090 }, reports: { weekly: false } },
      'f',
      {},
    );
    expect([c.smtp?.secure, c.api.enabled, c.api.port, c.reports.weekly]).toEqual([true, false, 9090, false]);
    expect(validateServiceConfig({ smtp: { enabled: false } }, 'f', {}).smtp).toBeNull();
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

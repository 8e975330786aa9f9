import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

/**
 * `tradekernel backtest --scenario <preset>`: the crash presets of src/replay/research/scenarios.ts
 * set the period of a backtest. On a PGlite data directory holding Binance BTC/USDT 1h for May
 * 2021 (test/fixtures/candles/BTC_USDT-1h-2021-05.json: 744 real candles, no outage), which covers
 * the `may-2021` preset (2021-05-08 to 2021-06-01) and none of the others.
 */
describe('tradekernel backtest --scenario (CLI)', () => {
  let dir: string;
  let dataDir: string;
  const tk = (...args: string[]) => cli('--data-dir', dataDir, ...args);
  const FIXTURE = new URL('../fixtures/candles/BTC_USDT-1h-2021-05.json', import.meta.url).pathname;
  const BASE = ['backtest', '--strategy', 'ema-cross', '--symbols', 'BTC/USDT', '--timeframe', '1h'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-scenario-'));
    dataDir = join(dir, 'data');
    const imported = await tk('data', 'import', FIXTURE);
    expect(imported.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the preset period, names it in the summary, and is the same run as its explicit dates', async () => {
    const scenario = await tk(...BASE, '--scenario', 'may-2021', '--json', join(dir, 's.json'));
    expect(scenario.stderr).toBe('');
    expect(scenario.code).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(result.period).toEqual({ from: '2021-05-08T00:00:00.000Z', to: '2021-06-01T00:00:00.000Z' });
    expect(result.dataPoints).toBe(24 * 24);
    expect(result.equity[0][0]).toBe(Date.parse('2021-05-08T01:00:00Z'));
    expect(scenario.stdout).toContain(
      'from 2021-05-08T00:00:00Z to 2021-06-01T00:00:00Z (scenario may-2021: May 2021 crash)',
    );
    // the preset is only a way to give the period: the same inputs, the same run id and stream
    const dates = await tk(
      ...BASE,
      '--from',
      '2021-05-08',
      '--to',
      '2021-06-01',
      '--json',
      join(dir, 'd.json'),
    );
    expect(dates.code).toBe(0);
    expect(readFileSync(join(dir, 'd.json'), 'utf8')).toBe(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(dates.stdout).toContain(`already stored in bt-${result.runId}`);
  });

  it('refuses --scenario together with --from or --to', async () => {
    for (const period of [
      ['--from', '2021-05-01'],
      ['--to', '2021-06-01'],
    ]) {
      const r = await tk(...BASE, '--scenario', 'may-2021', ...period, '--no-store');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('give --scenario or --from/--to, not both');
    }
  });

  it('names the presets when the name is unknown, and asks for a period when none is given', async () => {
    const unknown = await tk(...BASE, '--scenario', 'may-2022', '--no-store');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--scenario: "may-2022" is not a scenario');
    expect(unknown.stderr).toContain('covid-2020, may-2021, luna-2022, ftx-2022');
    const none = await tk(...BASE, '--no-store');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('backtest needs --from and --to (or --scenario)');
  });

  it('reports a preset the store does not cover as missing data, with the command that fetches it', async () => {
    const r = await tk(...BASE, '--scenario', 'covid-2020', '--no-store');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'BTC/USDT: 2020-02-13T00:00:00Z to 2020-04-01T00:00:00Z (market-binance-BTC_USDT-1h starts at 2021-05-01T00:00:00Z)',
    );
    expect(r.stderr).toContain(
      'tradekernel data download --exchange binance --symbols BTC/USDT --timeframe 1h --since 2020-02-13T00:00:00Z --until 2020-04-01T00:00:00Z',
    );
  });

  it('takes "scenario" from the config file; a --scenario flag or --from/--to flags win over it', async () => {
    const config = join(dir, 'run.json');
    writeFileSync(
      config,
      JSON.stringify({ strategy: 'ema-cross', symbols: ['BTC/USDT'], timeframe: '1h', scenario: 'may-2021' }),
    );
    const file = await tk('backtest', '--config', config, '--json', '--no-store');
    expect(file.code).toBe(0);
    expect(JSON.parse(file.stdout).period.from).toBe('2021-05-08T00:00:00.000Z');
    const flags = await tk(
      'backtest',
      '--config',
      config,
      '--from',
      '2021-05-20',
      '--to',
      '2021-05-25',
      '--json',
    );
    expect(JSON.parse(flags.stdout).period).toEqual({
      from: '2021-05-20T00:00:00.000Z',
      to: '2021-05-25T00:00:00.000Z',
    });
    writeFileSync(
      config,
      JSON.stringify({
        strategy: 'ema-cross',
        symbols: 'BTC/USDT',
        timeframe: '1h',
        scenario: 'may-2021',
        from: '2021-05-01',
      }),
    );
    const both = await tk('backtest', '--config', config, '--no-store');
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(`${config}: give "scenario" or "from"/"to", not both`);
  });
});

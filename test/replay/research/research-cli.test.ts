import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';

const BTC = new URL('../../fixtures/candles/BTC_USDT-1h-first3000.json', import.meta.url).pathname;
const ETH = new URL('../../fixtures/candles/ETH_USDT-1h-first3000.json', import.meta.url).pathname;

/** The research commands end to end on an embedded store holding the 3000-hour BTC and ETH fixtures. */
describe('research CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-research-'));
  const tk = (...args: string[]) => cli('--data-dir', join(dir, 'data'), ...args);
  const market = ['--strategy', 'ema-cross', '--symbols', 'BTC/USDT', '--timeframe', '1h'];
  const period = ['--from', '2017-08-18', '--to', '2017-12-18'];

  beforeAll(async () => {
    for (const [file, symbol] of [
      [BTC, 'BTC/USDT'],
      [ETH, 'ETH/USDT'],
    ] as const) {
      const r = await tk('data', 'import', file, '--symbol', symbol, '--timeframe', '1h');
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('optimize: a ranked table with the diagnostics, and JSON', async () => {
    const args = [
      'optimize',
      ...market,
      ...period,
      '--param',
      'fast=4..12:4',
      '--param',
      'slow=20..40:10',
      '--risk',
      'none',
    ];
    const text = await tk(...args, '--jobs', '1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('grid search: 9 trials of 9 grid points (9 valid)');
    expect(text.stdout).toMatch(/rank\s+fast\s+slow\s+sharpe\*\s+sortino/);
    expect(text.stdout).toContain('deflated Sharpe ratio');
    expect(text.stdout).toContain('probability of backtest overfitting');

    const out = join(dir, 'opt.json');
    const json = await tk(...args, '--jobs', '2', '--json', out);
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    expect(r.ranked).toHaveLength(9);
    expect(r.performance.jobs).toBe(2);
    expect(r.performance.workers).toHaveLength(2);
    expect(r.diagnostics.pbo.blocks).toBe(16);
    expect(r.period).toEqual({ from: '2017-08-18T00:00:00Z', to: '2017-12-18T00:00:00Z' });
    // the same ranking on 2 workers as in one thread
    const again = await tk(...args, '--jobs', '1', '--json');
    expect(JSON.parse(again.stdout).ranked).toEqual(r.ranked);
  });

  it('optimize --search bayes with a seed', async () => {
    const args = [
      'optimize',
      ...market,
      ...period,
      '--param',
      'fast=3..20',
      '--param',
      'slow=10..60:2',
      '--search',
      'bayes',
      '--trials',
      '12',
      '--seed',
      '5',
      '--jobs',
      '2',
      '--objective',
      'calmar',
      '--json',
    ];
    const [a, b] = [await tk(...args), await tk(...args)];
    expect(a.code, a.stderr).toBe(0);
    const trials = (s: string) =>
      JSON.parse(s).ranked.map((t: { trial: number; params: unknown }) => [t.trial, t.params]);
    expect(trials(a.stdout)).toEqual(trials(b.stdout));
    expect(JSON.parse(a.stdout).search).toMatchObject({ kind: 'bayes', seed: 5, trials: 12, batch: 4 });
  });

  it('walk-forward: windows, degradation and the stitched out-of-sample result', async () => {
    const r = await tk(
      'walk-forward',
      ...market,
      ...period,
      '--train',
      '30d',
      '--test',
      '15d',
      '--param',
      'fast=4..12:4',
      '--param',
      'slow=20..40:10',
      '--jobs',
      '1',
      '--risk',
      'none',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('7 windows');
    expect(r.stdout).toMatch(/IS sharpe\s+OOS sharpe\s+OOS\/IS/);
    expect(r.stdout).toContain('stitched out-of-sample');
    const json = await tk(
      'walk-forward',
      ...market,
      ...period,
      '--train',
      '30d',
      '--test',
      '15d',
      '--param',
      'fast=4..12:4',
      '--param',
      'slow=20..40:10',
      '--jobs',
      '1',
      '--risk',
      'none',
      '--json',
    );
    const w = JSON.parse(json.stdout);
    expect(w.windows).toHaveLength(7);
    expect(w.windows[0].test).toEqual({ from: '2017-09-17T00:00:00Z', to: '2017-10-02T00:00:00Z' });
    expect(w.stitched.equity[0][0]).toBe(Date.parse('2017-09-17T01:00:00Z'));
  });

  it('check lookahead and check warmup pass ema-cross', async () => {
    const look = await tk(
      'check',
      'lookahead',
      ...market,
      ...period,
      '--param',
      'fast=12',
      '--param',
      'slow=26',
      '--samples',
      '10',
    );
    expect(look.code, look.stderr).toBe(0);
    expect(look.stdout).toContain('ok: every signal up to each cut is the same');
    const warm = await tk(
      'check',
      'warmup',
      ...market,
      ...period,
      '--param',
      'fast=12',
      '--param',
      'slow=26',
      '--samples',
      '4',
    );
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stdout).toMatch(/startup candles needed: \d+/);
    const ranged = await tk('check', 'warmup', ...market, ...period, '--param', 'fast=5..9');
    expect(ranged.code).toBe(1);
    expect(ranged.stderr).toContain('needs one value here');
  });

  it('stress: a period with its Monte Carlo; scenarios outside the data name the missing candles', async () => {
    const r = await tk(
      'stress',
      '--strategy',
      'ema-cross',
      '--symbols',
      'BTC/USDT,ETH/USDT',
      ...period,
      '--param',
      'fast=12',
      '--param',
      'slow=26',
      '--monte-carlo',
      '200',
      '--seed',
      '3',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.runs).toHaveLength(1);
    expect(s.runs[0].market.map((m: { symbol: string }) => m.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(s.runs[0].monteCarlo).toMatchObject({ runs: 200, seed: 3, method: 'shuffle' });
    expect(s.runs[0].monteCarlo.maxDrawdown.percentiles.p95).toBeGreaterThanOrEqual(
      s.runs[0].monteCarlo.maxDrawdown.percentiles.p5,
    );
    const missing = await tk('stress', ...market, '--scenario', 'covid-2020', '--param', 'fast=12');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing candles');
    expect(missing.stderr).toContain('tradekernel data download');
    const unknown = await tk('stress', ...market, '--scenario', 'crash-1929');
    expect(unknown.stderr).toContain('covid-2020, may-2021, luna-2022, ftx-2022');
  });
});

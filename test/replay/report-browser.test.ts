/**
 * The HTML report in a real browser: Debian's chromium, headless, offline (no network at all is
 * needed: the page is self-contained). The inline script marks the page when the charts are
 * drawn; --dump-dom prints the DOM after it ran. Skipped, saying why, without /usr/bin/chromium
 * (`apt-get install -y chromium`; .ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KERNEL_VERSION } from '../../src/cli/version.js';
import { riskNone } from '../../src/domain/risk/config.js';
import { toResult } from '../../src/replay/backtest/run-backtest.js';
import { type BacktestSpec, defaultSettings, kernelSetup } from '../../src/replay/backtest/settings.js';
import { simulate } from '../../src/replay/backtest/simulate.js';
import { monthlyReturns, renderReport } from '../../src/replay/report/html-report.js';
import { FIXTURE_FROM, FIXTURE_TO, fixtureSeries } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

async function report(): Promise<{ html: string; trades: number }> {
  const symbols = ['BTC/USDT', 'ETH/USDT'];
  const spec: BacktestSpec = {
    strategy: { name: 'ema-cross', params: {} },
    exchange: 'binance',
    timeframe: '1h',
    symbols,
    from: FIXTURE_FROM,
    to: FIXTURE_TO,
    settings: { ...defaultSettings(), risk: riskNone(0.95) },
  };
  const series = await fixtureSeries(symbols);
  const sim = simulate(series, kernelSetup(spec, 'report'), { collect: 'none' });
  const result = toResult(spec, 'report', sim, KERNEL_VERSION);
  return { html: renderReport({ result, series, notes: ['test'] }), trades: result.trades.length };
}

describe('HTML report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is self-contained: no external URL, script or stylesheet', async () => {
    const { html } = await report();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/i);
    expect(html.match(/https?:\/\/[^\s"'<]+/g) ?? []).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain('<table class="months">');
    expect(html).toContain('<th>2017</th>');
  });

  it('computes monthly returns against the previous month-end', () => {
    const jan = Date.parse('2021-01-15T00:00:00Z');
    const months = monthlyReturns(100, [
      [jan, 110],
      [Date.parse('2021-02-01T00:00:00Z'), 120], // closes at midnight: still January
      [Date.parse('2021-02-10T00:00:00Z'), 90],
      [Date.parse('2021-04-03T00:00:00Z'), 99],
    ]);
    expect(months.map((m) => [m.year, m.month, Number(m.return.toFixed(6))])).toEqual([
      [2021, 1, 0.2],
      [2021, 2, -0.25],
      [2021, 4, 0.1],
    ]);
  });

  it('draws its charts in headless chromium', async (context) => {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
      context.skip();
    }
    const { html, trades } = await report();
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--dump-dom',
        `file://${file}`,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // equity, drawdown and one price chart per symbol, each with a non-empty path
    expect(stdout).toContain('data-charts-drawn="4"');
    const points = [...stdout.matchAll(/data-chart="([\w-]+)"[^>]*data-points="(\d+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(points.map((p) => p[0])).toEqual(['equity', 'drawdown', 'price-0', 'price-1']);
    for (const [, n] of points) expect(n).toBeGreaterThan(100);
    const paths = [...stdout.matchAll(/<path d="(M[^"]+)"[^>]*class="series"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(4);
    for (const d of paths) expect(d.split('L').length).toBeGreaterThan(100);
    const markers = [...stdout.matchAll(/data-markers="(\d+)"/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(markers).toBe(2 * trades);
    expect(readFileSync(file, 'utf8')).toBe(html);
  });
});

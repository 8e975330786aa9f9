import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { cli } from '../support/cli.js';
import { editStoredEvent } from '../support/tamper.js';
import { FIXTURES } from './support.js';

/**
 * `tradekernel backtest` and `replay verify` end to end, in-process, on a PGlite data directory
 * holding the two 3,000-hour fixtures (imported with `data import`).
 */
describe('tradekernel backtest / replay verify (CLI)', () => {
  let dir: string;
  let dataDir: string;
  const tk = (...args: string[]) => cli('--data-dir', dataDir, ...args);
  const RANGE = ['--timeframe', '1h', '--from', '2017-08-17', '--to', '2017-12-20'];
  const BASE = ['backtest', '--strategy', 'ema-cross', '--symbols', 'BTC/USDT,ETH/USDT', ...RANGE];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-backtest-'));
    dataDir = join(dir, 'data');
    const imported = await tk('data', 'import', FIXTURES['BTC/USDT']!, FIXTURES['ETH/USDT']!);
    expect(imported.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs SQL on the (closed) data directory, the way someone editing the log by hand would. */
  async function tamper(revision: number, edit: (json: string) => string): Promise<void> {
    const database = await openPglite(dataDir);
    try {
      await editStoredEvent(database, createCatalogue(), `bt-${runId}`, revision, edit);
    } finally {
      await database.close();
    }
  }

  let runId = '';

  it('runs, stores bt-<runId>, writes the result JSON in the documented shape', async () => {
    const out = join(dir, 'a.json');
    const first = await tk(...BASE, '--json', out, '--report', join(dir, 'a.html'));
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    runId = result.runId;
    expect(runId).toMatch(/^ema-cross-[0-9a-f]{12}$/);
    expect(Object.keys(result)).toEqual([
      'runId',
      'strategy',
      'period',
      'kernelVersion',
      'dataPoints',
      'metrics',
      'trades',
      'equity',
    ]);
    expect(result.strategy).toEqual({ name: 'ema-cross', version: '1', params: { fast: 12, slow: 26 } });
    expect(result.period).toEqual({ from: '2017-08-17T00:00:00.000Z', to: '2017-12-20T00:00:00.000Z' });
    expect(result.dataPoints).toBe(5_980);
    expect(Object.keys(result.metrics)).toEqual([
      'startEquity',
      'endEquity',
      'totalReturn',
      'cagr',
      'sharpe',
      'sortino',
      'calmar',
      'maxDrawdown',
      'winRate',
      'profitFactor',
      'expectancy',
      'trades',
      'exposure',
      'feesPaid',
    ]);
    expect(result.metrics.trades).toBe(result.trades.length);
    expect(Object.keys(result.trades[0])).toEqual([
      'symbol',
      'side',
      'entryTime',
      'entryPrice',
      'exitTime',
      'exitPrice',
      'quantity',
      'fees',
      'pnl',
      'pnlPct',
      'exitReason',
    ]);
    expect(result.trades[0].entryTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(result.equity[0]).toEqual([Date.parse('2017-08-17T05:00:00Z'), expect.any(Number)]);
    expect(result.equity.at(-1)[1]).toBe(result.metrics.endEquity);
    expect(first.stdout).toContain('total return');
    expect(first.stdout).toMatch(/5,980 data points in [\d.]+ s: [\d,]+ data points\/s end to end/);
    expect(first.stdout).toContain(`stored in bt-${runId}`);
    expect(readFileSync(join(dir, 'a.html'), 'utf8')).toContain('data-chart="equity"');
  });

  it('gives identical trades, metrics and decision hash the second time, without appending again', async () => {
    const out = join(dir, 'b.json');
    const second = await tk(...BASE, '--json', out);
    expect(second.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(dir, 'a.json'), 'utf8'));
    expect(second.stdout).toContain(`already stored in bt-${runId}: re-derived, identical decision hash`);
    const stats = await tk('store', 'stats', '--json');
    const bt = JSON.parse(stats.stdout).byCategory.find((c: { category: string }) => c.category === 'bt');
    expect(bt.streams).toBe(1);
    // --no-store re-runs in memory: the same hash, nothing written
    const third = await tk(...BASE, '--no-store');
    const hash = (text: string) => /decision hash ([0-9a-f]{64})/.exec(text)?.[1];
    expect(third.stdout).toContain('not stored (--no-store)');
    expect(hash(third.stdout)).toBe(hash(second.stdout));
  });

  it('prints the result JSON on stdout with a bare --json', async () => {
    const r = await tk(...BASE, '--json', '--no-store', '--risk', 'none', '--fraction', '0.5');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.runId).not.toBe(runId); // other settings, another run
    expect(result.metrics.trades).toBeGreaterThan(0);
  });

  it('verifies the stored run; audit export reads it', async () => {
    const ok = await tk('replay', 'verify', runId);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^ok: bt-ema-cross-[0-9a-f]{12} re-derived: 973 decision events from 5,980 data points, identical/,
    );
    // the stream name the backtest printed ("stored in bt-<runId>") names the run too
    const byStream = await tk('replay', 'verify', `bt-${runId}`);
    expect(byStream.code).toBe(0);
    expect(byStream.stdout).toBe(ok.stdout);
    const audit = await tk('audit', 'export', '--account', `bt-${runId}`, '--out', join(dir, 'audit.jsonl'));
    expect(audit.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'audit.jsonl.manifest.json'), 'utf8'));
    expect(manifest.inputStreams).toContain('market-binance-BTC_USDT-1h');
    expect(manifest.countsByType.RunStarted).toBe(1);
    expect(manifest.countsByType.RunCompleted).toBe(1);
    expect((await tk('audit', 'verify', join(dir, 'audit.jsonl'))).code).toBe(0);
  });

  it('reports the first divergence of a tampered decision event, and exits non-zero', async () => {
    await tamper(4, (data) => data.replace('"quantity":', '"quantity":1'));
    const bad = await tk('replay', 'verify', runId);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain(`DIVERGED: bt-${runId}`);
    expect(bad.stdout).toContain('first divergence at decision 3 (stream revision 4)');
    expect(bad.stdout).toContain('RunCompleted.decisionHash does not match the stored decision events');
    const json = JSON.parse((await tk('replay', 'verify', runId, '--json')).stdout);
    expect(json.ok).toBe(false);
    expect(json.divergence.index).toBe(3);
    expect(json.divergence.expected.data.quantity).not.toBe(json.divergence.actual.data.quantity);
    // the inputs tampered with: the re-derived run diverges from its first decisions
    await tamper(0, (data) => data.replace('"capital":10000', '"capital":20000'));
    const inputs = JSON.parse((await tk('replay', 'verify', runId, '--json')).stdout);
    expect(inputs.ok).toBe(false);
    expect(inputs.divergence.index).toBeLessThan(3);
  });

  it('refuses an explicit --run-id that names another run', async () => {
    const r = await tk(...BASE, '--run-id', runId, '--capital', '5000');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bt-${runId} already holds another run`);
  });

  it('names the missing symbols and ranges and the commands that fetch them', async () => {
    const r = await tk(
      'backtest',
      '--strategy',
      'ema-cross',
      '--symbols',
      'BTC/USDT,SOL/USDT',
      '--timeframe',
      '1h',
      '--from',
      '2017-09-01',
      '--to',
      '2018-01-01',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing candles for 2 symbol(s) of binance 1h');
    expect(r.stderr).toContain(
      'BTC/USDT: 2017-12-20T10:00:00Z to 2018-01-01T00:00:00Z (market-binance-BTC_USDT-1h ends at 2017-12-20T09:00:00Z)',
    );
    expect(r.stderr).toContain(
      'SOL/USDT: 2017-09-01T00:00:00Z to 2018-01-01T00:00:00Z (no stream market-binance-SOL_USDT-1h)',
    );
    expect(r.stderr).toContain(
      'tradekernel data download --exchange binance --symbols SOL/USDT --timeframe 1h --since 2017-09-01T00:00:00Z --until 2018-01-01T00:00:00Z',
    );
    expect(r.stderr).toContain(
      'tradekernel data import <file-or-directory> --exchange binance --symbol SOL/USDT --timeframe 1h',
    );
  });

  it('takes every risk rule from the config file, and names a wrong key', async () => {
    const config = join(dir, 'run.json');
    writeFileSync(
      config,
      JSON.stringify({
        strategy: 'rsi-reversion',
        params: { period: 10 },
        symbols: ['BTC/USDT'],
        capital: 1000,
        fills: { feeRate: 0.00075, slippage: { model: 'volatility', baseBps: 1, atrShare: 5 } },
        risk: {
          rules: { stopLoss: { enabled: false }, takeProfit: { enabled: false }, maxPositions: { max: 1 } },
        },
      }),
    );
    const r = await tk('backtest', '--config', config, ...RANGE, '--json', join(dir, 'c.json'));
    expect(r.stderr).toBe('');
    const result = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
    expect(result.strategy.params.period).toBe(10);
    expect(result.metrics.startEquity).toBe(1000);
    expect(result.trades.some((t: { exitReason: string }) => t.exitReason === 'stop-loss')).toBe(false);
    expect(r.stdout).toContain('rules on: maxRiskPerTrade, trailingStop, timeStop, maxPositions');

    const bad = (risk: unknown) => {
      writeFileSync(config, JSON.stringify({ strategy: 'ema-cross', symbols: 'BTC/USDT', risk }));
      return tk('backtest', '--config', config, ...RANGE, '--no-store');
    };
    expect((await bad({ rules: { stopLos: { enabled: false } } })).stderr).toContain(
      `${config}: risk.rules.stopLos: unknown key`,
    );
    expect((await bad({ rules: { stopLoss: { enabled: 'no' } } })).stderr).toContain(
      `${config}: risk.rules.stopLoss.enabled: expected true or false, got "no"`,
    );
    expect((await bad({ rules: { drawdown: { haltAt: 2 } } })).stderr).toContain(
      'rules.drawdown.haltAt must be in (0, 1], got 2',
    );
    writeFileSync(config, JSON.stringify({ strategy: 'ema-cross', symbol: 'BTC/USDT' }));
    expect((await tk('backtest', '--config', config, ...RANGE)).stderr).toContain(
      `${config}: unknown key "symbol"`,
    );
  });
});

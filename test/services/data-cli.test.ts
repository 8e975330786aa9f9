import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { klineRowsFromFreqtrade, startFakeBinance } from './fake-binance.js';
import {
  FREQTRADE_OUTAGE,
  fixture,
  fixtureLines,
  KLINES_2021,
  KLINES_MAY19,
  OHLCV_1H,
  TempDir,
} from './support.js';

describe('tradekernel data (CLI)', () => {
  let data: TempDir;
  let files: TempDir;
  beforeEach(() => {
    data = new TempDir();
    files = new TempDir();
  });
  afterEach(() => {
    data.remove();
    files.remove();
  });
  const tk = (...args: string[]) => cli('--data-dir', data.path, 'data', ...args);

  it('imports, says what was already present, lists and shows gaps, as text and JSON', async () => {
    const first = await tk('import', FREQTRADE_OUTAGE);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(
      'binance BTC/USDT 1h: 2018-02-06T00:00Z → 2018-02-10T23:00Z: 87 new, 0 already present, 1 gap recorded (33 missing candles)',
    );

    const again = await tk('import', FREQTRADE_OUTAGE, '--json');
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(Object.keys(report)).toEqual(['correlationId', 'files', 'markets', 'totals', 'ignored', 'error']);
    expect(report.totals).toEqual({
      files: 1,
      candles: 87,
      new: 0,
      present: 87,
      skipped: 0,
      gaps: 0,
      missing: 0,
    });
    expect(Object.keys(report.files[0])).toEqual([
      'file',
      'exchange',
      'symbol',
      'timeframe',
      'stream',
      'format',
      'compression',
      'status',
      'candles',
      'new',
      'present',
      'skipped',
      'gaps',
      'first',
      'last',
      'invalidRows',
      'warnings',
    ]);
    expect(report.markets).toEqual([
      {
        exchange: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        stream: 'market-binance-BTC_USDT-1h',
        files: 1,
        candles: 87,
        new: 0,
        present: 87,
        skipped: 0,
        gaps: 0,
        missing: 0,
        first: '2018-02-06T00:00:00.000Z',
        last: '2018-02-10T23:00:00.000Z',
      },
    ]);
    expect(report.error).toBeNull();
    expect((await tk('import', FREQTRADE_OUTAGE)).stdout).toContain(
      '1 file imported: 0 new, 87 already present',
    );

    const list = await tk('list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([
      {
        exchange: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        stream: 'market-binance-BTC_USDT-1h',
        first: '2018-02-06T00:00:00.000Z',
        last: '2018-02-10T23:00:00.000Z',
        candles: 87,
        gaps: 1,
        missing: 33,
      },
    ]);
    const table = await tk('list');
    expect(table.stdout.split('\n')[0]).toMatch(
      /^exchange\s+symbol\s+timeframe\s+first\s+last\s+candles\s+gaps\s+missing$/,
    );
    expect(table.stdout).toMatch(
      /binance\s+BTC\/USDT\s+1h\s+2018-02-06T00:00Z\s+2018-02-10T23:00Z\s+87\s+1\s+33/,
    );

    const gaps = await tk('gaps', '--symbol', 'BTC/USDT', '--json');
    expect(JSON.parse(gaps.stdout)).toEqual([
      {
        exchange: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        stream: 'market-binance-BTC_USDT-1h',
        first: '2018-02-06T00:00:00.000Z',
        last: '2018-02-10T23:00:00.000Z',
        candles: 87,
        gaps: 1,
        missing: 33,
        gapList: [{ from: '2018-02-08T01:00:00.000Z', to: '2018-02-09T09:00:00.000Z', missing: 33 }],
      },
    ]);
    expect((await tk('gaps', '--symbol', 'btc-usdt', '--timeframe', '1h')).stdout).toMatch(
      /2018-02-08T01:00Z\s+2018-02-09T09:00Z\s+33/,
    );
  });

  it('refuses a gap longer than a week (files left out) unless --accept-gaps', async () => {
    // the same 48 hours twice: once as they are, once 30 days later (a month of files left out)
    const [header, ...rows] = fixtureLines(OHLCV_1H);
    const later = rows.map((row) => {
      const [time, ...rest] = row.split(',');
      return [Number(time) + 30 * 24 * 3_600_000, ...rest].join(',');
    });
    const first = files.write('BTCUSDT_1h-a.csv', [header, ...rows].join('\n'));
    const second = files.write('BTCUSDT_1h-b.csv', [header, ...later].join('\n'));
    expect((await tk('import', first)).code).toBe(0);
    const refused = await tk('import', second);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/672 candles missing .* longer than 7d: more like files left out/);
    expect(refused.stderr).toContain('--accept-gaps');
    const listed = JSON.parse((await tk('list', '--json')).stdout);
    expect(listed[0]).toMatchObject({ candles: 48, gaps: 0 });
    const accepted = await tk('import', second, '--accept-gaps');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('1 gap recorded (672 missing candles)');
  });

  it('explains missing flags and refused files, exiting 1', async () => {
    const unnamed = files.write('export.csv', readFileSync(OHLCV_1H));
    const missing = await tk('import', unnamed);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `tradekernel: cannot tell the symbol or timeframe of ${unnamed} from its name: pass --symbol and --timeframe\n` +
        '  hint: for example --symbol BTC/USDT --timeframe 1h',
    );
    const onlySymbol = await tk('import', unnamed, '--symbol', 'BTC/USDT');
    expect(onlySymbol.stderr).toContain('cannot tell the timeframe of');
    expect(onlySymbol.stderr).toContain('pass --timeframe');
    expect((await tk('import', unnamed, '--symbol', 'BTC/USDT', '--timeframe', '1h')).code).toBe(0);

    const lines = readFileSync(KLINES_2021, 'utf8').trimEnd().split('\n');
    lines[2] = lines[2]!.replace(/^(\d+),/, '$1x,');
    const broken = files.write('BTCUSDT-1m-2021-01-01.csv', `${lines.join('\n')}\n`);
    const refused = await tk('import', broken);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`tradekernel: ${broken}: 1 invalid row: line 3: open time "`);
    expect(refused.stderr).toContain('hint: fix the file, or pass --skip-invalid');
    expect(refused.stdout).toContain('0 files imported: 0 new, 0 already present; 1 file not imported');
    const skipped = await tk('import', broken, '--skip-invalid', '--json');
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.stdout).files[0]).toMatchObject({
      new: 179,
      skipped: 1,
      invalidRows: [{ line: 3, row: 3, field: 'openTime', rule: 'not_epoch_ms' }],
    });

    const gaps = await tk('gaps');
    expect(gaps).toMatchObject({
      code: 1,
      stderr: 'tradekernel: data gaps needs --symbol\n  hint: for example --symbol BTC/USDT',
    });
    const badTimeframe = await tk('gaps', '--symbol', 'BTC/USDT', '--timeframe', '7m');
    expect(badTimeframe.stderr).toContain('--timeframe "7m" is not a timeframe');
  });

  it('resamples a stored market into higher timeframes, as text and JSON', async () => {
    const help = await cli('data', 'resample', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--to <list>');
    expect(help.stdout).toContain('complete buckets only');

    expect((await tk('import', KLINES_MAY19)).code).toBe(0);
    const run = await tk('resample', '--symbol', 'BTC/USDT', '--timeframe', '1m', '--to', '1h,4h', '--json');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual([
      'exchange',
      'symbol',
      'correlationId',
      'source',
      'targets',
      'totals',
      'error',
    ]);
    expect(report.targets[0]).toEqual({
      timeframe: '1h',
      stream: 'market-binance-BTC_USDT-1h',
      status: 'resampled',
      from: '2021-05-19T00:00:00.000Z',
      resumed: false,
      candles: 24,
      new: 24,
      present: 0,
      incomplete: 0,
      pending: null,
      gaps: [],
      first: '2021-05-19T00:00:00.000Z',
      last: '2021-05-19T23:00:00.000Z',
    });
    expect(report.totals).toEqual({ candles: 30, new: 30, present: 0, incomplete: 0, gaps: 0, missing: 0 });

    const again = await tk('resample', '--symbol', 'BTC/USDT', '--timeframe', '1m', '--to', '1h,1d');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      'binance BTC/USDT 1h from 1m: 0 new, 0 already present\n' +
        'binance BTC/USDT 1d from 1m: 2021-05-19T00:00Z → 2021-05-19T00:00Z: 1 new, 0 already present\n' +
        '1,440 1m candles read from market-binance-BTC_USDT-1m',
    );
    const list = JSON.parse((await tk('list', '--json')).stdout);
    expect(list.map((m: { timeframe: string; candles: number }) => [m.timeframe, m.candles])).toEqual([
      ['1m', 1440],
      ['1h', 24],
      ['4h', 6],
      ['1d', 1],
    ]);

    const wrong = await tk('resample', '--symbol', 'BTC/USDT', '--timeframe', '1h', '--to', '1m');
    expect(wrong).toMatchObject({ code: 1 });
    expect(wrong.stderr).toContain('tradekernel: cannot build 1m candles from 1h ones');
    const nothing = await tk('resample', '--symbol', 'ETH/USDT', '--timeframe', '1m', '--to', '1h');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('no binance ETH/USDT 1m candles are stored');
  });

  it('downloads through ccxt from a local Binance stand-in, and fails clearly when it is unreachable', async () => {
    const server = await startFakeBinance(
      { ETHUSDT: { '1h': klineRowsFromFreqtrade(fixture('candles/ETH_USDT-1h-first3000.json')) } },
      { now: Date.now },
    );
    try {
      const args = ['--symbols', 'ETH/USDT', '--timeframe', '1h', '--api-url', server.url];
      const run = await tk(
        'download',
        ...args,
        '--since',
        '2017-08-17',
        '--until',
        '2017-08-27T04:00:00Z',
        '--json',
      );
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(Object.keys(report)).toEqual([
        'exchange',
        'timeframe',
        'correlationId',
        'markets',
        'totals',
        'error',
      ]);
      expect(report.markets).toEqual([
        {
          exchange: 'binance',
          symbol: 'ETH/USDT',
          timeframe: '1h',
          stream: 'market-binance-ETH_USDT-1h',
          status: 'downloaded',
          from: '2017-08-17T00:00:00.000Z',
          resumed: false,
          requests: 1,
          fetched: 240,
          new: 240,
          present: 0,
          droppedOpen: 0,
          gaps: [],
          first: '2017-08-17T04:00:00.000Z',
          last: '2017-08-27T03:00:00.000Z',
          rules: { amountStep: 0.0001, priceStep: 0.01, minAmount: 0.0001, minNotional: 5, recorded: true },
        },
      ]);
      expect(report.totals).toMatchObject({ new: 240, rulesRecorded: 1 });
      const resumed = await tk('download', ...args, '--until', '2017-08-28');
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toBe(
        'binance ETH/USDT 1h: resumed after the last stored candle, from 2017-08-27T04:00Z: 20 new, 0 already present in 1 request; last candle 2017-08-27T23:00Z',
      );
    } finally {
      await server.close();
    }

    const unreachable = await tk(
      'download',
      '--symbols',
      'BTC/USDT',
      '--timeframe',
      '1h',
      '--since',
      '2024-01-01',
      '--api-url',
      server.url,
      '--retries',
      '1',
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^tradekernel: binance is unreachable at ${server.url}: BTC/USDT 1h candles failed 1 time; last error: .*ECONNREFUSED`,
      ),
    );
    expect(unreachable.stderr).toContain('hint: check the network connection');

    const noSymbols = await tk('download', '--timeframe', '1h');
    expect(noSymbols).toMatchObject({
      code: 1,
      stderr: 'tradekernel: data download needs --symbols\n  hint: for example --symbols BTC/USDT,ETH/USDT',
    });
    const noSince = await tk(
      'download',
      '--symbols',
      'SOL/USDT',
      '--timeframe',
      '1h',
      '--api-url',
      server.url,
    );
    expect(noSince.stderr).toContain(
      '--since is needed for SOL/USDT: nothing of market-binance-SOL_USDT-1h is stored yet',
    );
  });
});

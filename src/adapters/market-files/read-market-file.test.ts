import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dropInvalidRows } from '../../domain/market/candle-issue.js';
import { validateCandles } from '../../domain/market/validate.js';
import { MarketFileError } from './errors.js';
import { decodeMarketFile, readMarketFile } from './read-market-file.js';

const FIXTURES = new URL('../../../test/fixtures/market/', import.meta.url);
const fixturePath = (name: string) => new URL(name, FIXTURES).pathname;
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
const text = (value: string) => new TextEncoder().encode(value);

const KLINES_2021 = 'binance-klines/BTCUSDT-1m-2021-01-01.csv';
const KLINES_2025 = 'binance-klines/BTCUSDT-1m-2025-03-01.csv';
const FREQTRADE = 'freqtrade/BTC_USDT-1h-2018-02-outage.json';

/** The same real candles, whatever the container: compare without positions. */
const values = (candles: readonly { openTime: number; open: number; close: number; volume: number }[]) =>
  candles.map(({ openTime, open, close, volume }) => [openTime, open, close, volume]);

describe('Binance kline CSV', () => {
  it('reads a real 2021 slice (millisecond open times) with line numbers', async () => {
    const file = await readMarketFile(fixturePath(KLINES_2021));
    expect(file).toMatchObject({
      format: 'binance-klines-csv',
      compression: 'none',
      entryName: null,
      issues: [],
    });
    expect(file.candles).toHaveLength(180);
    expect(file.candles[0]).toEqual({
      openTime: Date.UTC(2021, 0, 1),
      open: 28923.63,
      high: 28961.66,
      low: 28913.12,
      close: 28961.66,
      volume: 27.457032,
      line: 1,
      row: 1,
    });
    expect(file.candles[179]).toMatchObject({ openTime: Date.UTC(2021, 0, 1, 2, 59), line: 180, row: 180 });
    expect(validateCandles(file.candles, '1m')).toEqual([]);
  });

  it('reads a real 2025 slice (microsecond open times, CRLF lines) as milliseconds', async () => {
    const file = await readMarketFile(fixturePath(KLINES_2025));
    expect(file.issues).toEqual([]);
    expect(file.candles).toHaveLength(120);
    expect(file.candles[0]).toMatchObject({
      openTime: Date.UTC(2025, 2, 1),
      open: 84349.95,
      close: 84338.54,
      line: 1,
    });
    expect(file.candles[119]!.openTime).toBe(Date.UTC(2025, 2, 1, 1, 59));
    expect(validateCandles(file.candles, '1m')).toEqual([]);
  });

  it('tells milliseconds from microseconds per row, within one file', () => {
    const ms = fixture(KLINES_2021).toString().split('\n').slice(0, 2);
    const us = fixture(KLINES_2025).toString().split('\r\n').slice(0, 2);
    const file = decodeMarketFile(text([...ms, ...us].join('\n')));
    expect(file.issues).toEqual([]);
    expect(file.candles.map((c) => c.openTime)).toEqual([
      Date.UTC(2021, 0, 1, 0, 0),
      Date.UTC(2021, 0, 1, 0, 1),
      Date.UTC(2025, 2, 1, 0, 0),
      Date.UTC(2025, 2, 1, 0, 1),
    ]);
  });

  it('skips the header of Binance futures dumps', () => {
    const header =
      'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
    const file = decodeMarketFile(
      text(`${header}\n${fixture(KLINES_2021).toString().split('\n').slice(0, 3).join('\n')}`),
    );
    expect(file.format).toBe('binance-klines-csv');
    expect(file.candles.map((c) => [c.line, c.row])).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
  });
});

describe('freqtrade JSON', () => {
  it('reads a real slice; rows of a one-line file are told apart by row number', async () => {
    const file = await readMarketFile(fixturePath(FREQTRADE));
    expect(file).toMatchObject({ format: 'freqtrade-json', compression: 'none', issues: [] });
    expect(file.candles).toHaveLength(87);
    expect(file.candles[0]).toEqual({
      openTime: Date.UTC(2018, 1, 6),
      open: 6939.63,
      high: 7150,
      low: 6860,
      close: 6983.17,
      volume: 2594.552502,
      line: 1,
      row: 1,
    });
    expect(file.candles.every((c, i) => c.line === 1 && c.row === i + 1)).toBe(true);
    expect(validateCandles(file.candles, '1h')).toEqual([]);
  });

  it('gives each row the line it starts on when the JSON spans lines', () => {
    const rows = JSON.parse(fixture(FREQTRADE).toString()) as unknown[][];
    const pretty = `[\n${rows
      .slice(0, 3)
      .map((row) => `  ${JSON.stringify(row)}`)
      .join(',\n')},\n  [1517875200000, "7784.02", null, 1, 2, 3]\n]\n`;
    const file = decodeMarketFile(text(pretty));
    expect(file.candles.map((c) => [c.line, c.row])).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    expect(file.issues).toEqual([
      {
        line: 5,
        row: 4,
        field: 'high',
        value: 'null',
        rule: 'unreadable_value',
        reason: 'high null is not a number',
      },
    ]);
  });

  it('reports rows that are not six-value arrays', () => {
    const file = decodeMarketFile(text('[[1609459200000,1,1,1,1,1],[1609462800000,1,1,1,1],{"t":1}]'));
    expect(file.candles).toHaveLength(1);
    expect(file.issues.map((i) => [i.row, i.field, i.rule, i.reason])).toEqual([
      [
        2,
        'row',
        'unreadable_row',
        'expected [open_time_ms, open, high, low, close, volume], found [1609462800000,1,1,1,1]',
      ],
      [3, 'row', 'unreadable_row', 'expected [open_time_ms, open, high, low, close, volume], found {"t":1}'],
    ]);
  });
});

describe('CSV with a header', () => {
  it.each([
    ['ohlcv/BTCUSDT_1h.csv', 'epoch ms', 28923.63],
    ['ohlcv/ETH_USDT-1h-dates.csv', '"2021-01-01 00:00:00"', 736.42],
    ['ohlcv/SOL_USDT-1h-iso.csv', 'ISO-8601 with Z', 1.5088],
  ])('reads %s (%s times)', async (name, _notation, firstOpen) => {
    const file = await readMarketFile(fixturePath(name));
    expect(file).toMatchObject({ format: 'ohlcv-csv', issues: [] });
    expect(file.candles).toHaveLength(48);
    expect(file.candles[0]).toMatchObject({
      openTime: Date.UTC(2021, 0, 1),
      open: firstOpen,
      line: 2,
      row: 1,
    });
    expect(file.candles[47]!.openTime).toBe(Date.UTC(2021, 0, 2, 23));
    expect(validateCandles(file.candles, '1h')).toEqual([]);
  });

  it('finds columns by name, in any order, ignoring extra ones', () => {
    const csv = 'Volume,Close,Date,Low,High,Open,trades\n5.5,101,2021-01-01T00:00:00Z,99,102,100,7\n';
    expect(decodeMarketFile(text(csv)).candles).toEqual([
      {
        openTime: Date.UTC(2021, 0, 1),
        open: 100,
        high: 102,
        low: 99,
        close: 101,
        volume: 5.5,
        line: 2,
        row: 1,
      },
    ]);
  });

  it('refuses a header without the required columns', () => {
    expect(() => decodeMarketFile(text('timestamp,open,high,low,close\n1,2,3,4,5\n'), 'x.csv')).toThrow(
      'x.csv: unrecognised content: first line "timestamp,open,high,low,close"',
    );
  });
});

describe('compressed files, made from real slices', () => {
  it('reads gzip of each format, detected by magic bytes', () => {
    for (const name of [KLINES_2021, KLINES_2025, FREQTRADE, 'ohlcv/ETH_USDT-1h-dates.csv']) {
      const plain = decodeMarketFile(fixture(name));
      const gzipped = decodeMarketFile(gzipSync(fixture(name)), `${name}.gz`);
      expect(gzipped.compression).toBe('gzip');
      expect(gzipped.format).toBe(plain.format);
      expect(gzipped.candles).toEqual(plain.candles);
    }
  });

  it('reads a zip holding one CSV, as data.binance.vision publishes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'market-files-'));
    const zipPath = join(dir, 'BTCUSDT-1m-2021-01-01.zip');
    writeFileSync(zipPath, zipSync({ 'BTCUSDT-1m-2021-01-01.csv': fixture(KLINES_2021) }));
    const file = await readMarketFile(zipPath);
    expect(file).toMatchObject({
      file: zipPath,
      format: 'binance-klines-csv',
      compression: 'zip',
      entryName: 'BTCUSDT-1m-2021-01-01.csv',
      issues: [],
    });
    expect(values(file.candles)).toEqual(values(decodeMarketFile(fixture(KLINES_2021)).candles));
  });

  it('ignores folder and macOS metadata entries in a zip', () => {
    const zip = zipSync({
      klines: { 'BTCUSDT-1m-2025-03-01.csv': fixture(KLINES_2025) },
      __MACOSX: { klines: { '._BTCUSDT-1m-2025-03-01.csv': new Uint8Array([0, 5, 22, 7]) } },
    });
    const file = decodeMarketFile(zip);
    expect(file.entryName).toBe('klines/BTCUSDT-1m-2025-03-01.csv');
    expect(file.candles).toHaveLength(120);
  });

  it('refuses zips with no file or several files, listing them', () => {
    expect(() => decodeMarketFile(zipSync({}), 'empty.zip')).toThrow(
      'empty.zip: the zip archive holds no file',
    );
    const two = zipSync({ 'a.csv': fixture(KLINES_2021), 'b.csv': fixture(KLINES_2025) });
    expect(() => decodeMarketFile(two, 'two.zip')).toThrow(
      'two.zip: the zip archive holds 2 files (a.csv, b.csv); expected exactly one',
    );
  });

  it('reports corrupt compressed data as a file error', () => {
    const gz = gzipSync(fixture(KLINES_2021));
    expect(() => decodeMarketFile(gz.subarray(0, 100), 'cut.csv.gz')).toThrow(
      /^cut\.csv\.gz: corrupt gzip data/,
    );
    const zip = zipSync({ 'a.csv': fixture(KLINES_2021) });
    expect(() => decodeMarketFile(zip.subarray(0, 200), 'cut.zip')).toThrow(/^cut\.zip: corrupt zip archive/);
  });
});

describe('format detection by content, not by extension', () => {
  it('reads freqtrade JSON named .csv', async () => {
    const file = await readMarketFile(fixturePath('misnamed/XRP_USDT-1h.csv'));
    expect(file.format).toBe('freqtrade-json');
    expect(file.candles[0]).toMatchObject({ openTime: Date.UTC(2021, 0, 1), open: 0.21953 });
  });

  it('reads a Binance CSV named .json', async () => {
    const file = await readMarketFile(fixturePath('misnamed/BTCUSDT-1m-2021-01-01.json'));
    expect(file.format).toBe('binance-klines-csv');
    expect(file.candles).toHaveLength(60);
  });

  it('reads a zip named .csv.gz', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'market-files-'));
    const path = join(dir, 'BTCUSDT-1m-2025-03-01.csv.gz');
    writeFileSync(path, zipSync({ 'inner.csv': fixture(KLINES_2025) }));
    expect(await readMarketFile(path)).toMatchObject({ compression: 'zip', format: 'binance-klines-csv' });
  });
});

describe('rows that cannot be read', () => {
  // Real rows of BTCUSDT-1m-2021-01-01.csv, each damaged in one way (line numbers in comments).
  const real = fixture(KLINES_2021).toString().split('\n');
  const damaged = (line: number, column: number, value: string) => {
    const cells = real[line - 1]!.split(',');
    cells[column] = value;
    return cells.join(',');
  };
  const broken = [
    real[0], // 1: fine
    damaged(2, 4, 'abc'), // 2: close is not a number
    damaged(3, 0, '1609459320'), // 3: open time in seconds
    real[3]!.split(',').slice(0, 11).join(','), // 4: a column short
    damaged(5, 0, '1609459440000123'), // 5: microseconds with a sub-millisecond part
    '', // 6: blank lines are skipped
    damaged(7, 3, '29100'), // 7: low above the body: reads fine, validation rejects it
    real[7], // 8: fine (00:07)
    real[1], // 9: the 00:01 candle again, out of order
  ].join('\n');

  it('reports each unreadable row with its line, and validation the rest', () => {
    const file = decodeMarketFile(text(broken), 'broken.csv');
    expect(file.issues).toEqual([
      {
        line: 2,
        row: 2,
        field: 'close',
        value: 'abc',
        rule: 'unreadable_value',
        reason: 'close "abc" is not a number',
      },
      {
        line: 3,
        row: 3,
        field: 'openTime',
        value: '1609459320',
        rule: 'not_epoch_ms',
        reason:
          'open time 1609459320 is neither epoch milliseconds nor microseconds between 2000 and 2100 (it looks like epoch seconds)',
      },
      {
        line: 4,
        row: 4,
        field: 'row',
        value: real[3]!.split(',').slice(0, 11).join(','),
        rule: 'unreadable_row',
        reason: 'expected 12 comma-separated columns of a Binance kline CSV, found 11',
      },
      {
        line: 5,
        row: 5,
        field: 'openTime',
        value: '1609459440000123',
        rule: 'not_epoch_ms',
        reason: 'open time 1609459440000123 (microseconds) is not a whole millisecond',
      },
    ]);
    expect(file.candles.map((c) => c.line)).toEqual([1, 7, 8, 9]);

    const invalid = validateCandles(file.candles, '1m');
    expect(invalid.map((i) => [i.line, i.rule])).toEqual([
      [7, 'low_above_body'],
      [9, 'out_of_order'],
    ]);
    expect(dropInvalidRows(file.candles, invalid).map((c) => c.line)).toEqual([1, 8]);
  });
});

describe('a damaged first row', () => {
  it('is reported as a bad row, not mistaken for a header and skipped', () => {
    const [first, second] = fixture(KLINES_2021).toString().split('\n');
    const file = decodeMarketFile(text(`${first!.replace('28923.63000000', 'n/a')}\n${second}\n`));
    expect(file.format).toBe('binance-klines-csv');
    expect(file.issues).toMatchObject([
      { line: 1, row: 1, field: 'open', value: 'n/a', rule: 'unreadable_value' },
    ]);
    expect(file.candles.map((c) => c.line)).toEqual([2]);
  });
});

describe('files that cannot be read at all', () => {
  it.each([
    ['', 'the file is empty'],
    ['  \n\n', 'the file is empty'],
    ['{"open": 1}', 'holds a JSON object, not an array of candle rows'],
    ['[[1609459200000, 1, 2, 3', 'not valid JSON: '],
    [
      '1609459200000,1,2,0.5,1.5,10\n',
      'unrecognised content: the first line has 6 comma-separated values and no header',
    ],
    ['hello world\n', 'unrecognised content: first line "hello world"'],
  ])('%j: %s', (content, problem) => {
    try {
      decodeMarketFile(text(content), 'bad.csv');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MarketFileError);
      expect((error as MarketFileError).code).toBe('market_file');
      expect((error as MarketFileError).message.startsWith(`bad.csv: ${problem}`)).toBe(true);
    }
  });

  it('refuses binary and non-UTF-8 content', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(() => decodeMarketFile(png, 'chart.png')).toThrow('chart.png: holds binary data');
    expect(() => decodeMarketFile(new Uint8Array([0x74, 0xff, 0xfe]), 'latin1.csv')).toThrow(
      'latin1.csv: is not UTF-8 text, nor gzip or zip',
    );
  });

  it('names a missing file', async () => {
    await expect(readMarketFile('/nonexistent/BTCUSDT-1m-2021-01-01.csv')).rejects.toThrow(
      '/nonexistent/BTCUSDT-1m-2021-01-01.csv: no such file',
    );
    await expect(readMarketFile(fixturePath('ohlcv'))).rejects.toThrow(/is a directory/);
  });
});

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { marketStream } from '../../src/domain/market/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { importCandles, planImport } from '../../src/services/import-candles.js';
import { backends } from '../support/backends.js';
import { testCatalogue } from '../support/test-events.js';
import {
  describeStream,
  FREQTRADE_OUTAGE,
  fixtureLines,
  isTimeOrdered,
  KLINES_2021,
  KLINES_2025,
  OHLCV_1H,
  readMarket,
  TempDir,
  uniqueExchange,
} from './support.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const JAN1 = Date.UTC(2021, 0, 1);

for (const backend of backends.filter((b) => b.name !== 'esdb')) {
  describe.skipIf(backend.skipReason !== null)(`data import (${backend.name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;
    let dir: TempDir;
    let exchange: string;
    const stream = (symbol = 'BTC/USDT', timeframe = '1m') => marketStream(exchange, symbol, timeframe);

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => close?.());
    beforeEach(() => {
      dir = new TempDir();
      exchange = uniqueExchange();
    });
    afterEach(() => dir.remove());

    /** The 180 real minutes of 2021-01-01 00:00–02:59 as `parts` files (p1, p2, ... p10, ...). */
    function splitKlines(parts: number, name = (i: number) => `BTCUSDT-1m-2021-01-01-p${i + 1}.csv`) {
      const lines = fixtureLines(KLINES_2021);
      const size = Math.ceil(lines.length / parts);
      const paths: string[] = [];
      // Written last part first, so the order on disk is not the time order.
      for (let i = parts - 1; i >= 0; i--) {
        paths[i] = dir.write(name(i), `${lines.slice(i * size, (i + 1) * size).join('\n')}\n`);
      }
      return { lines, paths };
    }

    it('imports a real freqtrade file with its outage; a second import adds nothing and says so', async () => {
      const first = await importCandles(store, [FREQTRADE_OUTAGE], { exchange });
      expect(first.error).toBeNull();
      expect(first.totals).toEqual({
        files: 1,
        candles: 87,
        new: 87,
        present: 0,
        skipped: 0,
        gaps: 1,
        missing: 33,
      });
      expect(first.files[0]).toMatchObject({
        status: 'imported',
        format: 'freqtrade-json',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        stream: stream('BTC/USDT', '1h'),
        first: '2018-02-06T00:00:00.000Z',
        last: '2018-02-10T23:00:00.000Z',
        gaps: [{ from: '2018-02-08T01:00:00.000Z', to: '2018-02-09T09:00:00.000Z', missing: 33 }],
      });

      const events = await readMarket(store, stream('BTC/USDT', '1h'));
      expect(events).toHaveLength(88);
      expect(isTimeOrdered(events)).toBe(true);
      // The gap sits right before the candle that ends it, occurring when that candle opens.
      const gapIndex = events.findIndex((e) => e.type === 'CandleGapDetected');
      expect(events[gapIndex]!.data).toEqual({
        exchange,
        symbol: 'BTC/USDT',
        timeframe: '1h',
        from: Date.UTC(2018, 1, 8, 1),
        to: Date.UTC(2018, 1, 9, 9),
        missing: 33,
      });
      expect(events[gapIndex]!.metadata.occurredAt).toBe(Date.UTC(2018, 1, 9, 10));
      expect((events[gapIndex + 1]!.data as { openTime: number }).openTime).toBe(Date.UTC(2018, 1, 9, 10));
      const candle = events[0]!;
      expect(candle.data).toEqual({
        exchange,
        symbol: 'BTC/USDT',
        timeframe: '1h',
        openTime: Date.UTC(2018, 1, 6),
        closeTime: Date.UTC(2018, 1, 6, 1),
        open: 6939.63,
        high: 7150,
        low: 6860,
        close: 6983.17,
        volume: 2594.552502,
      });
      expect(candle.id).toBe(
        deterministicId(Date.UTC(2018, 1, 6), exchange, 'BTC/USDT', '1h', Date.UTC(2018, 1, 6)),
      );
      expect(candle.metadata).toMatchObject({
        occurredAt: Date.UTC(2018, 1, 6, 1),
        correlationId: first.correlationId,
      });

      const second = await importCandles(store, [FREQTRADE_OUTAGE], { exchange });
      expect(second.correlationId).not.toBe(first.correlationId);
      expect(second.error).toBeNull();
      expect(second.totals).toEqual({
        files: 1,
        candles: 87,
        new: 0,
        present: 87,
        skipped: 0,
        gaps: 0,
        missing: 0,
      });
      expect(second.files[0]).toMatchObject({ status: 'imported', new: 0, present: 87, gaps: [] });
      expect(await readMarket(store, stream('BTC/USDT', '1h'))).toEqual(events);
    });

    it('refuses a file whose candle differs from the stored one and writes nothing of it', async () => {
      await importCandles(store, [OHLCV_1H], { exchange });
      const before = await store.streamRevision(stream('BTC/USDT', '1h'));
      expect(before).toBe(47);

      // The same file with one volume changed, and one more hour after the stored ones.
      const lines = fixtureLines(OHLCV_1H);
      const cells = lines[10]!.split(',');
      const changed = [...lines.slice(0, 10), [...cells.slice(0, 5), '1234.5'].join(','), ...lines.slice(11)];
      const extra = `${JAN1 + 48 * HOUR},29000,29100,28900,29050,10`;
      const path = dir.write('BTCUSDT_1h.csv', `${[...changed, extra].join('\n')}\n`);

      const report = await importCandles(store, [path], { exchange });
      expect(report.error).toMatchObject({ code: 'candle_conflict', file: path });
      expect(report.error!.message).toContain('line 11, row 10');
      expect(report.error!.message).toContain(`volume 1234.5 (stored ${cells[5]})`);
      expect(report.error!.message).toContain('nothing of it was imported');
      expect(report.error!.hint).toContain('never overwritten');
      expect(report.files[0]).toMatchObject({ status: 'refused', new: 0 });
      expect(report.totals.new).toBe(0);
      expect(await store.streamRevision(stream('BTC/USDT', '1h'))).toBe(before);
    });

    it('refuses a file with an invalid row (all or nothing): earlier files are written, later ones not', async () => {
      const { lines, paths } = splitKlines(3);
      // Row 5 of the second file: a low above the open.
      const bad = lines[64]!.split(',');
      bad[3] = String(Number(bad[1]) + 100);
      const second = [...lines.slice(60, 64), bad.join(','), ...lines.slice(65, 120)];
      dir.write('BTCUSDT-1m-2021-01-01-p2.csv', `${second.join('\n')}\n`);

      const report = await importCandles(store, [dir.path], { exchange });
      expect(report.error).toMatchObject({ code: 'invalid_candles', file: paths[1] });
      expect(report.error!.message).toContain(`${paths[1]}: 1 invalid row: line 5: low`);
      expect(report.error!.hint).toContain('--skip-invalid');
      expect(report.files.map((f) => f.status)).toEqual(['imported', 'refused', 'not_imported']);
      expect(report.files[1]!.invalidRows).toMatchObject([
        { line: 5, row: 5, field: 'low', rule: 'low_above_body' },
      ]);
      expect(report.totals).toMatchObject({ files: 1, new: 60 });
      expect(await store.streamRevision(stream())).toBe(59);
    });

    it('with skipInvalid imports the valid rows, lists the others, and records the hole as a gap', async () => {
      const { lines } = splitKlines(3);
      const bad = lines[64]!.split(',');
      bad[3] = String(Number(bad[1]) + 100);
      dir.write(
        'BTCUSDT-1m-2021-01-01-p2.csv',
        `${[...lines.slice(60, 64), bad.join(','), ...lines.slice(65, 120)].join('\n')}\n`,
      );
      const report = await importCandles(store, [dir.path], { exchange, skipInvalid: true });
      expect(report.error).toBeNull();
      expect(report.totals).toEqual({
        files: 3,
        candles: 179,
        new: 179,
        present: 0,
        skipped: 1,
        gaps: 1,
        missing: 1,
      });
      expect(report.files[1]).toMatchObject({
        skipped: 1,
        invalidRows: [{ line: 5, field: 'low', rule: 'low_above_body' }],
        gaps: [{ from: '2021-01-01T01:04:00.000Z', to: '2021-01-01T01:04:00.000Z', missing: 1 }],
      });
      const events = await readMarket(store, stream());
      expect(events).toHaveLength(180);
      expect(describeStream(events).filter(([kind]) => kind === 'gap')).toEqual([
        ['gap', JAN1 + 64 * MINUTE, JAN1 + 64 * MINUTE, 1],
      ]);
    });

    it('imports a directory in time order (natural name order), whatever the order on disk', async () => {
      splitKlines(12);
      dir.write('BTCUSDT-1m-2021-01-01.csv.CHECKSUM', 'abc  BTCUSDT-1m-2021-01-01.csv\n');
      const report = await importCandles(store, [dir.path], { exchange, batchSize: 50 });
      expect(report.error).toBeNull();
      expect(report.files.map((f) => f.file.split('-').at(-1))).toEqual(
        Array.from({ length: 12 }, (_, i) => `p${i + 1}.csv`),
      );
      expect(report.ignored).toEqual([`${dir.path}/BTCUSDT-1m-2021-01-01.csv.CHECKSUM`]);
      expect(report.totals).toMatchObject({ files: 12, new: 180, gaps: 0 });
      const events = await readMarket(store, stream());
      expect(events.map((e) => (e.data as { openTime: number }).openTime)).toEqual(
        Array.from({ length: 180 }, (_, i) => JAN1 + i * MINUTE),
      );
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 180 }, (_, i) => i));

      // Again, in small batches and with a small read window that has to move along the stream.
      const again = await importCandles(store, [dir.path], { exchange, batchSize: 7, readWindow: 20 });
      expect(again.totals).toMatchObject({ files: 12, new: 0, present: 180 });
      expect(await store.streamRevision(stream())).toBe(179);
    });

    it('prepares files on a worker thread exactly as in the main thread, refusals included', async () => {
      const { lines, paths } = splitKlines(12);
      const viaWorker = await importCandles(store, [dir.path], { exchange, worker: true });
      const other = uniqueExchange();
      const inThread = await importCandles(store, [dir.path], { exchange: other, worker: false });
      expect(viaWorker.error).toBeNull();
      const withoutMarket = (r: typeof viaWorker) => ({
        ...r,
        correlationId: '',
        files: r.files.map((f) => ({ ...f, exchange: '', stream: '' })),
        markets: r.markets.map((m) => ({ ...m, exchange: '', stream: '' })),
      });
      expect(withoutMarket(viaWorker)).toEqual(withoutMarket(inThread));
      const a = await readMarket(store, stream());
      const b = await readMarket(store, marketStream(other, 'BTC/USDT', '1m'));
      expect(a.map((e) => e.id)).toEqual(
        a.map((e) =>
          deterministicId(
            (e.data as { openTime: number }).openTime,
            exchange,
            'BTC/USDT',
            '1m',
            (e.data as { openTime: number }).openTime,
          ),
        ),
      );
      expect(a.map((e) => ({ ...(e.data as object), exchange: '' }))).toEqual(
        b.map((e) => ({ ...(e.data as object), exchange: '' })),
      );

      const bad = lines[179]!.split(',');
      bad[5] = '-1';
      dir.write('BTCUSDT-1m-2021-01-01-p12.csv', `${[...lines.slice(165, 179), bad.join(',')].join('\n')}\n`);
      const refused = await importCandles(store, [...paths, `${dir.path}/BTCUSDT-1m-2021-01-01-p13.csv`], {
        exchange: uniqueExchange(),
        worker: true,
      }).catch((e: Error) => e);
      expect(refused).toBeInstanceOf(Error); // the missing p13 is caught while planning
      const invalid = await importCandles(store, paths, { exchange: uniqueExchange(), worker: true });
      expect(invalid.error).toMatchObject({ code: 'invalid_candles', file: paths[11] });
      expect(invalid.files[11]).toMatchObject({
        status: 'refused',
        format: 'binance-klines-csv',
        invalidRows: [{ row: 15, field: 'volume', rule: 'negative_volume' }],
      });
      expect(invalid.totals.new).toBe(165);
    });

    it('imports the same candles from a zip or a gzip as already present, and µs timestamps as ms', async () => {
      const csv = readFileSync(KLINES_2021);
      const zip = dir.write('BTCUSDT-1m-2021-01-01.zip', zipSync({ 'BTCUSDT-1m-2021-01-01.csv': csv }));
      const gz = dir.write('BTCUSDT-1m-2021-01-01.csv.gz', gzipSync(csv));
      const fromZip = await importCandles(store, [zip], { exchange });
      expect(fromZip.files[0]).toMatchObject({ compression: 'zip', format: 'binance-klines-csv', new: 180 });
      const fromGz = await importCandles(store, [gz], { exchange });
      expect(fromGz.files[0]).toMatchObject({ compression: 'gzip', new: 0, present: 180 });
      const fromCsv = await importCandles(store, [KLINES_2021], { exchange });
      expect(fromCsv.files[0]).toMatchObject({ compression: 'none', new: 0, present: 180 });

      // 2021 → 2025 in one stream: a gap of four years, refused as files left out...
      const refused = await importCandles(store, [KLINES_2025], { exchange });
      expect(refused.error).toMatchObject({ code: 'long_gap' });
      expect(refused.files[0]).toMatchObject({ status: 'refused', new: 0 });
      // ...or recorded as the fact it is when asked for
      const micro = await importCandles(store, [KLINES_2025], { exchange, acceptGaps: true });
      expect(micro.files[0]).toMatchObject({
        new: 120,
        first: '2025-03-01T00:00:00.000Z',
        last: '2025-03-01T01:59:00.000Z',
        gaps: [{ from: '2021-01-01T03:00:00.000Z', to: '2025-02-28T23:59:00.000Z' }],
      });
      const last = (await readMarket(store, stream())).at(-1)!;
      expect(last.data).toMatchObject({
        openTime: Date.UTC(2025, 2, 1, 1, 59),
        closeTime: Date.UTC(2025, 2, 1, 2),
      });
    });

    it('appends the new end of a file that overlaps the stored end', async () => {
      const lines = fixtureLines(KLINES_2021);
      const head = dir.write('BTCUSDT-1m-2021-01-01-head.csv', `${lines.slice(0, 100).join('\n')}\n`);
      await importCandles(store, [head], { exchange });
      const report = await importCandles(store, [KLINES_2021], { exchange });
      expect(report.files[0]).toMatchObject({
        status: 'imported',
        candles: 180,
        new: 80,
        present: 100,
        gaps: [],
      });
      expect(await store.streamRevision(stream())).toBe(179);
    });

    it('refuses new candles older than the stream end, naming the fix', async () => {
      const { paths } = splitKlines(3);
      await importCandles(store, [paths[1]!], { exchange });
      const report = await importCandles(store, [paths[0]!], { exchange });
      expect(report.error).toMatchObject({ code: 'candles_before_stream_end', file: paths[0] });
      expect(report.error!.message).toContain(
        `60 new candles from 2021-01-01T00:00:00.000Z are older than the last candle stored in ${stream()}`,
      );
      expect(report.error!.hint).toContain('oldest first');
      expect(await store.streamRevision(stream())).toBe(59);
    });

    it('refuses candles inside a recorded gap', async () => {
      await importCandles(store, [FREQTRADE_OUTAGE], { exchange });
      const hour = Date.UTC(2018, 1, 8, 12);
      const path = dir.write(
        'BTC_USDT-1h.csv',
        `timestamp,open,high,low,close,volume\n${hour},8000,8100,7900,8050,5\n`,
      );
      const report = await importCandles(store, [path], { exchange });
      expect(report.error).toMatchObject({ code: 'candles_before_stream_end' });
      expect(await store.streamRevision(stream('BTC/USDT', '1h'))).toBe(87);
    });

    it('refuses a file whose candles are not of the timeframe it is imported as', async () => {
      const minutes = await importCandles(store, [KLINES_2021], { exchange, timeframe: '1h' });
      expect(minutes.error).toMatchObject({ code: 'timeframe_mismatch', hint: 'pass --timeframe 1m' });
      expect(minutes.error!.message).toContain(
        'most of its candles are 1m apart, so these are not 1h candles',
      );
      expect(await store.streamRevision(stream('BTC/USDT', '1h'))).toBe(-1);

      const report = await importCandles(store, [OHLCV_1H], { exchange, timeframe: '1m' });
      expect(report.error).toMatchObject({ code: 'timeframe_mismatch', hint: 'pass --timeframe 1h' });
      expect(report.files[0]!.warnings).toEqual([`--timeframe 1m overrides 1h from the name of ${OHLCV_1H}`]);
      expect(await store.streamRevision(stream('BTC/USDT', '1m'))).toBe(-1);
    });

    it('resolves every file market before importing anything', async () => {
      const good = dir.write('BTCUSDT-1m-2021-01-01.csv', readFileSync(KLINES_2021));
      const unnamed = dir.write('export.csv', readFileSync(OHLCV_1H));
      const failure = importCandles(store, [good, unnamed], { exchange });
      await expect(failure).rejects.toThrow(ConfigError);
      await expect(failure).rejects.toThrow(
        `cannot tell the symbol or timeframe of ${unnamed} from its name: pass --symbol and --timeframe`,
      );
      expect(await store.streamRevision(stream())).toBe(-1);
      await expect(planImport([unnamed], { symbol: 'BTC/USDT:USDT', timeframe: '1h' })).rejects.toThrow(
        'futures (or otherwise unsupported) market',
      );
      await expect(planImport([`${dir.path}/nope.csv`])).rejects.toThrow('no such file or directory');
    });
  });
}

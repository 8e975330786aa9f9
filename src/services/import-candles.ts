import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Compression, MarketFileFormat } from '../adapters/market-files/detect.js';
import { MarketFileError } from '../adapters/market-files/errors.js';
import { resolveMarket } from '../adapters/market-files/file-name.js';
import { ConfigError, TradekernelError } from '../domain/errors.js';
import type { MarketKey } from '../domain/market/candle.js';
import { marketStreamOf } from '../domain/market/candle-events.js';
import type { CandleIssue } from '../domain/market/candle-issue.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { AppendPipeline } from './append-pipeline.js';
import {
  inThreadPreparer,
  PreparedFileError,
  type PrepareResult,
  preparedCandles,
  workerPreparer,
} from './candle-file-preparer.js';
import {
  type ErrorReport,
  errorReport,
  type GapReport,
  gapReport,
  isoOrNull,
  parseExchange,
  requireSpot,
} from './market-report.js';
import { MarketStreamWriter } from './market-stream-writer.js';

/**
 * The `data import` use case: candle files into market streams. Per file: decode (format from
 * content), validate, compare with what is stored, append what is new with the gaps in front.
 *
 * - Idempotent: a candle's event id depends only on its market and open time, and candles
 *   already stored with the same values are counted as present, not written again.
 * - All-or-nothing per file: a file is decoded and validated whole before any of it is queued;
 *   an invalid row (unless skipInvalid), a conflicting value or a candle older than the stream's
 *   end refuses the file. The run stops there: files before it are written, files after it are
 *   not (a stream grows in time order, so skipping a file would turn its candles into a gap).
 * - Fast: files are read ahead while the store appends, and events go out in batches of up to
 *   65,536, one batch being written while the next is prepared.
 */

/**
 * The longest gap an import records without --accept-gaps: a week. Exchange outages last hours
 * (Binance's longest in these data, Feb 2018: 33 hours); a longer hole is files left out.
 */
export const MAX_IMPORT_GAP_MS = 7 * 24 * 3_600_000;

export interface ImportOptions {
  /** exchange of every file (default binance) */
  exchange?: string;
  /** override what file names say */
  symbol?: string;
  timeframe?: string;
  /** import the valid rows of a file with invalid ones, listing the rest */
  skipInvalid?: boolean;
  /** record gaps of any length (default: refuse one longer than MAX_IMPORT_GAP_MS) */
  acceptGaps?: boolean;
  /** shared by every event of the run (default: a new UUID); never part of an id */
  correlationId?: string;
  /** events per append (default and maximum 65,536) */
  batchSize?: number;
  /** files read and decoded ahead of the one being imported (default 4; 8 with the worker) */
  readAhead?: number;
  /**
   * read, decode and validate files on a worker thread (default: when there are 8 files or
   * more), leaving the main thread to build events and talk to the store
   */
  worker?: boolean;
  /** stored events read at once when a file overlaps stored candles (default 50,000) */
  readWindow?: number;
  onProgress?: (progress: { filesDone: number; files: number; candles: number }) => void;
}

export type FileStatus = 'imported' | 'refused' | 'not_imported';

export interface FileReport {
  file: string;
  exchange: string;
  symbol: string;
  timeframe: string;
  stream: string;
  format: MarketFileFormat | null;
  compression: Compression | null;
  /** imported: every new candle is stored; refused: the file that stopped the run; not_imported: not reached, or its batch was not stored */
  status: FileStatus;
  /** valid candles read from the file */
  candles: number;
  new: number;
  present: number;
  /** invalid rows left out (--skip-invalid) */
  skipped: number;
  gaps: GapReport[];
  /** open times of the file's first and last valid candle */
  first: string | null;
  last: string | null;
  /** rows with issues: skipped ones with --skip-invalid, or the ones that refused the file */
  invalidRows: CandleIssue[];
  warnings: string[];
}

export interface MarketImportReport {
  exchange: string;
  symbol: string;
  timeframe: string;
  stream: string;
  files: number;
  candles: number;
  new: number;
  present: number;
  skipped: number;
  gaps: number;
  missing: number;
  first: string | null;
  last: string | null;
}

export interface ImportTotals {
  files: number;
  candles: number;
  new: number;
  present: number;
  skipped: number;
  gaps: number;
  missing: number;
}

export interface ImportReport {
  correlationId: string;
  files: FileReport[];
  markets: MarketImportReport[];
  totals: ImportTotals;
  /** entries of the given directories that are not candle files (checksums, notes...) */
  ignored: string[];
  /** why the run stopped early, or null */
  error: (ErrorReport & { file: string | null }) | null;
}

export interface PlannedFile {
  path: string;
  key: MarketKey;
  stream: string;
  warnings: string[];
}

/** From this many files on, files are prepared on a worker thread. */
const WORKER_MIN_FILES = 8;

const CANDLE_FILE = /\.(csv|json|gz|zip|txt|jsongz)$/i;

/**
 * Expands directories and resolves every file's market before anything is imported, so a
 * missing --symbol or --timeframe fails at once. Directory entries are imported in name order
 * (natural, digits compared as numbers), which is time order for the layouts in use
 * (BTCUSDT-1m-2021-01-02.csv, BTCUSDT-1m-2021-02.zip); files are grouped by market.
 */
export async function planImport(
  paths: readonly string[],
  options: Pick<ImportOptions, 'exchange' | 'symbol' | 'timeframe'> = {},
): Promise<{ files: PlannedFile[]; ignored: string[] }> {
  if (paths.length === 0) throw new ConfigError('no file or directory to import', 'pass one or more paths');
  const exchange = parseExchange(options.exchange ?? 'binance');
  const found: string[] = [];
  const ignored: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new MarketFileError(path, 'no such file or directory', 'check the path');
      throw error;
    });
    if (!info.isDirectory()) {
      found.push(path);
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).filter(
      (entry) => !entry.name.startsWith('.'),
    );
    const files = entries.filter((entry) => entry.isFile() && CANDLE_FILE.test(entry.name));
    for (const entry of entries) if (!files.includes(entry)) ignored.push(join(path, entry.name));
    if (files.length === 0) {
      throw new ConfigError(
        `${path}: no candle files in this directory (looked for .csv, .json, .gz and .zip files)`,
        'pass the directory that holds the files, or the files themselves',
      );
    }
    for (const entry of files.sort((a, b) => naturalCompare(a.name, b.name)))
      found.push(join(path, entry.name));
  }

  const flags = {
    ...(options.symbol !== undefined ? { symbol: options.symbol } : {}),
    ...(options.timeframe !== undefined ? { timeframe: options.timeframe } : {}),
  };
  const byStream = new Map<string, PlannedFile[]>();
  for (const path of found) {
    const market = resolveMarket(path, flags);
    const symbol = requireSpot(market.symbol, path);
    const key: MarketKey = { exchange, symbol, timeframe: market.timeframe };
    const stream = marketStreamOf(key);
    const group = byStream.get(stream) ?? [];
    group.push({ path, key, stream, warnings: market.warnings });
    byStream.set(stream, group);
  }
  const files: PlannedFile[] = [];
  for (const group of byStream.values()) {
    files.push(
      ...group.sort(
        (a, b) => naturalCompare(basename(a.path), basename(b.path)) || naturalCompare(a.path, b.path),
      ),
    );
  }
  return { files, ignored };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export async function importCandles(
  store: EventStore,
  paths: readonly string[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  const plan = await planImport(paths, options);
  return importPlanned(store, plan, options);
}

export async function importPlanned(
  store: EventStore,
  plan: { files: PlannedFile[]; ignored: string[] },
  options: ImportOptions = {},
): Promise<ImportReport> {
  const correlationId = options.correlationId ?? randomUUID();
  const pipeline = new AppendPipeline();
  const writers = new Map<string, MarketStreamWriter>();
  const { files } = plan;
  const reports: FileReport[] = files.map((file) => ({
    file: file.path,
    exchange: file.key.exchange,
    symbol: file.key.symbol,
    timeframe: file.key.timeframe,
    stream: file.stream,
    format: null,
    compression: null,
    status: 'not_imported',
    candles: 0,
    new: 0,
    present: 0,
    skipped: 0,
    gaps: [],
    first: null,
    last: null,
    invalidRows: [],
    warnings: [...file.warnings],
  }));

  // Read ahead: the next files are read, decoded and validated (on a worker thread when there
  // are enough of them) while the current batch is appended.
  const useWorker = options.worker ?? files.length >= WORKER_MIN_FILES;
  const preparer = useWorker ? workerPreparer() : inThreadPreparer();
  const readAhead = Math.max(1, options.readAhead ?? (useWorker ? 8 : 4));
  const skipInvalid = options.skipInvalid === true;
  const jobs: (Promise<Settled<PrepareResult>> | undefined)[] = [];
  const startJob = (index: number) => {
    const file = files[index];
    if (file && jobs[index] === undefined) {
      jobs[index] = settle(preparer.prepare({ path: file.path, key: file.key, skipInvalid }));
    }
  };
  for (let i = 0; i < readAhead; i++) startJob(i);

  let error: ImportReport['error'] = null;
  let candlesDone = 0;
  try {
    for (let index = 0; index < files.length; index++) {
      const file = files[index]!;
      const report = reports[index]!;
      startJob(index + readAhead);
      const settled = await jobs[index]!;
      jobs[index] = undefined;
      try {
        if (!settled.ok) throw settled.error;
        const result = settled.value;
        if (!result.ok) {
          report.format = result.failure.format;
          report.compression = result.failure.compression;
          report.invalidRows = result.failure.invalidRows;
          throw new PreparedFileError(result.failure);
        }
        const prepared = result.file;
        report.format = prepared.format;
        report.compression = prepared.compression;
        report.invalidRows = prepared.invalidRows;
        report.skipped = prepared.skipped;
        report.candles = prepared.count;
        report.first = isoOrNull(prepared.count > 0 ? prepared.openTime[0] : undefined);
        report.last = isoOrNull(prepared.count > 0 ? prepared.openTime[prepared.count - 1] : undefined);

        let writer = writers.get(file.stream);
        if (!writer) {
          writer = await MarketStreamWriter.open(store, file.key, pipeline, {
            context: { correlationId },
            ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
            ...(options.readWindow !== undefined ? { readWindow: options.readWindow } : {}),
          });
          writers.set(file.stream, writer);
        }
        const added = await writer.add(preparedCandles(prepared), {
          source: file.path,
          ...(options.acceptGaps ? {} : { maxGapMs: MAX_IMPORT_GAP_MS }),
          onStored: () => {
            report.status = 'imported';
          },
        });
        report.new = added.added;
        report.present = added.present;
        report.gaps = added.gaps.map(gapReport);
        candlesDone += prepared.count;
        options.onProgress?.({ filesDone: index + 1, files: files.length, candles: candlesDone });
      } catch (caught) {
        if (caught instanceof TradekernelError && !pipeline.failed) report.status = 'refused';
        throw caught;
      }
    }
  } catch (caught) {
    if (!(caught instanceof TradekernelError)) {
      await preparer.close();
      throw caught;
    }
    const failed = reports.find((r) => r.status === 'refused');
    error = { ...errorReport(caught), file: failed?.file ?? null };
  }
  await preparer.close();

  // Store what was accepted before the failure (or everything): files before a refused one
  // are complete and valid.
  try {
    for (const writer of writers.values()) await writer.flush();
  } catch (caught) {
    if (!(caught instanceof TradekernelError)) throw caught;
    error ??= { ...errorReport(caught), file: null };
  }
  // A file counts as imported only once all its new candles are stored; nothing of the others is.
  for (const report of reports) {
    if (report.status === 'imported') continue;
    report.new = 0;
    report.gaps = [];
  }
  return summarise(correlationId, reports, plan.ignored, error);
}

function summarise(
  correlationId: string,
  files: FileReport[],
  ignored: string[],
  error: ImportReport['error'],
): ImportReport {
  const markets = new Map<string, MarketImportReport>();
  const totals: ImportTotals = { files: 0, candles: 0, new: 0, present: 0, skipped: 0, gaps: 0, missing: 0 };
  for (const file of files) {
    if (file.status !== 'imported') continue;
    let market = markets.get(file.stream);
    if (!market) {
      market = {
        exchange: file.exchange,
        symbol: file.symbol,
        timeframe: file.timeframe,
        stream: file.stream,
        files: 0,
        candles: 0,
        new: 0,
        present: 0,
        skipped: 0,
        gaps: 0,
        missing: 0,
        first: null,
        last: null,
      };
      markets.set(file.stream, market);
    }
    const missing = file.gaps.reduce((sum, gap) => sum + gap.missing, 0);
    for (const target of [market, totals]) {
      target.files++;
      target.candles += file.candles;
      target.new += file.new;
      target.present += file.present;
      target.skipped += file.skipped;
      target.gaps += file.gaps.length;
      target.missing += missing;
    }
    if (file.first !== null && (market.first === null || file.first < market.first))
      market.first = file.first;
    if (file.last !== null && (market.last === null || file.last > market.last)) market.last = file.last;
  }
  return { correlationId, files, markets: [...markets.values()], totals, ignored, error };
}

import type { Compression, MarketFileFormat } from '../adapters/market-files/detect.js';
import { readMarketFile } from '../adapters/market-files/read-market-file.js';
import { startWorker, workerScript } from '../adapters/threads/worker-thread.js';
import { TradekernelError } from '../domain/errors.js';
import { type MarketKey, setCandleAt } from '../domain/market/candle.js';
import { candleEventIds } from '../domain/market/candle-events.js';
import {
  type CandleIssue,
  countInvalidRows,
  dropInvalidRows,
  InvalidCandlesError,
} from '../domain/market/candle-issue.js';
import { dominantSpacingMismatch, TimeframeMismatchError } from '../domain/market/stream-errors.js';
import { validateCandles } from '../domain/market/validate.js';
import type { SourceCandle } from './market-stream-writer.js';

/**
 * The per-file work of an import that needs no store: read, decode, check the timeframe,
 * validate, drop invalid rows (with skipInvalid) and derive each candle's event id. It runs on a
 * worker thread when there is enough to do, so that the main thread only builds events and
 * talks to the store; the result crosses over as typed arrays (moved, not copied) and the ids.
 */

const ID_LENGTH = 36;

export interface PrepareJob {
  path: string;
  key: MarketKey;
  skipInvalid: boolean;
}

/** A file's valid candles, column by column, with their event ids. */
export interface PreparedFile {
  format: MarketFileFormat;
  compression: Compression;
  count: number;
  openTime: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  line: Int32Array;
  row: Int32Array;
  /** the event ids, 36 characters each, end to end: one string crosses threads far faster than many */
  ids: string;
  /** rows left out (skipInvalid) */
  invalidRows: CandleIssue[];
  skipped: number;
}

/** Why a file was refused, as plain data (it may come from another thread). */
export interface PrepareFailure {
  code: string;
  message: string;
  hint: string | null;
  format: MarketFileFormat | null;
  compression: Compression | null;
  /** the invalid rows that refused the file, if that is the reason */
  invalidRows: CandleIssue[];
}

export type PrepareResult = { ok: true; file: PreparedFile } | { ok: false; failure: PrepareFailure };

/** A refused file as an error the import reports (code, message and hint as prepared). */
export class PreparedFileError extends TradekernelError {
  constructor(readonly failure: PrepareFailure) {
    super(failure.message, failure.code, failure.hint ?? undefined);
  }
}

/** Does the work in the calling thread. Expected problems become failures; bugs throw. */
export async function prepareCandleFile(job: PrepareJob): Promise<PrepareResult> {
  let decoded: Awaited<ReturnType<typeof readMarketFile>> | undefined;
  try {
    decoded = await readMarketFile(job.path);
    const { timeframe } = job.key;
    // A wrong timeframe would show as a gap after every candle, or most rows misaligned.
    const spacing = dominantSpacingMismatch(decoded.candles, timeframe);
    if (spacing !== null) throw new TimeframeMismatchError(job.path, timeframe, spacing);
    const issues = [...decoded.issues, ...validateCandles(decoded.candles, timeframe)];
    let candles = decoded.candles;
    if (issues.length > 0) {
      issues.sort((a, b) => a.row - b.row);
      if (!job.skipInvalid) throw new InvalidCandlesError(job.path, issues);
      candles = dropInvalidRows(candles, issues);
    }
    const n = candles.length;
    const file: PreparedFile = {
      format: decoded.format,
      compression: decoded.compression,
      count: n,
      openTime: new Float64Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
      line: new Int32Array(n),
      row: new Int32Array(n),
      ids: '',
      invalidRows: issues,
      skipped: countInvalidRows(issues),
    };
    const ids = new Array<string>(n);
    const candleEventId = candleEventIds(job.key);
    for (let i = 0; i < n; i++) {
      const c = candles[i]!;
      setCandleAt(file, i, c);
      file.line[i] = c.line;
      file.row[i] = c.row;
      ids[i] = candleEventId(c.openTime);
    }
    file.ids = ids.join('');
    if (file.ids.length !== n * ID_LENGTH) throw new Error('candle event ids are not 36-character UUIDs');
    return { ok: true, file };
  } catch (error) {
    if (!(error instanceof TradekernelError)) throw error;
    return {
      ok: false,
      failure: {
        code: error.code,
        message: error.message,
        hint: error.hint ?? null,
        format: decoded?.format ?? null,
        compression: decoded?.compression ?? null,
        invalidRows: error instanceof InvalidCandlesError ? [...error.issues] : [],
      },
    };
  }
}

/** The candles of a prepared file as the stream writer takes them. */
export function preparedCandles(file: PreparedFile): SourceCandle[] {
  const candles = new Array<SourceCandle>(file.count);
  for (let i = 0; i < file.count; i++) {
    candles[i] = {
      openTime: file.openTime[i]!,
      open: file.open[i]!,
      high: file.high[i]!,
      low: file.low[i]!,
      close: file.close[i]!,
      volume: file.volume[i]!,
      line: file.line[i]!,
      row: file.row[i]!,
      id: file.ids.slice(i * ID_LENGTH, (i + 1) * ID_LENGTH),
    };
  }
  return candles;
}

export interface CandleFilePreparer {
  prepare(job: PrepareJob): Promise<PrepareResult>;
  close(): Promise<void>;
}

export const inThreadPreparer = (): CandleFilePreparer => ({
  prepare: prepareCandleFile,
  close: async () => {},
});

/**
 * One worker thread working through jobs in order. From TypeScript sources (tests, benchmarks
 * run with tsx) the worker loads the .ts entry through tsx; the built CLI loads the .js one.
 */
export function workerPreparer(): CandleFilePreparer {
  const worker = startWorker(workerScript(import.meta.url, 'candle-file-worker'));
  worker.unref();
  const waiting = new Map<number, { resolve: (r: PrepareResult) => void; reject: (e: unknown) => void }>();
  let next = 0;
  let broken: Error | null = null;
  const failAll = (error: Error) => {
    broken ??= error;
    for (const { reject } of waiting.values()) reject(broken);
    waiting.clear();
  };
  worker.on('message', (message: { seq: number; result?: PrepareResult; bug?: string }) => {
    const job = waiting.get(message.seq);
    if (!job) return;
    waiting.delete(message.seq);
    if (message.result) job.resolve(message.result);
    else job.reject(new Error(`candle file worker: ${message.bug}`));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`candle file worker exited with code ${code}`)));
  return {
    prepare(job) {
      if (broken) return Promise.reject(broken);
      const seq = next++;
      return new Promise((resolve, reject) => {
        waiting.set(seq, { resolve, reject });
        worker.postMessage({ seq, job });
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** The buffers of a prepared file, to move (not copy) to the other thread. */
export function transferList(result: PrepareResult): ArrayBuffer[] {
  if (!result.ok) return [];
  const f = result.file;
  return [f.openTime, f.open, f.high, f.low, f.close, f.volume, f.line, f.row].map(
    (array) => array.buffer as ArrayBuffer,
  );
}

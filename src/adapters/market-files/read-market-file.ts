import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import type { CandleRow } from '../../domain/market/candle.js';
import type { CandleIssue } from '../../domain/market/candle-issue.js';
import { parseBinanceKlines } from './binance-klines.js';
import { type Compression, detectCompression, detectTextFormat, type MarketFileFormat } from './detect.js';
import { MarketFileError } from './errors.js';
import { parseFreqtradeJson } from './freqtrade-json.js';
import { parseOhlcvCsv } from './ohlcv-csv.js';

/** A candle file read into memory; rows are not validated yet (see validateCandles). */
export interface DecodedMarketFile {
  /** the name errors use, usually the path */
  file: string;
  format: MarketFileFormat;
  compression: Compression;
  /** name of the data file inside a zip archive, null otherwise */
  entryName: string | null;
  candles: CandleRow[];
  /** rows that could not be read at all */
  issues: CandleIssue[];
}

/**
 * Reads and decodes one candle file. Files are read whole: the largest inputs (a day of 1m
 * klines, a few MB of freqtrade JSON) fit in memory comfortably, and a year of 1m data is read
 * file by file.
 */
export async function readMarketFile(path: string): Promise<DecodedMarketFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MarketFileError(path, 'no such file', 'check the path');
    if (code === 'EISDIR') throw new MarketFileError(path, 'is a directory, not a file');
    if (code === 'EACCES') throw new MarketFileError(path, 'permission denied');
    throw error;
  }
  return decodeMarketFile(bytes, path);
}

/** Decodes file content: unpacks gzip or zip, detects the text format, parses the rows. */
export function decodeMarketFile(bytes: Uint8Array, file = '(input)'): DecodedMarketFile {
  const compression = detectCompression(bytes);
  let entryName: string | null = null;
  let content = bytes;
  if (compression === 'gzip') content = gunzip(bytes, file);
  else if (compression === 'zip') ({ name: entryName, data: content } = unzipSingleFile(bytes, file));

  const text = decodeText(content, file);
  const format = detectTextFormat(text, file);
  const parsed = parseText(text, format, file);
  return { file, format, compression, entryName, candles: parsed.candles, issues: parsed.issues };
}

function parseText(text: string, format: MarketFileFormat, file: string) {
  switch (format) {
    case 'freqtrade-json':
      return parseFreqtradeJson(text, file);
    case 'binance-klines-csv':
      return parseBinanceKlines(text);
    case 'ohlcv-csv':
      return parseOhlcvCsv(text, file);
  }
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new MarketFileError(file, `corrupt gzip data: ${(error as Error).message}`);
  }
}

/** Binance archives hold exactly one CSV; folders and macOS metadata entries are ignored. */
function unzipSingleFile(bytes: Uint8Array, file: string): { name: string; data: Uint8Array } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (entry) => !entry.name.endsWith('/') && !entry.name.startsWith('__MACOSX/'),
    });
  } catch (error) {
    throw new MarketFileError(file, `corrupt zip archive: ${(error as Error).message}`);
  }
  const names = Object.keys(entries);
  if (names.length !== 1) {
    throw new MarketFileError(
      file,
      names.length === 0
        ? 'the zip archive holds no file'
        : `the zip archive holds ${names.length} files (${names.join(', ')}); expected exactly one`,
      'unpack it and import the files one by one',
    );
  }
  const name = names[0]!;
  return { name, data: entries[name]! };
}

function decodeText(bytes: Uint8Array, file: string): string {
  if (bytes.includes(0)) {
    throw new MarketFileError(file, 'holds binary data, not a text candle file (nor gzip or zip)');
  }
  try {
    // fatal: refuse mis-encoded bytes instead of silently turning them into U+FFFD
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MarketFileError(file, 'is not UTF-8 text, nor gzip or zip');
  }
}

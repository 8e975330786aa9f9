import { BINANCE_KLINE_COLUMNS } from './binance-klines.js';
import { MarketFileError } from './errors.js';
import { firstLine, isHeaderLine, splitCsvLine } from './lines.js';
import { findOhlcvColumns } from './ohlcv-csv.js';

/**
 * Formats are told apart by content, never by file extension: downloads get renamed, and a
 * wrong guess from the name would fail with a confusing message (or worse, parse).
 */
export type MarketFileFormat = 'freqtrade-json' | 'binance-klines-csv' | 'ohlcv-csv';
export type Compression = 'none' | 'gzip' | 'zip';

/** gzip and zip by their magic bytes. */
export function detectCompression(bytes: Uint8Array): Compression {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  // PK\x03\x04 starts a zip with entries, PK\x05\x06 an empty one
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05)) return 'zip';
  return 'none';
}

const EXPECTED_FORMATS =
  'expected freqtrade JSON ([[open_time_ms, open, high, low, close, volume], ...]), a Binance kline CSV ' +
  '(12 columns, no header) or a CSV with the header timestamp,open,high,low,close,volume';

/** Which text format a decompressed file holds, from its first characters and first line. */
export function detectTextFormat(text: string, file = '(input)'): MarketFileFormat {
  const start = text.trimStart();
  if (start === '') throw new MarketFileError(file, 'the file is empty');
  if (start.startsWith('[')) return 'freqtrade-json';
  if (start.startsWith('{')) {
    throw new MarketFileError(file, 'holds a JSON object, not an array of candle rows', EXPECTED_FORMATS);
  }

  const first = firstLine(text)!.line;
  const cells = splitCsvLine(first);
  if (!isHeaderLine(cells)) {
    if (cells.length === BINANCE_KLINE_COLUMNS) return 'binance-klines-csv';
    throw new MarketFileError(
      file,
      `unrecognised content: the first line has ${cells.length} comma-separated values and no header`,
      EXPECTED_FORMATS,
    );
  }
  const names = cells.map((cell) => cell.toLowerCase());
  // Binance futures dumps carry a header; their columns are positional like the spot ones.
  if (names.length === BINANCE_KLINE_COLUMNS && names.includes('open_time') && names.includes('close_time')) {
    return 'binance-klines-csv';
  }
  if (!('missing' in findOhlcvColumns(first))) return 'ohlcv-csv';
  throw new MarketFileError(file, `unrecognised content: first line "${truncate(first)}"`, EXPECTED_FORMATS);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

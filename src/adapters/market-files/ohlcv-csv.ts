import { MarketFileError } from './errors.js';
import { firstLine, forEachLine, splitCsvLine } from './lines.js';
import { type ParsedCandles, RowCollector } from './rows.js';

/**
 * CSV with a header naming its columns, e.g. `timestamp,open,high,low,close,volume`. Columns are
 * found by name (any order, extra columns ignored). The time is epoch ms (or µs), or a UTC
 * date-time string such as `2021-01-01 00:00:00` or `2021-01-01T00:00:00Z`.
 */
export const TIME_COLUMN_NAMES = ['timestamp', 'date', 'datetime', 'time', 'open_time', 'opentime'] as const;
const VALUE_COLUMN_NAMES = ['open', 'high', 'low', 'close', 'volume'] as const;

export interface OhlcvColumns {
  time: number;
  values: number[];
}

/** Column indexes from a header line, or the list of required columns it lacks. */
export function findOhlcvColumns(header: string): OhlcvColumns | { missing: string[] } {
  const names = splitCsvLine(header).map((name) => name.toLowerCase());
  const time = names.findIndex((name) => (TIME_COLUMN_NAMES as readonly string[]).includes(name));
  const values = VALUE_COLUMN_NAMES.map((name) => names.indexOf(name));
  const missing = [
    ...(time === -1 ? ['timestamp'] : []),
    ...VALUE_COLUMN_NAMES.filter((_, index) => values[index] === -1),
  ];
  return missing.length > 0 ? { missing } : { time, values };
}

export function parseOhlcvCsv(text: string, file = '(input)'): ParsedCandles {
  const header = firstLine(text);
  if (!header) return { candles: [], issues: [] };
  const columns = findOhlcvColumns(header.line);
  if ('missing' in columns) {
    throw new MarketFileError(
      file,
      `CSV header "${header.line}" lacks the column(s) ${columns.missing.join(', ')}`,
      'expected a header such as timestamp,open,high,low,close,volume',
    );
  }
  const width = splitCsvLine(header.line).length;
  const rows = new RowCollector();
  let row = 0;
  forEachLine(text, (line, lineNumber) => {
    if (lineNumber <= header.lineNumber) return;
    row++;
    const position = { line: lineNumber, row };
    const cells = splitCsvLine(line);
    if (cells.length !== width) {
      rows.unreadableRow(position, line, `expected ${width} columns as in the header, found ${cells.length}`);
      return;
    }
    rows.add(
      position,
      cells[columns.time],
      columns.values.map((index) => cells[index]),
      true,
    );
  });
  return { candles: rows.candles, issues: rows.issues };
}

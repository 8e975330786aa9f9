import { forEachLine, isHeaderLine, splitCsvLine } from './lines.js';
import { type ParsedCandles, RowCollector } from './rows.js';

/**
 * Binance kline CSV, as published on data.binance.vision: 12 columns, open_time, open, high,
 * low, close, volume, close_time, quote_asset_volume, number_of_trades, taker_buy_base_volume,
 * taker_buy_quote_volume, ignore. Spot dumps have no header (futures dumps do: it is skipped).
 * Open times are milliseconds before 2025-01-01 and microseconds from then on, read per row.
 */
export const BINANCE_KLINE_COLUMNS = 12;

export function parseBinanceKlines(text: string): ParsedCandles {
  const rows = new RowCollector();
  let row = 0;
  let seenData = false;
  forEachLine(text, (line, lineNumber) => {
    const cells = splitCsvLine(line);
    if (!seenData && isHeaderLine(cells)) return; // the optional header line
    seenData = true;
    row++;
    const position = { line: lineNumber, row };
    if (cells.length !== BINANCE_KLINE_COLUMNS) {
      rows.unreadableRow(
        position,
        line,
        `expected ${BINANCE_KLINE_COLUMNS} comma-separated columns of a Binance kline CSV, found ${cells.length}`,
      );
      return;
    }
    rows.add(position, cells[0], cells.slice(1, 6));
  });
  return { candles: rows.candles, issues: rows.issues };
}

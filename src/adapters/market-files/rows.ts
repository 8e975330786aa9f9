import type { CandleRow } from '../../domain/market/candle.js';
import type { CandleField, CandleIssue } from '../../domain/market/candle-issue.js';
import { describeRaw, readNumber, readOpenTime } from './values.js';

/** What every parser returns: the rows it could read, and an issue for each it could not. */
export interface ParsedCandles {
  candles: CandleRow[];
  issues: CandleIssue[];
}

export interface RowPosition {
  line: number;
  row: number;
}

const VALUE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

/**
 * Collects rows for a parser. A row that cannot be read (a cell that is not a number, an open
 * time that is not a time) becomes issues and no candle; ranges and order are validation's job,
 * in the domain, so that they apply the same way whatever the file format.
 */
export class RowCollector implements ParsedCandles {
  readonly candles: CandleRow[] = [];
  readonly issues: CandleIssue[] = [];

  /** `values` holds the raw open, high, low, close and volume cells, in that order. */
  add(position: RowPosition, rawOpenTime: unknown, values: readonly unknown[], dateStrings = false): void {
    const before = this.issues.length;
    const time = readOpenTime(rawOpenTime, dateStrings);
    if (!time.ok) this.issue(position, 'openTime', rawOpenTime, 'not_epoch_ms', time.reason);

    const numbers: number[] = [];
    for (let index = 0; index < VALUE_FIELDS.length; index++) {
      const raw = values[index];
      const value = readNumber(raw);
      if (value !== null) numbers.push(value);
      else {
        const field = VALUE_FIELDS[index]!;
        this.issue(position, field, raw, 'unreadable_value', `${field} ${describeRaw(raw)} is not a number`);
      }
    }
    if (!time.ok || this.issues.length > before) return;

    const [open, high, low, close, volume] = numbers as [number, number, number, number, number];
    this.candles.push({
      openTime: time.ms,
      open,
      high,
      low,
      close,
      volume,
      line: position.line,
      row: position.row,
    });
  }

  /** A row whose shape is wrong (column count, not an array): reported as a whole. */
  unreadableRow(position: RowPosition, raw: unknown, reason: string): void {
    this.issue(position, 'row', raw, 'unreadable_row', reason);
  }

  private issue(
    position: RowPosition,
    field: CandleField,
    raw: unknown,
    rule: CandleIssue['rule'],
    reason: string,
  ): void {
    const value = typeof raw === 'number' || typeof raw === 'string' ? raw : describeRaw(raw);
    this.issues.push({ line: position.line, row: position.row, field, value, rule, reason });
  }
}

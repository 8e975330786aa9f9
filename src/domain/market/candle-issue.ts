import { TradekernelError } from '../errors.js';
import type { CandleRow } from './candle.js';

/** The part of a row an issue is about; `row` means the row as a whole (e.g. its column count). */
export type CandleField = 'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'row';

/** Machine-readable kind of an issue, one per rule, so callers and tests need not parse `reason`. */
export type CandleIssueRule =
  | 'unreadable_row'
  | 'unreadable_value'
  | 'not_epoch_ms'
  | 'not_finite'
  | 'not_positive'
  | 'negative_volume'
  | 'low_above_body'
  | 'high_below_body'
  | 'misaligned'
  | 'duplicate_open_time'
  | 'out_of_order';

/**
 * One problem with one row of a candle file. Parsers report rows they cannot read at all;
 * validation reports rows that read fine but cannot be a real candle. Both use this shape so the
 * caller can refuse the file or skip the rows (`--skip-invalid`) in one place.
 */
export interface CandleIssue {
  /** 1-based text line where the row starts */
  line: number;
  /** 1-based position among the data rows (header excluded) */
  row: number;
  field: CandleField;
  /** the offending value as read: a number, or the raw text when it did not parse */
  value: number | string;
  rule: CandleIssueRule;
  /** a readable sentence saying what is wrong and what was expected */
  reason: string;
}

/** `line 7`, with the row number too when it differs from the line (after a header, in JSON). */
export function describeRowPosition(position: { line: number; row: number }): string {
  return position.row === position.line
    ? `line ${position.line}`
    : `line ${position.line}, row ${position.row}`;
}

/** `file line 7: reason` */
export function formatCandleIssue(issue: CandleIssue, file?: string): string {
  return `${file ? `${file} ` : ''}${describeRowPosition(issue)}: ${issue.reason}`;
}

/** The rows no issue points at. Validation guarantees these are in strictly increasing order. */
export function dropInvalidRows<T extends CandleRow>(
  rows: readonly T[],
  issues: readonly CandleIssue[],
): T[] {
  const bad = new Set(issues.map((issue) => issue.row));
  return rows.filter((row) => !bad.has(row.row));
}

export function countInvalidRows(issues: readonly CandleIssue[]): number {
  return new Set(issues.map((issue) => issue.row)).size;
}

const LISTED_ISSUES = 5;

/** A candle file refused as a whole because some rows are invalid; lists the first few issues. */
export class InvalidCandlesError extends TradekernelError {
  constructor(
    readonly file: string,
    readonly issues: readonly CandleIssue[],
  ) {
    const rows = countInvalidRows(issues);
    const listed = issues.slice(0, LISTED_ISSUES).map((issue) => formatCandleIssue(issue));
    const more = issues.length > LISTED_ISSUES ? `; and ${issues.length - LISTED_ISSUES} more issues` : '';
    super(
      `${file}: ${rows} invalid ${rows === 1 ? 'row' : 'rows'}: ${listed.join('; ')}${more}`,
      'invalid_candles',
      'fix the file, or pass --skip-invalid to import only the valid rows',
    );
  }
}

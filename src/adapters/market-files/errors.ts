import { TradekernelError } from '../../domain/errors.js';

/**
 * A market data file that cannot be read as a whole: missing, not a known format, corrupt
 * compression, malformed JSON. Rows that cannot be read are not errors but CandleIssues, so one
 * bad row does not hide the rest of the file.
 */
export class MarketFileError extends TradekernelError {
  constructor(
    readonly file: string,
    problem: string,
    hint?: string,
  ) {
    super(`${file}: ${problem}`, 'market_file', hint);
  }
}

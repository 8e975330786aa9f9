import { TIMEFRAMES } from '../domain/market/timeframe.js';
import { badRequest } from './problem.js';

/** JSON schemas shared by routes, and the parsers of the values they only check the form of. */

export type JsonSchema = Record<string, unknown>;

export const EXCHANGE = {
  type: 'string',
  pattern: '^[a-z0-9]{2,30}$',
  description: 'ccxt exchange id, e.g. binance',
  examples: ['binance'],
} as const;

export const SYMBOL = {
  type: 'string',
  pattern: '^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}$',
  description: 'BASE/QUOTE, e.g. BTC/USDT (URL-encoded: BTC%2FUSDT)',
  examples: ['BTC/USDT'],
} as const;

export const TIMEFRAME = {
  type: 'string',
  enum: Object.keys(TIMEFRAMES),
  description: 'candle timeframe',
  examples: ['1h'],
} as const;

export const TIME = {
  type: 'string',
  maxLength: 40,
  pattern: '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?)$',
  description:
    'epoch milliseconds (1609459200000), a UTC date (2021-01-01) or an RFC 3339 date-time with a zone (2021-01-01T00:00:00Z)',
} as const;

export const EPOCH_MS = { type: 'integer', description: 'epoch milliseconds UTC' } as const;

export const POSITION = {
  type: 'integer',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'global position in the event log',
} as const;

/** Parses a TIME parameter (already matched by the pattern); a date that does not exist is a 400. */
export function parseTime(value: string, field: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value);
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (m && Number.isFinite(ms)) {
    const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h < 24 && mi < 60 && s < 60) return ms;
  }
  throw badRequest(field, `${field}: "${value}" is not a date or time that exists`);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

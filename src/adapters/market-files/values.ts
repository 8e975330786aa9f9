import { MAX_EPOCH_MS, MIN_EPOCH_MS } from '../../domain/market/validate.js';

/**
 * Reading single values out of files. Strict on purpose: `Number()` would take "" as 0 and
 * "0x1F" as 31, and `Date.parse` guesses local time for strings without a zone.
 */

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A JSON number, or a string holding a plain decimal number; null for anything else. */
export function readNumber(raw: unknown): number | null {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return null;
  const fast = plainDecimal(raw);
  if (!Number.isNaN(fast)) return fast;
  return DECIMAL.test(raw) ? Number(raw) : null;
}

/** 10^0 .. 10^22: the powers of ten a double holds exactly. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT_DIGITS = 15;

/**
 * The value of a string of digits with at most one '.', and at most 15 significant digits (the
 * numbers in exchange files, e.g. "28923.63000000"); NaN for anything else, which readNumber
 * then reads the general way. The digits form an exact integer below 2^53 and 10^k is exact for
 * k <= 22, so one correctly rounded division gives exactly what Number() gives, at a fraction
 * of the cost (the import reads five numbers per candle).
 */
function plainDecimal(text: string): number {
  const length = text.length;
  let mantissa = 0;
  let digits = 0;
  let sawDigit = false;
  let decimals = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      sawDigit = true;
      if (mantissa !== 0 || c !== 48) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
      }
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) {
      decimals = 0;
    } else {
      return Number.NaN;
    }
  }
  if (!sawDigit || digits > MAX_EXACT_DIGITS || decimals >= EXACT_POWERS_OF_TEN.length) return Number.NaN;
  return decimals > 0 ? mantissa / EXACT_POWERS_OF_TEN[decimals]! : mantissa;
}

/** Binance switched spot kline times to microseconds on 2025-01-01; ms stay below this. */
const MICROSECONDS_FROM = 1e14;

export type EpochUnit = 'ms' | 'us';

export type OpenTimeReading = { ok: true; ms: number; unit: EpochUnit } | { ok: false; reason: string };

/**
 * Reads an epoch timestamp in milliseconds or microseconds, telling them apart by magnitude
 * (per value, since one file may hold both), and checks the result lands between 2000 and 2100,
 * so seconds and nanoseconds are refused rather than read as 1970 or the far future.
 */
export function readEpoch(value: number): OpenTimeReading {
  if (!Number.isInteger(value)) {
    return {
      ok: false,
      reason: `open time ${value} is not a whole number of epoch milliseconds or microseconds`,
    };
  }
  const unit: EpochUnit = value >= MICROSECONDS_FROM ? 'us' : 'ms';
  const ms = unit === 'us' ? value / 1000 : value;
  if (ms < MIN_EPOCH_MS || ms >= MAX_EPOCH_MS) {
    return {
      ok: false,
      reason:
        `open time ${value} is neither epoch milliseconds nor microseconds between 2000 and 2100` +
        guessUnit(value),
    };
  }
  if (!Number.isInteger(ms)) {
    return { ok: false, reason: `open time ${value} (microseconds) is not a whole millisecond` };
  }
  return { ok: true, ms, unit };
}

function guessUnit(value: number): string {
  if (value >= MIN_EPOCH_MS / 1000 && value < MAX_EPOCH_MS / 1000) return ' (it looks like epoch seconds)';
  if (value >= MIN_EPOCH_MS * 1e6 && value < MAX_EPOCH_MS * 1e6) return ' (it looks like epoch nanoseconds)';
  return '';
}

// 2021-01-01, 2021-01-01 00:00, 2021-01-01 00:00:00, 2021-01-01T00:00:00.000Z, …+02:00
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A UTC date-time string to epoch ms, or null. Without a zone the time is taken as UTC (market
 * data is always UTC; local time would make the result depend on the machine). An explicit
 * offset is honoured. Impossible dates such as 2021-02-30 are refused.
 */
export function parseUtcDateTime(text: string): number | null {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(
    year,
    month - 1,
    day,
    hour,
    minute,
    second,
    Number(fraction.padEnd(3, '0').slice(0, 3)),
  );
  const check = new Date(utc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return null;
  }
  return utc - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/**
 * An open time cell: an epoch number (ms or µs), or when `dateStrings` is set a UTC date-time.
 */
export function readOpenTime(raw: unknown, dateStrings: boolean): OpenTimeReading {
  const number = readNumber(raw);
  if (number !== null) return readEpoch(number);
  if (dateStrings && typeof raw === 'string') {
    const ms = parseUtcDateTime(raw);
    if (ms !== null) {
      return ms >= MIN_EPOCH_MS && ms < MAX_EPOCH_MS
        ? { ok: true, ms, unit: 'ms' }
        : { ok: false, reason: `open time "${raw}" is not between 2000 and 2100` };
    }
    return {
      ok: false,
      reason: `open time "${raw}" is not epoch milliseconds or a UTC date-time such as 2021-01-01 00:00:00 or 2021-01-01T00:00:00Z`,
    };
  }
  return { ok: false, reason: `open time ${describeRaw(raw)} is not epoch milliseconds or microseconds` };
}

/** A raw cell for messages: strings as they are, anything else as JSON. */
export function describeRaw(raw: unknown): string {
  if (typeof raw === 'string') return `"${raw}"`;
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

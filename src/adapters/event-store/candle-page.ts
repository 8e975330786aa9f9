/**
 * Decoding stored CandleClosed events into columns without building an object per candle: the
 * part of a bulk candle read (CandleRangeRequest, domain/ports/event-store.ts) that is the same
 * for every SQL store. The six numbers are read straight from the bytes of the event's JSON, as
 * JSON.stringify laid it out; anything else falls back to JSON.parse, so the result is always the
 * one JSON.parse gives.
 */
import { StoreDataError } from '../../domain/errors.js';
import type { CandlePage } from '../../domain/ports/event-store.js';

/** A page being filled: column arrays of a fixed capacity, reused from page to page. */
export class CandlePageBuffer implements CandlePage {
  length = 0;
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  others: { type: string; data: unknown }[] = [];
  /** the stream and the revision of the page's first event, to name an event it cannot read */
  stream = '';
  firstRevision = 0;

  /** the six columns, one after another: one allocation per page, and one buffer to move between threads */
  readonly buffer: ArrayBuffer;

  /** A new page, or (`buffer`: a page's buffer, moved here from another thread) that page, emptied. */
  constructor(
    readonly capacity: number,
    buffer?: ArrayBuffer,
  ) {
    const bytes = capacity * 6 * Float64Array.BYTES_PER_ELEMENT;
    if (buffer !== undefined && buffer.byteLength !== bytes)
      throw new RangeError(
        `CandlePageBuffer: a buffer of ${buffer.byteLength} bytes for ${capacity} candles`,
      );
    this.buffer = buffer ?? new ArrayBuffer(bytes);
    const column = (i: number) => new Float64Array(this.buffer, i * capacity * 8, capacity);
    this.openTime = column(0);
    this.open = column(1);
    this.high = column(2);
    this.low = column(3);
    this.close = column(4);
    this.volume = column(5);
  }

  /** Empties the page for the events of `stream` from revision `firstRevision` on. */
  reset(stream: string, firstRevision: number): void {
    this.length = 0;
    this.others = [];
    this.stream = stream;
    this.firstRevision = firstRevision;
  }

  push(openTime: number, open: number, high: number, low: number, close: number, volume: number): void {
    const n = this.length;
    if (n === this.capacity) throw new RangeError('CandlePageBuffer: more candles than the page holds');
    this.openTime[n] = openTime;
    this.open[n] = open;
    this.high[n] = high;
    this.low[n] = low;
    this.close[n] = close;
    this.volume[n] = volume;
    this.length = n + 1;
  }

  /** A candle's data as JSON.parse gives it (the slow path). */
  pushData(d: { openTime: number; open: number; high: number; low: number; close: number; volume: number }) {
    this.push(d.openTime, d.open, d.high, d.low, d.close, d.volume);
  }
}

/**
 * One stored event as a text row `<type>\t<data JSON>` in bytes[start, end) (no line end), where
 * the type is empty for a CandleClosed (the SQL says so: it keeps the rows short). `copyText`:
 * the row is in COPY's text format (backslashes escaped). Candles go into the page's columns,
 * other events into page.others.
 */
export function decodeEventRow(
  bytes: Buffer,
  start: number,
  end: number,
  copyText: boolean,
  page: CandlePageBuffer,
): void {
  if (bytes[start] === TAB) {
    if (!decodeCandleJson(bytes, start + 1, end, page))
      page.pushData(parseData(rowText(bytes, start + 1, end, copyText), page));
    return;
  }
  const tab = bytes.indexOf(TAB, start);
  page.others.push({
    type: bytes.toString('utf8', start, tab),
    data: parseData(rowText(bytes, tab + 1, end, copyText), page),
  });
}

/** The data of the page's next event (see parseEventData). */
function parseData(text: string, page: CandlePageBuffer) {
  return parseEventData(text, page.stream, page.firstRevision + page.length + page.others.length) as never;
}

/** A stored event's data; a StoreDataError naming the event when it is not a JSON object. */
export function parseEventData(text: string, stream: string, revision: number): object {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {}
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StoreDataError(
      `event ${revision} of ${stream} has data that is not a JSON object`,
      'the row was not written by tradekernel or was edited by hand; restore it from a backup or an audit export',
    );
  }
  return data;
}

const TAB = 9;

/** Calls `line` for each newline-terminated line of the chunks; a line cut between two chunks is joined. */
export class LineSplitter {
  private carry: Buffer | null = null;

  constructor(private readonly line: (bytes: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== null) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, newline)]);
      this.carry = null;
      this.line(joined, 0, joined.length);
      start = newline + 1;
    }
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.line(chunk, start, newline);
      start = newline + 1;
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
  }

  end(): void {
    if (this.carry !== null) throw new Error('COPY ended inside a row');
  }
}

const NEWLINE = 10;

function rowText(bytes: Buffer, start: number, end: number, copyText: boolean): string {
  const text = bytes.toString('utf8', start, end);
  return copyText && text.includes('\\') ? unescapeCopy(text) : text;
}

// ─── the candle JSON ─────────────────────────────────────────────────────────────────────────

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const OPEN_TIME = ascii('"openTime":');
/** the keys after openTime, in JSON.stringify's order (the schema's) */
const NEXT_KEYS = [',"closeTime":', ',"open":', ',"high":', ',"low":', ',"close":', ',"volume":'].map(ascii);
const CLOSE_BRACE = 125;

/** where "openTime": was in the last row: the rows of one stream share their prefix */
let openTimeOffset = -1;
/** set by parseNumber: the byte after the number */
let numberEnd = 0;
const fields = new Float64Array(7);

/** The six numbers of a CandleClosed's JSON in bytes[start, end) into the page; false: another layout. */
function decodeCandleJson(bytes: Buffer, start: number, end: number, page: CandlePageBuffer): boolean {
  let at = start + openTimeOffset;
  if (openTimeOffset < 0 || !matches(bytes, at, OPEN_TIME)) {
    at = bytes.indexOf(OPEN_TIME, start);
    if (at < 0 || at >= end) return false;
    openTimeOffset = at - start;
  }
  at += OPEN_TIME.length;
  for (let k = 0; ; k++) {
    const value = parseNumber(bytes, at, end);
    if (Number.isNaN(value)) return false;
    fields[k] = value;
    at = numberEnd;
    if (k === NEXT_KEYS.length) break;
    const key = NEXT_KEYS[k]!;
    if (!matches(bytes, at, key)) return false;
    at += key.length;
  }
  if (at !== end - 1 || bytes[at] !== CLOSE_BRACE) return false;
  // fields[1] is closeTime: openTime + step in every market stream, not stored in the columns
  page.push(fields[0]!, fields[2]!, fields[3]!, fields[4]!, fields[5]!, fields[6]!);
  return true;
}

function matches(bytes: Buffer, at: number, key: Uint8Array): boolean {
  if (at + key.length > bytes.length) return false;
  for (let i = 0; i < key.length; i++) if (bytes[at + i] !== key[i]) return false;
  return true;
}

/** 10^0 .. 10^22: every one exact in a double */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * A JSON number at bytes[at..]: its value, and numberEnd after it; NaN when there is none.
 * Up to 15 significant digits without an exponent (every price and volume of an exchange) take
 * the exact fast path: the digits as an integer below 2^53 divided by a power of ten up to 10^22
 * is one correctly rounded division of two exact doubles, so the same double as Number() of the
 * text (Clinger's fast path). Anything else goes through Number().
 */
function parseNumber(bytes: Buffer, at: number, end: number): number {
  const begin = at;
  const negative = bytes[at] === 45; /* - */
  if (negative) at++;
  let mantissa = 0;
  let digits = 0;
  let decimals = 0;
  let c = bytes[at]!;
  while (at < end && c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    c = bytes[++at]!;
  }
  if (c === 46 /* . */ && at < end) {
    c = bytes[++at]!;
    while (at < end && c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      decimals++;
      c = bytes[++at]!;
    }
  }
  if (digits === 0) return Number.NaN;
  if (digits > 15 || c === 101 /* e */ || c === 69 /* E */) {
    while (at < end && isNumberByte(bytes[at]!)) at++;
    numberEnd = at;
    const value = Number(bytes.toString('latin1', begin, at));
    return Number.isFinite(value) ? value : Number.NaN;
  }
  numberEnd = at;
  const value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
  return negative ? -value : value;
}

function isNumberByte(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** PostgreSQL COPY text format: backslash escapes. */
function unescapeCopy(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

const COPY_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v' };

import { StoreDataError } from '../../domain/errors.js';
import { MODES, type Mode, type RecordedEvent } from '../../domain/events/envelope.js';
import { isPlainObject } from '../../domain/events/schema.js';

/**
 * How the SQL store sends events: a page is one text, a line per event, its fields separated by
 * tabs in this order, the data (JSON) last. On a server the page is the output of
 * `COPY (select WIRE_COLUMNS ...) TO STDOUT` (PostgreSQL's text format: NULL is `\N` and a
 * backslash in a value is doubled); on PGlite it is built by WIRE_LINE (NULL is empty, nothing
 * escaped). Decoding it takes a few string scans per event and one JSON.parse of the data: far
 * cheaper than thirteen columns per row through the driver, or one JSON.parse of a page that
 * wraps every envelope in JSON too.
 */
export const WIRE_COLUMNS =
  'position, revision, occurred_at, recorded_at, schema_version, stream_id, id, type, causation_id, correlation_id, mode, run_id, data';

/** The same line built by SQL (PGlite has no COPY TO STDOUT): concat() turns NULL into ''. */
export const WIRE_LINE = `concat(${WIRE_COLUMNS.split(', ').join(", E'\\t', ")})`;

const HINT =
  'the row was not written by tradekernel or was edited by hand; restore it from a backup or an audit export';

const TAB = 9;
const BACKSLASH = 92;

/**
 * A page of events, decoded one at a time as the reader takes them: an event the reader drops
 * dies young, so a page costs the garbage collector little, and the page's last position and
 * size are known before any event is decoded (to ask for the next page at once).
 */
export class EventLines implements IterableIterator<RecordedEvent> {
  /** Number of events in the page. */
  readonly count: number;
  /** Global position of the page's last event; NaN when empty. */
  readonly lastPosition: number;
  private at = 0;
  private stream = '';
  private type = '';

  /**
   * @param copyText true when the text is PostgreSQL's COPY output (values escaped, NULL `\N`)
   * @param where where the page starts ("after position 42"), to name it in an error
   */
  constructor(
    private readonly text: string,
    private readonly copyText: boolean,
    private readonly where: string,
    private readonly upcast: (event: RecordedEvent) => RecordedEvent = (event) => event,
  ) {
    let count = 0;
    let last = -1;
    for (let i = 0; i < text.length; ) {
      const end = text.indexOf('\n', i);
      count++;
      last = i;
      if (end < 0) break;
      i = end + 1;
    }
    this.count = count;
    this.lastPosition = last < 0 ? Number.NaN : Number(text.slice(last, text.indexOf('\t', last)));
  }

  /** The next event, or undefined at the end of the page. Throws StoreDataError on a row it cannot read. */
  take(): RecordedEvent | undefined {
    const text = this.text;
    const start = this.at;
    if (start >= text.length) return undefined;
    const position = this.int();
    const revision = this.int();
    const occurredAt = this.int();
    const recordedAt = this.int();
    const schemaVersion = this.int();
    const stream = this.streamName();
    const id = this.string();
    const type = this.eventType();
    const causationId = this.nullable();
    const correlationId = this.nullable();
    const mode = this.nullable();
    const runId = this.nullable();
    let end = text.indexOf('\n', this.at);
    if (end < 0) end = text.length;
    let raw = text.slice(this.at, end);
    this.at = end + 1;
    if (Number.isNaN(position + revision + occurredAt + recordedAt + schemaVersion)) {
      throw new StoreDataError(
        `an event ${this.where} cannot be decoded: a stream name, type, mode or run id holds characters tradekernel never writes`,
        HINT,
      );
    }
    if (this.copyText && raw.includes('\\')) raw = unescapeCopyText(raw);
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      data = undefined;
    }
    if (!isPlainObject(data)) {
      throw new StoreDataError(
        `event at position ${position} (stream ${stream}, type ${type}) has data that is not a JSON object`,
        HINT,
      );
    }
    const metadata: RecordedEvent['metadata'] = {
      occurredAt,
      causationId,
      correlationId,
      schemaVersion,
      recordedAt,
    };
    if (mode !== null) {
      if (!MODES.includes(mode as Mode)) {
        throw new StoreDataError(
          `event at position ${position} (stream ${stream}, type ${type}) has an unknown mode "${mode}"`,
          HINT,
        );
      }
      metadata.mode = mode as Mode;
    }
    if (runId !== null) metadata.runId = runId;
    return this.upcast({ id, type, data, metadata, stream, revision, position });
  }

  next(): IteratorResult<RecordedEvent> {
    const value = this.take();
    return value === undefined ? { done: true, value } : { done: false, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** A non-negative integer field and its tab; NaN when it is anything else. */
  private int(): number {
    const text = this.text;
    let i = this.at;
    let value = 0;
    let c = text.charCodeAt(i);
    if (c === TAB) value = Number.NaN;
    while (c !== TAB) {
      const digit = c - 48;
      // NaN (past the end) and non-digits both fail this test
      if (!(digit >= 0 && digit <= 9)) {
        value = Number.NaN;
        i = text.indexOf('\t', i);
        if (i < 0) i = text.length;
        break;
      }
      value = value * 10 + digit;
      c = text.charCodeAt(++i);
    }
    this.at = i + 1;
    return value;
  }

  private string(): string {
    const text = this.text;
    const from = this.at;
    let end = text.indexOf('\t', from);
    if (end < 0) end = text.length;
    this.at = end + 1;
    return detachedSlice(text, from, end);
  }

  /** Streams repeat from row to row: reuse the previous name instead of a new string. */
  private streamName(): string {
    if (this.repeats(this.stream)) return this.stream;
    this.stream = this.string();
    return this.stream;
  }

  private eventType(): string {
    if (this.repeats(this.type)) return this.type;
    this.type = this.string();
    return this.type;
  }

  private repeats(previous: string): boolean {
    const at = this.at;
    const end = at + previous.length;
    if (previous.length === 0 || this.text.charCodeAt(end) !== TAB || !this.text.startsWith(previous, at))
      return false;
    this.at = end + 1;
    return true;
  }

  /** A nullable text field: NULL is `\N` in COPY output and empty in WIRE_LINE. */
  private nullable(): string | null {
    const text = this.text;
    const at = this.at;
    const c = text.charCodeAt(at);
    if (c === TAB) {
      this.at = at + 1;
      return null;
    }
    if (c === BACKSLASH && text.charCodeAt(at + 1) === 78 && text.charCodeAt(at + 2) === TAB) {
      this.at = at + 3;
      return null;
    }
    return this.string();
  }
}

/**
 * A substring that does not keep the page alive. V8 makes a substring of 13 characters or more
 * a view into its parent, so an event id a projection keeps would pin a whole 2 MB page; pieces
 * shorter than that are copied, and joining them makes a string of its own.
 */
function detachedSlice(text: string, from: number, to: number): string {
  if (to - from < 13) return text.slice(from, to);
  let out = '';
  for (let i = from; i < to; i += 12) out += text.slice(i, Math.min(i + 12, to));
  return out;
}

/** Undoes COPY's text escaping (`\\`, `\n`, `\t`...) of one value. */
export function unescapeCopyText(value: string): string {
  let out = '';
  let from = 0;
  for (let i = value.indexOf('\\'); i >= 0 && i < value.length - 1; i = value.indexOf('\\', from)) {
    out += value.slice(from, i);
    const c = value[i + 1]!;
    out += COPY_ESCAPES[c] ?? c;
    from = i + 2;
  }
  return out + value.slice(from);
}

const COPY_ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * How the SQL store keeps the events of one append: one row (eventlog.batches, see
 * postgres-schema.ts) whose `frames` hold the events one after another, written by FrameWriter
 * (data-codec.ts) with the batch's string table in front. Each frame:
 *
 *   length of the rest (4 bytes) · id (36 characters) · flags (1 byte: 1 causation id, 2 correlation id, 4 mode, 8 run id,
 *   16 data as JSON) · occurredAt (8-byte float) · [causation id] · [correlation id] · [mode] ·
 *   [run id] · schema version (2 bytes) · type (a string) · data
 *
 * The data is in the encoding compiled from its type's schema; as JSON text (flag 16) when the
 * type is not in the catalogue or its version is not the current one (logs upgraded from the
 * text layout may hold both). Stream, revisions, positions and the commit time belong to the
 * whole batch and live in the row's columns.
 */

import { sql } from 'kysely';
import { StoreDataError } from '../../domain/errors.js';
import type { EventCatalogue } from '../../domain/events/catalogue.js';
import { MODES, type Mode, type NewEvent, type RecordedEvent } from '../../domain/events/envelope.js';
import { isPlainObject, validate } from '../../domain/events/schema.js';
import type { SqlDatabase } from '../sql/database.js';
import {
  CorruptFrameError,
  type DataCodec,
  dataCodec,
  FrameReader,
  FrameWriter,
  type Layout,
  layoutOf,
} from './data-codec.js';

const CAUSATION = 1;
const CORRELATION = 2;
const MODE = 4;
const RUN_ID = 8;
const JSON_DATA = 16;
const KNOWN_FLAGS = CAUSATION | CORRELATION | MODE | RUN_ID | JSON_DATA;

interface Codec {
  /** the schema version the codec encodes */
  version: number;
  codec: DataCodec;
  /** its layout as stored in eventlog.layouts */
  layout: string;
  /** whether data fits the schema (for rows that were not validated on the way in) */
  fits(data: unknown): boolean;
}

/**
 * Events per batch row at most. An append of more is written as several rows by the same
 * statement (still all or nothing); a read that wants one event decodes at most this many.
 */
export const ROW_EVENTS = 4096;

/** One batch row of an append, before positions and revisions are known. */
export interface RowPlan {
  /** index of the row's first event in the append */
  start: number;
  count: number;
  /** its event types, each once */
  types: string[];
  /** occurredAt of its first and last event (a market stream's are in time order) */
  firstAt: number;
  lastAt: number;
}

/** A batch row as the store reads it. */
export interface BatchRow {
  /** global position of the batch's last event; its events hold the `count` positions up to it */
  last_position: number;
  stream_id: string;
  first_revision: number;
  count: number;
  recorded_at: number;
  /** as base64 text (how the store moves frames: PGlite converts bytea in JavaScript, 10-20x slower), or bytes */
  frames: string | Uint8Array;
}

const HINT =
  'the row was not written by tradekernel or was edited by hand; restore it from a backup or an audit export';

/**
 * The data codecs of a log: this build's (its catalogue's current versions) for writing, and
 * the log's own layouts (eventlog.layouts: every type and version it holds) for reading, so that
 * data is read back with the layout it was written with.
 */
export class FrameCodecs {
  /** this build's codec per type, at the type's current version */
  private readonly codecs = new Map<string, Codec>();
  /** the log's codec per type and version (`type version`), after sync */
  private readonly stored = new Map<string, DataCodec>();

  constructor(private readonly catalogue: EventCatalogue) {
    for (const definition of catalogue.types()) {
      const layout = layoutOf(definition.schema);
      const codec = dataCodec(layout);
      this.codecs.set(definition.type, {
        version: definition.schemaVersion,
        codec,
        layout: JSON.stringify(layout),
        fits: (data) => validate(definition.schema, data).length === 0,
      });
      this.stored.set(`${definition.type} ${definition.schemaVersion}`, codec);
    }
  }

  /**
   * Records this build's layouts in the log (new types and versions) and loads every layout the
   * log holds. Refuses a log that holds a type's current version in another layout: its schema
   * changed without a new schemaVersion, and the stored events could not be read.
   */
  async sync(db: SqlDatabase['db']): Promise<void> {
    const mine = [...this.codecs].map(([type, c]) => [type, c.version, c.layout]);
    await sql`insert into eventlog.layouts (type, version, layout)
      select t->>0, (t->>1)::int, t->>2 from json_array_elements(${JSON.stringify(mine)}::json) t
      on conflict (type, version) do nothing`.execute(db);
    const { rows } = await sql<{ type: string; version: number; layout: string }>`
      select type, version, layout from eventlog.layouts`.execute(db);
    for (const row of rows) {
      const own = this.codecs.get(row.type);
      if (own && own.version === row.version && own.layout !== row.layout) {
        throw new StoreDataError(
          `this log holds ${row.type} v${row.version} events of another shape than this build's ${row.type} v${row.version}`,
          `the schema of ${row.type} changed without a new version: give it schemaVersion ${row.version + 1} and an upcaster from v${row.version}`,
        );
      }
      if (!this.stored.has(`${row.type} ${row.version}`))
        this.stored.set(`${row.type} ${row.version}`, dataCodec(JSON.parse(row.layout) as Layout));
    }
  }

  /**
   * The frames of a batch. `validated`: the events passed the catalogue (appends); otherwise
   * (an upgrade of stored rows) data that does not fit its type's schema is kept as JSON.
   */
  encode(
    events: readonly Pick<NewEvent, 'id' | 'type' | 'data' | 'metadata'>[],
    options: { validated: boolean } = { validated: true },
  ): Buffer {
    const out = new FrameWriter(events.length * 160);
    for (const e of events) this.write(e, out, options.validated);
    return out.finish();
  }

  private write(
    e: Pick<NewEvent, 'id' | 'type' | 'data' | 'metadata'>,
    out: FrameWriter,
    validated: boolean,
  ): void {
    const m = e.metadata;
    const entry = this.codecs.get(e.type);
    const binary =
      entry !== undefined && entry.version === m.schemaVersion && (validated || entry.fits(e.data));
    const length = out.reserveU32();
    out.uuid(e.id);
    out.u8(
      (m.causationId ? CAUSATION : 0) |
        (m.correlationId ? CORRELATION : 0) |
        (m.mode !== undefined ? MODE : 0) |
        (m.runId !== undefined ? RUN_ID : 0) |
        (binary ? 0 : JSON_DATA),
    );
    out.f64(m.occurredAt);
    if (m.causationId) out.uuid(m.causationId);
    if (m.correlationId) out.uuid(m.correlationId);
    if (m.mode !== undefined) out.string(m.mode);
    if (m.runId !== undefined) out.string(m.runId);
    out.u16(m.schemaVersion);
    out.string(e.type);
    if (binary) entry.codec.write(e.data, out);
    else out.string(JSON.stringify(e.data));
    out.patchU32(length, out.length - length - 4);
  }

  /** An append's events as batch rows of at most ROW_EVENTS events: what each holds, and its frames. */
  encodeRows(
    events: readonly Pick<NewEvent, 'id' | 'type' | 'data' | 'metadata'>[],
    options: { validated: boolean } = { validated: true },
  ): { plans: RowPlan[]; frames: Buffer[] } {
    const plans: RowPlan[] = [];
    const frames: Buffer[] = [];
    for (let start = 0; start < events.length; start += ROW_EVENTS) {
      const part = events.slice(start, start + ROW_EVENTS);
      plans.push({
        start,
        count: part.length,
        types: [...new Set(part.map((e) => e.type))],
        firstAt: part[0]!.metadata.occurredAt,
        lastAt: part.at(-1)!.metadata.occurredAt,
      });
      frames.push(this.encode(part, options));
    }
    return { plans, frames };
  }

  /** The events of a batch row, decoded one at a time as they are taken. */
  events(row: BatchRow): BatchEvents {
    return new BatchEvents(row, this.codecs, this.stored, this.catalogue);
  }
}

/** The events of one batch row in order, each decoded (and upcast) when taken. */
export class BatchEvents {
  private readonly input: FrameReader;
  private revision: number;
  private position: number;
  private readonly firstPosition: number;

  constructor(
    private readonly row: BatchRow,
    private readonly codecs: ReadonlyMap<string, Codec>,
    private readonly stored: ReadonlyMap<string, DataCodec>,
    private readonly catalogue: EventCatalogue,
  ) {
    this.firstPosition = Number(row.last_position) - Number(row.count) + 1;
    this.position = this.firstPosition;
    this.revision = Number(row.first_revision);
    try {
      this.input = new FrameReader(asBuffer(row.frames));
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  /** The next event, or undefined after the last. Throws StoreDataError on bytes it cannot read. */
  take(): RecordedEvent | undefined {
    const input = this.input;
    if (input.done) {
      if (this.position <= Number(this.row.last_position))
        throw this.unreadable(new CorruptFrameError('fewer frames than events'));
      return undefined;
    }
    if (this.position > Number(this.row.last_position))
      throw this.unreadable(new CorruptFrameError('more frames than events'));
    try {
      const end = input.u32() + input.at;
      const id = input.uuid();
      const flags = input.u8();
      if (flags & ~KNOWN_FLAGS) throw new CorruptFrameError(`unknown flags ${flags}`);
      const occurredAt = input.f64();
      const causationId = flags & CAUSATION ? input.uuid() : null;
      const correlationId = flags & CORRELATION ? input.uuid() : null;
      const mode = flags & MODE ? input.string() : undefined;
      const runId = flags & RUN_ID ? input.string() : undefined;
      const schemaVersion = input.u16();
      const type = input.string();
      let data: unknown;
      if (flags & JSON_DATA) {
        data = JSON.parse(input.string());
        if (!isPlainObject(data)) throw new CorruptFrameError('data that is not a JSON object');
      } else {
        const own = this.codecs.get(type);
        const codec =
          own?.version === schemaVersion ? own.codec : this.stored.get(`${type} ${schemaVersion}`);
        if (codec === undefined && own !== undefined && schemaVersion > own.version) {
          throw new StoreDataError(
            `event at position ${this.position} is ${type} v${schemaVersion}, but this build knows only up to v${own.version}`,
            'upgrade tradekernel to read this log',
          );
        }
        if (codec === undefined) {
          throw new StoreDataError(
            `event at position ${this.position} is ${type} v${schemaVersion}, a layout this process did not load: a newer build wrote it since this one started`,
            'restart this process to read it',
          );
        }
        data = codec.read(input);
      }
      if (input.at !== end)
        throw new CorruptFrameError(
          input.at < end ? 'a frame longer than its event' : 'a frame shorter than its event',
        );
      const metadata: RecordedEvent['metadata'] = {
        occurredAt,
        causationId,
        correlationId,
        schemaVersion,
        recordedAt: Number(this.row.recorded_at),
      };
      if (mode !== undefined) {
        if (!MODES.includes(mode as Mode)) throw new CorruptFrameError(`an unknown mode "${mode}"`);
        metadata.mode = mode as Mode;
      }
      if (runId !== undefined) metadata.runId = runId;
      const event = {
        id,
        type,
        data,
        metadata,
        stream: this.row.stream_id,
        revision: this.revision,
        position: this.position,
      };
      this.revision++;
      this.position++;
      return metadata.schemaVersion === this.codecs.get(type)?.version ? event : this.catalogue.upcast(event);
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  /** The revision of the event `take` gives next. */
  get nextRevision(): number {
    return this.revision;
  }

  /**
   * When the next event is of `type` at `version` (in binary), its data alone, moving past it;
   * otherwise undefined, moving nothing. The bulk candle read takes candles this way: no id,
   * metadata or event object per candle.
   */
  takeData(type: string, version: number): Record<string, unknown> | undefined {
    const input = this.input;
    if (input.done || this.position > Number(this.row.last_position)) return undefined;
    const start = input.at;
    try {
      const end = input.u32() + input.at;
      input.skip(36);
      const flags = input.u8();
      if (flags & ~KNOWN_FLAGS) throw new CorruptFrameError(`unknown flags ${flags}`);
      if (flags & JSON_DATA) {
        input.at = start;
        return undefined;
      }
      input.skip(8 + (flags & CAUSATION ? 36 : 0) + (flags & CORRELATION ? 36 : 0));
      if (flags & MODE) input.string();
      if (flags & RUN_ID) input.string();
      const own = this.codecs.get(type);
      if (input.u16() !== version || input.string() !== type || own?.version !== version) {
        input.at = start;
        return undefined;
      }
      const data = own.codec.read(input);
      if (input.at !== end)
        throw new CorruptFrameError(
          input.at < end ? 'a frame longer than its event' : 'a frame shorter than its event',
        );
      this.position++;
      this.revision++;
      return data;
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  /** Moves past `count` events without decoding them (each frame starts with its length). */
  skip(count: number): void {
    try {
      for (let i = 0; i < count && !this.input.done; i++) this.input.skip(this.input.u32());
    } catch (error) {
      throw this.unreadable(error);
    }
    this.position += count;
    this.revision += count;
  }

  /** Moves past the events from here that occurred before `time` (up to the first that did not); how many. */
  skipBefore(time: number): number {
    let skipped = 0;
    try {
      // occurredAt follows the frame's length (4 bytes), id (36) and flags (1)
      while (!this.input.done && this.input.f64At(41) < time) {
        this.input.skip(this.input.u32());
        skipped++;
      }
    } catch (error) {
      throw this.unreadable(error);
    }
    this.position += skipped;
    this.revision += skipped;
    return skipped;
  }

  /** Every event left, in order. */
  rest(): RecordedEvent[] {
    const events: RecordedEvent[] = [];
    for (let e = this.take(); e !== undefined; e = this.take()) events.push(e);
    return events;
  }

  private unreadable(error: unknown): Error {
    if (!(error instanceof CorruptFrameError || error instanceof SyntaxError || error instanceof RangeError))
      return error as Error;
    return new StoreDataError(
      `event at position ${this.position} (stream ${this.row.stream_id}) cannot be decoded: ${(error as Error).message}`,
      HINT,
    );
  }
}

/** A Buffer over the bytes the driver returned (pg gives a Buffer, PGlite a Uint8Array). */
function asBuffer(bytes: string | Uint8Array): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'base64');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

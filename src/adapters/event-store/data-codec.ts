/**
 * A binary encoding of event data derived from each event type's schema (its SchemaForm, see
 * domain/events/schema.ts), for a store that keeps its events as binary frames: no field names,
 * numbers as 8-byte floats (exact, -0 included), ids as their 36 characters, and strings up to
 * 64 characters written once per batch and referred to by number after that (a batch of candles
 * names its exchange, symbol and timeframe once). JSON.parse of a candle's data costs about
 * 1 µs; reading it back from this encoding, a tenth of that (bench/experiments/batch-rows.ts).
 *
 * The codec encodes data that passed its schema (the stores validate every event first): it
 * refuses a value of the wrong kind, naming the field, but does not re-check ranges or patterns.
 * A batch is written by one FrameWriter and read by one FrameReader, frames in order.
 */
import type { Schema } from '../../domain/events/schema.js';

/** Longest string kept in a batch's string table; longer ones are written where they occur. */
const TABLE_MAX_CHARS = 64;
const UUID_LENGTH = 36;

/** Data that does not fit its schema's form (the codec was given data that skipped validation). */
export class UnencodableDataError extends TypeError {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`cannot encode ${path || 'the data'}: expected ${expected}`);
  }
}

/** Bytes that are not a frame this codec wrote (truncated, edited, or another format). */
export class CorruptFrameError extends RangeError {}

/** Writes the frames of one batch: the string table goes in front of them (see `finish`). */
export class FrameWriter {
  private buffer: Buffer;
  /** Over `buffer`: numbers are written through a DataView (the JIT inlines its stores). */
  private view: DataView;
  private at = 0;
  private readonly strings = new Map<string, number>();
  private readonly table: string[] = [];

  constructor(expectedBytes = 4096) {
    this.buffer = Buffer.allocUnsafe(expectedBytes);
    this.view = viewOf(this.buffer);
  }

  /** Bytes written so far, table not included. */
  get length(): number {
    return this.at;
  }

  u8(value: number): void {
    this.room(1);
    this.buffer[this.at++] = value;
  }

  u16(value: number): void {
    this.room(2);
    this.view.setUint16(this.at, inRange(value, 0xffff), true);
    this.at += 2;
  }

  /** Leaves room for a 4-byte number written later by `patchU32` (a length known only after). */
  reserveU32(): number {
    this.room(4);
    this.at += 4;
    return this.at - 4;
  }

  patchU32(at: number, value: number): void {
    this.view.setUint32(at, inRange(value, 0xffffffff), true);
  }

  /** A non-negative integer below 2^53 in 7-bit groups, low first (1 byte below 128). */
  varint(value: number): void {
    this.room(8);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.at++] = v;
  }

  f64(value: number): void {
    this.room(8);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
  }

  /** A UUID as its 36 characters. */
  uuid(value: string): void {
    this.room(UUID_LENGTH);
    this.buffer.write(value, this.at, 'latin1');
    this.at += UUID_LENGTH;
  }

  /**
   * A string, as a number that says how it follows (its remainder by 4): a short one as its
   * index in the batch's table (0); a long one as its UTF-8 (1, with its byte length); one that
   * UTF-8 cannot hold (a lone surrogate: JavaScript allows it, and JSON kept it) as its UTF-16
   * code units (2, with their count).
   */
  string(value: string): void {
    if (!value.isWellFormed()) {
      this.varint(value.length * 4 + 2);
      this.room(value.length * 2);
      this.at += this.buffer.write(value, this.at, 'utf16le');
      return;
    }
    if (value.length <= TABLE_MAX_CHARS) {
      let index = this.strings.get(value);
      if (index === undefined) {
        index = this.table.length;
        this.strings.set(value, index);
        this.table.push(value);
      }
      this.varint(index * 4);
      return;
    }
    const bytes = Buffer.byteLength(value);
    this.varint(bytes * 4 + 1);
    this.room(bytes);
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  /** The batch: its string table (a count, then each string's byte length and UTF-8), then the frames. */
  finish(): Buffer {
    const head = new FrameWriter(16 + this.table.length * 24);
    head.varint(this.table.length);
    for (const value of this.table) {
      const bytes = Buffer.byteLength(value);
      head.varint(bytes);
      head.room(bytes);
      head.at += head.buffer.write(value, head.at, 'utf8');
    }
    return Buffer.concat([head.buffer.subarray(0, head.at), this.buffer.subarray(0, this.at)]);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
    this.view = viewOf(grown);
  }
}

/** Reads the frames of one batch written by FrameWriter.finish, in order. */
export class FrameReader {
  at = 0;
  private readonly table: string[] = [];
  /** Over `buffer`: numbers are read through a DataView (the JIT inlines its loads). */
  private readonly view: DataView;

  constructor(private readonly buffer: Buffer) {
    this.view = viewOf(buffer);
    const count = this.varint();
    for (let i = 0; i < count; i++) {
      const bytes = this.varint();
      this.table.push(this.text(bytes, 'utf8'));
    }
  }

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.at >= this.buffer.length;
  }

  u8(): number {
    if (this.at >= this.buffer.length) throw new CorruptFrameError('frame ends early');
    return this.buffer[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.at, true);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  /** The 8-byte float at `offset` bytes from here, without moving. */
  f64At(offset: number): number {
    if (this.at + offset + 8 > this.buffer.length) throw new CorruptFrameError('frame ends early');
    return this.view.getFloat64(this.at + offset, true);
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.at += bytes;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 8; shift++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new CorruptFrameError('a length runs past 8 bytes');
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  uuid(): string {
    this.need(UUID_LENGTH);
    const value = this.buffer.toString('latin1', this.at, this.at + UUID_LENGTH);
    this.at += UUID_LENGTH;
    return value;
  }

  string(): string {
    const ref = this.varint();
    const n = Math.floor(ref / 4);
    switch (ref % 4) {
      case 0: {
        const value = this.table[n];
        if (value === undefined) throw new CorruptFrameError(`string ${n} is not in the batch's table`);
        return value;
      }
      case 1:
        return this.text(n, 'utf8');
      case 2:
        return this.text(n * 2, 'utf16le');
      default:
        throw new CorruptFrameError(`unknown string form ${ref % 4}`);
    }
  }

  private text(bytes: number, encoding: 'utf8' | 'utf16le'): string {
    this.need(bytes);
    const value = this.buffer.toString(encoding, this.at, this.at + bytes);
    this.at += bytes;
    return value;
  }

  private need(bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new CorruptFrameError('frame ends early');
  }
}

export interface DataCodec {
  write(data: unknown, out: FrameWriter): void;
  read(input: FrameReader): Record<string, unknown>;
}

type Write = (value: unknown, out: FrameWriter, path: string) => void;
type Read = (input: FrameReader) => unknown;

/**
 * What the encoding of a schema depends on, and nothing else (no ranges, no patterns). A store
 * keeps the layout of every event type and version it holds, so data is always read back with
 * the layout it was written with, whatever the build reading it.
 */
export type Layout =
  | { readonly kind: 'number' | 'string' | 'uuid' | 'boolean' | 'numberRecord' | 'json' }
  | { readonly kind: 'oneOf'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'nullable' | 'optional'; readonly inner: Layout }
  | { readonly kind: 'array'; readonly item: Layout }
  | { readonly kind: 'object'; readonly fields: readonly (readonly [string, Layout])[] };

export function layoutOf(schema: Schema<unknown>): Layout {
  const form = schema.form;
  switch (form.kind) {
    case 'nullable':
    case 'optional':
      return { kind: form.kind, inner: layoutOf(form.inner) };
    case 'array':
      return { kind: 'array', item: layoutOf(form.item) };
    case 'oneOf':
      return { kind: 'oneOf', values: form.values };
    case 'object':
      return {
        kind: 'object',
        fields: Object.keys(form.shape).map((key) => [key, layoutOf(form.shape[key]!)] as const),
      };
    default:
      return { kind: form.kind };
  }
}

/** The codec of an event type's data layout (an object's). */
export function dataCodec(layout: Layout): DataCodec {
  if (layout.kind !== 'object') throw new TypeError(`event data must be an object, got ${layout.kind}`);
  const [write, read] = compile(layout);
  return {
    write: (data, out) => write(data, out, ''),
    read: (input) => read(input) as Record<string, unknown>,
  };
}

function compile(form: Layout): [Write, Read] {
  switch (form.kind) {
    case 'number':
      return [
        (v, out, path) => {
          if (typeof v !== 'number') throw new UnencodableDataError(path, 'a number');
          out.f64(v);
        },
        (input) => input.f64(),
      ];
    case 'string':
      return [
        (v, out, path) => {
          if (typeof v !== 'string') throw new UnencodableDataError(path, 'a string');
          out.string(v);
        },
        (input) => input.string(),
      ];
    case 'uuid':
      return [
        (v, out, path) => {
          if (typeof v !== 'string' || v.length !== UUID_LENGTH)
            throw new UnencodableDataError(path, 'a UUID');
          out.uuid(v);
        },
        (input) => input.uuid(),
      ];
    case 'boolean':
      return [
        (v, out, path) => {
          if (typeof v !== 'boolean') throw new UnencodableDataError(path, 'true or false');
          out.u8(v ? 1 : 0);
        },
        (input) => {
          const byte = input.u8();
          if (byte > 1) throw new CorruptFrameError(`a boolean byte of ${byte}`);
          return byte === 1;
        },
      ];
    case 'oneOf': {
      const { values } = form;
      if (values.length > 255) throw new TypeError('oneOf: at most 255 values can be encoded');
      return [
        (v, out, path) => {
          const index = values.indexOf(v as string);
          if (index < 0) throw new UnencodableDataError(path, `one of ${values.join(', ')}`);
          out.u8(index);
        },
        (input) => {
          const index = input.u8();
          if (index >= values.length) throw new CorruptFrameError(`choice ${index} of ${values.length}`);
          return values[index];
        },
      ];
    }
    case 'nullable':
    case 'optional': {
      const [write, read] = compile(form.inner);
      const absent = form.kind === 'nullable' ? null : undefined;
      return [
        (v, out, path) => {
          if (v === absent) return out.u8(0);
          out.u8(1);
          write(v, out, path);
        },
        (input) => {
          const present = input.u8();
          if (present > 1) throw new CorruptFrameError(`a presence byte of ${present}`);
          return present === 0 ? absent : read(input);
        },
      ];
    }
    case 'array': {
      const [write, read] = compile(form.item);
      return [
        (v, out, path) => {
          if (!Array.isArray(v)) throw new UnencodableDataError(path, 'an array');
          out.varint(v.length);
          for (let i = 0; i < v.length; i++) write(v[i], out, `${path}[${i}]`);
        },
        (input) => {
          const items = new Array(input.varint());
          for (let i = 0; i < items.length; i++) items[i] = read(input);
          return items;
        },
      ];
    }
    case 'numberRecord':
      return [
        (v, out, path) => {
          if (typeof v !== 'object' || v === null)
            throw new UnencodableDataError(path, 'an object of numbers');
          const keys = Object.keys(v);
          out.varint(keys.length);
          for (const key of keys) {
            const n = (v as Record<string, unknown>)[key];
            if (typeof n !== 'number') throw new UnencodableDataError(`${path}.${key}`, 'a number');
            out.string(key);
            out.f64(n);
          }
        },
        (input) => {
          const record: Record<string, number> = {};
          for (let i = input.varint(); i > 0; i--) {
            const key = input.string();
            setField(record, key, input.f64());
          }
          return record;
        },
      ];
    case 'json':
      return [(v, out) => out.string(JSON.stringify(v)), (input) => JSON.parse(input.string()) as unknown];
    case 'object': {
      const keys = form.fields.map(([key]) => key);
      // layouts are read back from the log: code is compiled from these names (quoted), so only strings
      if (keys.some((key) => typeof key !== 'string'))
        throw new TypeError('a layout whose field names are not all strings');
      const fields = form.fields.map(([, field]) => compile(field));
      const optional = form.fields.map(([, field]) => field.kind === 'optional');
      return [
        compileRecordWrite(
          keys,
          fields.map(([write]) => write),
        ),
        // A record with optional fields takes the loop (an absent one must stay absent), as does
        // one with a field named __proto__ (a literal would set the prototype with it)
        optional.some(Boolean) || keys.includes('__proto__')
          ? (input) => {
              const record: Record<string, unknown> = {};
              for (let i = 0; i < keys.length; i++) {
                const value = fields[i]![1](input);
                // an optional field that was absent stays absent, as it does through JSON
                if (value !== undefined || !optional[i]) setField(record, keys[i]!, value);
              }
              return record;
            }
          : compileRecordRead(
              keys,
              fields.map(([, read]) => read),
            ),
      ];
    }
  }
}

/*
 * A record's writer and reader are compiled once per layout (keys quoted by JSON.stringify): each
 * field read or written by its own name through its own call, and a record built as one object
 * literal, which V8 makes with its final shape in one step. As loops over the keys, the property
 * accesses and calls were megamorphic (one site for all fields): candles encoded ~1.5x and
 * decoded ~1.4x slower.
 */
function compileRecordWrite(keys: readonly string[], writers: readonly Write[]): Write {
  const body = `return function write(v, out, path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw notAnObject(path);
    ${keys
      .map((key, i) => {
        const [name, nested] = [JSON.stringify(key), JSON.stringify(`.${key}`)];
        return `w${i}(v[${name}], out, path ? path + ${nested} : ${name});`;
      })
      .join('\n    ')}
  }`;
  const notAnObject = (path: string) => new UnencodableDataError(path, 'an object');
  return new Function('notAnObject', ...keys.map((_, i) => `w${i}`), body)(notAnObject, ...writers) as Write;
}

function compileRecordRead(keys: readonly string[], readers: readonly Read[]): Read {
  const body = `return function read(input) {
    return { ${keys.map((key, i) => `${JSON.stringify(key)}: r${i}(input)`).join(', ')} };
  }`;
  return new Function(...keys.map((_, i) => `r${i}`), body)(...readers) as Read;
}

/** Sets a decoded field; one named __proto__ is data, as JSON.parse makes it, not the prototype. */
function setField(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else record[key] = value;
}

/** A DataView wraps a number that does not fit (Buffer.writeUInt16LE refused it): refuse it. */
function inRange(value: number, max: number): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= max))
    throw new RangeError(`${value} does not fit in an unsigned field of at most ${max}`);
  return value;
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

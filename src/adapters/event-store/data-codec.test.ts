import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryFor } from '../../../test/support/schema-arbitrary.js';
import { createCatalogue } from '../../domain/catalogue.js';
import { number, object, string } from '../../domain/events/schema.js';
import { CandleClosed } from '../../domain/market/events.js';
import {
  CorruptFrameError,
  dataCodec,
  FrameReader,
  FrameWriter,
  layoutOf,
  UnencodableDataError,
} from './data-codec.js';

const catalogue = createCatalogue();

/** Writes `items` as one batch and reads them back. */
function roundTrip(codec: ReturnType<typeof dataCodec>, items: readonly unknown[]): unknown[] {
  const out = new FrameWriter(16);
  for (const item of items) codec.write(item, out);
  const input = new FrameReader(out.finish());
  const back = items.map(() => codec.read(input));
  expect(input.done).toBe(true);
  return back;
}

const candle = {
  exchange: 'binance',
  symbol: 'BTC/USDT',
  timeframe: '1h',
  openTime: 1_700_000_000_000,
  closeTime: 1_700_003_600_000,
  open: 37_000.5,
  high: 37_100,
  low: 36_900.25,
  close: 37_050,
  volume: 123.456,
};

describe('data codec', () => {
  it('reads back exactly the data of every event type in the catalogue, batches of several events', () => {
    for (const definition of catalogue.types()) {
      const codec = dataCodec(layoutOf(definition.schema));
      fc.assert(
        fc.property(fc.array(arbitraryFor(definition.schema), { minLength: 1, maxLength: 6 }), (items) => {
          // toStrictEqual: -0 stays -0, an absent optional field stays absent, key for key
          expect(roundTrip(codec, items)).toStrictEqual(items);
        }),
        { numRuns: 60 },
      );
    }
  });

  it('writes a short string once per batch and refers to it after that', () => {
    const codec = dataCodec(layoutOf(CandleClosed.schema));
    const one = new FrameWriter();
    codec.write(candle, one);
    const many = new FrameWriter();
    for (let i = 0; i < 100; i++) codec.write({ ...candle, close: candle.close + i }, many);
    // 7 numbers of 8 bytes and 3 one-byte references per candle; the names once in the table
    expect(many.length).toBe(100 * (7 * 8 + 3));
    expect(many.finish().length - many.length).toBe(one.finish().length - one.length);
  });

  it('keeps strings longer than the table takes, and non-ASCII text, where they occur', () => {
    const codec = dataCodec(layoutOf(CandleClosed.schema));
    const long = { ...candle, symbol: `${'Ω'.repeat(70)}/USDT` };
    expect(roundTrip(codec, [long, candle, long])).toStrictEqual([long, candle, long]);
  });

  it('reads back any string, lone surrogates included (JSON kept them too)', () => {
    const codeUnits = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 80,
    });
    fc.assert(
      fc.property(fc.array(codeUnits, { maxLength: 8 }), (strings) => {
        const out = new FrameWriter(8);
        for (const value of [...strings, ...strings]) out.string(value);
        const input = new FrameReader(out.finish());
        expect([...strings, ...strings].map(() => input.string())).toStrictEqual([...strings, ...strings]);
        expect(input.done).toBe(true);
      }),
    );
  });

  it('keeps a key named __proto__ as data, as JSON.parse does', () => {
    const definition = catalogue
      .types()
      .find(
        (d) =>
          d.schema.form.kind === 'object' &&
          Object.values(d.schema.form.shape).some((f) => f.form.kind === 'numberRecord'),
      )!;
    const shape = (definition.schema.form as { shape: Record<string, { form: { kind: string } }> }).shape;
    const key = Object.keys(shape).find((k) => shape[k]!.form.kind === 'numberRecord')!;
    const valid = fc.sample(arbitraryFor(definition.schema), { numRuns: 1, seed: 7 })[0] as Record<
      string,
      unknown
    >;
    const data = { ...valid, [key]: JSON.parse('{"__proto__": 1, "atr": 2}') };
    const [back] = roundTrip(dataCodec(layoutOf(definition.schema)), [data]) as [
      Record<string, Record<string, number>>,
    ];
    expect(back).toStrictEqual(data);
    expect(Object.getPrototypeOf(back[key])).toBe(Object.prototype);
    expect(Object.keys(back[key]!)).toEqual(['__proto__', 'atr']);
  });

  it('builds records whose keys need quoting, or are named __proto__, as data with every key in order', () => {
    const schema = object({
      'a-b': number(),
      'say "hi"\u2028': string(),
      ['__proto__']: number(),
      z: number(),
    });
    const data = JSON.parse('{"a-b": 1, "say \\"hi\\"\\u2028": "x", "__proto__": 2, "z": -0}') as Record<
      string,
      unknown
    >;
    data.z = -0;
    const [back] = roundTrip(dataCodec(layoutOf(schema)), [data]) as [Record<string, unknown>];
    expect(back).toStrictEqual(data);
    expect(Object.keys(back)).toEqual(['a-b', 'say "hi"\u2028', '__proto__', 'z']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    const plain = object({ 'a-b': number(), "it's": string() });
    expect(roundTrip(dataCodec(layoutOf(plain)), [{ 'a-b': 1, "it's": 'y' }])).toStrictEqual([
      { 'a-b': 1, "it's": 'y' },
    ]);
  });

  it('refuses a number too large or negative for a 2- or 4-byte field instead of wrapping it', () => {
    const out = new FrameWriter(4);
    expect(() => out.u16(70_000)).toThrow(RangeError);
    expect(() => out.u16(-1)).toThrow(RangeError);
    const at = out.reserveU32();
    expect(() => out.patchU32(at, 2 ** 32 + 5)).toThrow(RangeError);
    out.u16(65_535);
    out.patchU32(at, 2 ** 32 - 1);
    const input = new FrameReader(out.finish());
    expect([input.u32(), input.u16()]).toEqual([2 ** 32 - 1, 65_535]);
  });

  it('refuses data that does not fit the schema, naming the field', () => {
    const codec = dataCodec(layoutOf(CandleClosed.schema));
    expect(() => codec.write({ ...candle, open: '37000' }, new FrameWriter())).toThrow(
      new UnencodableDataError('open', 'a number'),
    );
    expect(() => codec.write(null, new FrameWriter())).toThrow(UnencodableDataError);
  });

  it('names nested fields in its refusal', () => {
    const withArrays = catalogue
      .types()
      .find(
        (d) =>
          d.schema.form.kind === 'object' &&
          JSON.stringify(Object.values(d.schema.form.shape).map((s) => s.form.kind)).includes('array'),
      );
    expect(withArrays, 'an event type with an array field').toBeDefined();
    const shape = (withArrays!.schema.form as { shape: Record<string, { form: { kind: string } }> }).shape;
    const key = Object.keys(shape).find((k) => shape[k]!.form.kind === 'array')!;
    const valid = fc.sample(arbitraryFor(withArrays!.schema), { numRuns: 1, seed: 1 })[0] as Record<
      string,
      unknown
    >;
    expect(() =>
      dataCodec(layoutOf(withArrays!.schema)).write({ ...valid, [key]: 'not a list' }, new FrameWriter()),
    ).toThrow(`cannot encode ${key}: expected an array`);
  });

  it('refuses a boolean or presence byte that is neither 0 nor 1, rather than read it as something', () => {
    const definition = catalogue
      .types()
      .find(
        (d) =>
          d.schema.form.kind === 'object' &&
          Object.values(d.schema.form.shape).some((f) => f.form.kind === 'boolean'),
      )!;
    const codec = dataCodec(layoutOf(definition.schema));
    const valid = fc.sample(arbitraryFor(definition.schema), { numRuns: 1, seed: 3 })[0];
    const out = new FrameWriter();
    codec.write(valid, out);
    const bytes = out.finish();
    let refused = 0;
    // every byte that holds 0 or 1 set to 7: each is a boolean, a presence flag or part of a number
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! > 1) continue;
      const edited = Buffer.from(bytes);
      edited[i] = 7;
      try {
        codec.read(new FrameReader(edited));
      } catch (error) {
        expect(error).toBeInstanceOf(CorruptFrameError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses bytes it did not write: cut short, or a string missing from the table', () => {
    const codec = dataCodec(layoutOf(CandleClosed.schema));
    const out = new FrameWriter();
    codec.write(candle, out);
    const bytes = out.finish();
    for (const cut of [1, 5, bytes.length - 1]) {
      expect(() => codec.read(new FrameReader(bytes.subarray(0, cut)))).toThrow(CorruptFrameError);
    }
    // an empty table, then a reference to string 0
    const foreign = Buffer.from([0, 0]);
    expect(() => codec.read(new FrameReader(foreign))).toThrow('string 0 is not in the batch');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CandlePageBuffer,
  decodeEventRow,
  LineSplitter,
} from '../../src/adapters/event-store/candle-page.js';

/**
 * The bulk candle read decodes the six numbers of each stored CandleClosed straight from the
 * bytes of its JSON (src/adapters/event-store/candle-page.ts): it must give exactly what
 * JSON.parse gives, for any number, and fall back to JSON.parse for any other layout.
 */
describe('decoding stored candle rows', () => {
  const candle = (o: number, h: number, l: number, c: number, v: number, t = 1_609_459_200_000) => ({
    exchange: 'binance',
    symbol: 'BTC/USDT',
    timeframe: '1m',
    openTime: t,
    closeTime: t + 60_000,
    open: o,
    high: h,
    low: l,
    close: c,
    volume: v,
  });
  const decode = (rows: string[], copyText = false) => {
    const page = new CandlePageBuffer(rows.length);
    for (const row of rows) {
      const bytes = Buffer.from(row, 'utf8');
      decodeEventRow(bytes, 0, bytes.length, copyText, page);
    }
    return page;
  };
  const columns = (page: CandlePageBuffer) =>
    (['openTime', 'open', 'high', 'low', 'close', 'volume'] as const).map((f) =>
      Array.from(page[f].subarray(0, page.length)),
    );

  it('gives the doubles JSON.parse gives, for every kind of number', () => {
    const price = fc.oneof(
      fc.double({ min: 1e-12, max: 1e12, noNaN: true }),
      fc.integer({ min: 1, max: 2 ** 53 - 1 }),
      fc.constantFrom(29401.66, 0.1, 0.000001, 1e-7, 123456789.12345679, 5e-324, 1e21, 0.30000000000000004),
      fc
        .tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 8 }))
        .map(([m, d]) => m / 10 ** d),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(price, price, price, price, price), { minLength: 1, maxLength: 20 }),
        (cs) => {
          const data = cs.map(([o, h, l, c, v], i) => candle(o, h, l, c, v, 1_609_459_200_000 + i * 60_000));
          const page = decode(data.map((d) => `\t${JSON.stringify(d)}`));
          expect(page.length).toBe(data.length);
          expect(columns(page)).toEqual([
            data.map((d) => d.openTime),
            data.map((d) => d.open),
            data.map((d) => d.high),
            data.map((d) => d.low),
            data.map((d) => d.close),
            data.map((d) => d.volume),
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('falls back to JSON.parse for another key order, extra keys or spaces, and passes other events on', () => {
    const rows = [
      `\t${JSON.stringify(candle(1.5, 2.5, 1.25, 2, 100))}`,
      `\t{"open":7,"high":8,"low":6,"close":7.5,"volume":1,"openTime":1609459260000,"closeTime":1609459320000}`,
      `\t${JSON.stringify(candle(1, 2, 0.5, 1.5, 10, 1_609_459_320_000)).replace(/,/g, ', ')}`,
      `CandleGapDetected\t${JSON.stringify({ from: 1, to: 2, missing: 2 })}`,
    ];
    const page = decode(rows);
    expect(columns(page)).toEqual([
      [1_609_459_200_000, 1_609_459_260_000, 1_609_459_320_000],
      [1.5, 7, 1],
      [2.5, 8, 2],
      [1.25, 6, 0.5],
      [2, 7.5, 1.5],
      [100, 1, 10],
    ]);
    expect(page.others).toEqual([{ type: 'CandleGapDetected', data: { from: 1, to: 2, missing: 2 } }]);
  });

  it('unescapes COPY text for rows that need it', () => {
    const page = decode([`Note\t{"text":"a\\\\\\\\b\\\\tc"}`], true);
    expect(page.others).toEqual([{ type: 'Note', data: { text: 'a\\b\tc' } }]);
  });

  it('joins lines cut between chunks anywhere', () => {
    const text = ['first line', '', 'third, longer line', 'x'].map((l) => `${l}\n`).join('');
    const bytes = Buffer.from(text);
    for (let cut1 = 0; cut1 <= bytes.length; cut1++) {
      for (let cut2 = cut1; cut2 <= bytes.length; cut2 += 3) {
        const lines: string[] = [];
        const splitter = new LineSplitter((b, s, e) => lines.push(b.toString('utf8', s, e)));
        for (const chunk of [bytes.subarray(0, cut1), bytes.subarray(cut1, cut2), bytes.subarray(cut2)])
          if (chunk.length > 0) splitter.push(chunk);
        splitter.end();
        expect(lines).toEqual(['first line', '', 'third, longer line', 'x']);
      }
    }
  });
});

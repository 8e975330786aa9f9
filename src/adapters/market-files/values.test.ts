import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitCsvLine } from './lines.js';
import { parseUtcDateTime, readEpoch, readNumber, readOpenTime } from './values.js';

describe('readEpoch', () => {
  it('reads milliseconds (Binance before 2025) and microseconds (from 2025) by magnitude', () => {
    expect(readEpoch(1609459200000)).toEqual({ ok: true, ms: 1609459200000, unit: 'ms' });
    expect(readEpoch(1740787200000000)).toEqual({ ok: true, ms: 1740787200000, unit: 'us' });
  });

  it('refuses seconds and nanoseconds, saying what they look like', () => {
    expect(readEpoch(1609459200)).toEqual({
      ok: false,
      reason:
        'open time 1609459200 is neither epoch milliseconds nor microseconds between 2000 and 2100 (it looks like epoch seconds)',
    });
    expect(readEpoch(1609459200000000000)).toEqual({
      ok: false,
      reason:
        'open time 1609459200000000000 is neither epoch milliseconds nor microseconds between 2000 and 2100 ' +
        '(it looks like epoch nanoseconds)',
    });
  });

  it('refuses microseconds that are not whole milliseconds, fractions, and out-of-range values', () => {
    expect(readEpoch(1740787200000123)).toEqual({
      ok: false,
      reason: 'open time 1740787200000123 (microseconds) is not a whole millisecond',
    });
    expect(readEpoch(1609459200000.5)).toMatchObject({ ok: false });
    expect(readEpoch(0)).toMatchObject({ ok: false });
    expect(readEpoch(Date.UTC(2100, 0, 1))).toMatchObject({ ok: false });
    expect(readEpoch(-1609459200000)).toMatchObject({ ok: false });
  });
});

describe('readNumber', () => {
  it('reads decimal text and JSON numbers', () => {
    expect(readNumber('28923.63000000')).toBe(28923.63);
    expect(readNumber('1e-8')).toBe(1e-8);
    expect(readNumber('-0.5')).toBe(-0.5);
    expect(readNumber(42)).toBe(42);
  });

  it.each(['', ' ', 'abc', '0x1F', '1,5', 'NaN', 'Infinity', '1.2.3'])(
    'refuses %j (Number() would not)',
    (text) => {
      expect(readNumber(text)).toBeNull();
    },
  );

  it('property: decimal text reads exactly as Number() reads it (the fast path changes nothing)', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 22 });
    const decimal = fc
      .tuple(fc.constantFrom('', '+', '-'), digits, fc.boolean(), digits)
      .map(([sign, whole, point, fraction]) => `${sign}${whole}${point ? '.' : ''}${point ? fraction : ''}`);
    fc.assert(
      fc.property(decimal, (text) => {
        const plain = /^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(text);
        const value = readNumber(text);
        return plain ? Object.is(value, Number(text)) : value === null;
      }),
      { numRuns: 20_000 },
    );
    for (const text of [
      '28923.63000000',
      '0.00001000',
      '5.',
      '.5',
      '007',
      '123456789012345.6',
      '9007199254740993',
    ])
      expect(readNumber(text)).toBe(Number(text));
  });

  it('refuses non-numbers from JSON', () => {
    expect(readNumber(null)).toBeNull();
    expect(readNumber(true)).toBeNull();
    expect(readNumber([1])).toBeNull();
  });
});

describe('parseUtcDateTime', () => {
  const jan1 = Date.UTC(2021, 0, 1);
  it.each([
    ['2021-01-01 00:00:00', jan1],
    ['2021-01-01T00:00:00Z', jan1],
    ['2021-01-01T00:00:00.000Z', jan1],
    ['2021-01-01T02:00:00+02:00', jan1],
    ['2020-12-31T19:00:00-05:00', jan1],
    ['2021-01-01 00:00', jan1],
    ['2021-01-01', jan1],
    ['2021-01-01 13:45:30.250', jan1 + ((13 * 60 + 45) * 60 + 30) * 1000 + 250],
  ])('%s → %d (no zone means UTC, never local time)', (text, ms) => {
    expect(parseUtcDateTime(text)).toBe(ms);
  });

  it.each([
    '2021-02-30 00:00:00',
    '2021-13-01',
    '2021-01-01 24:00:00',
    '01/01/2021',
    'yesterday',
    '2021-01-01T00:00:00 UTC',
  ])('refuses %j', (text) => {
    expect(parseUtcDateTime(text)).toBeNull();
  });
});

describe('readOpenTime', () => {
  it('accepts date strings only where the format allows them', () => {
    expect(readOpenTime('2021-01-01 00:00:00', true)).toEqual({
      ok: true,
      ms: Date.UTC(2021, 0, 1),
      unit: 'ms',
    });
    expect(readOpenTime('2021-01-01 00:00:00', false)).toEqual({
      ok: false,
      reason: 'open time "2021-01-01 00:00:00" is not epoch milliseconds or microseconds',
    });
    expect(readOpenTime('soon', true)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('or a UTC date-time such as 2021-01-01 00:00:00'),
    });
  });
});

describe('splitCsvLine', () => {
  it('property: cells trimmed and unquoted, as the first version did with trim() on every cell', () => {
    const cell = fc.string({
      unit: fc.constantFrom('1', '.', 'a', ' ', '\t', '"', '\u00a0', '\ufeff', 'é'),
      maxLength: 6,
    });
    const reference = (line: string) =>
      line.split(',').map((field) => {
        const trimmed = field.trim();
        return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
          ? trimmed.slice(1, -1).trim()
          : trimmed;
      });
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 8 }), (cells) => {
        const line = cells.join(',');
        expect(splitCsvLine(line)).toEqual(reference(line));
      }),
      { numRuns: 5000 },
    );
  });
});

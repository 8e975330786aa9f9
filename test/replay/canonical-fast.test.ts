import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/events/canonical-json.js';
import { CanonicalJsonHash, fastCanonicalJson } from '../../src/replay/backtest/canonical-fast.js';

const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.constantFrom(
      0,
      -0,
      1e21,
      1e-7,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ),
    fc.string({ unit: 'binary' }),
    fc.array(tie('any'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('any'), { maxKeys: 6 }),
  ),
})).any;

describe('fastCanonicalJson', () => {
  it('gives exactly the text canonicalJson gives', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('CanonicalJsonHash', () => {
  const expected = (values: unknown[]) =>
    createHash('sha256')
      .update(values.map((v) => `${canonicalJson(v)}\n`).join(''))
      .digest('hex');
  const actual = (values: unknown[]) => {
    const hash = new CanonicalJsonHash();
    for (const v of values) {
      hash.value(v);
      hash.char(10);
    }
    return hash.digest();
  };

  it('gives the SHA-256 of the canonical JSON texts, whatever the values', () => {
    fc.assert(
      fc.property(
        fc.array(
          value.filter((v) => v !== undefined),
          { maxLength: 8 },
        ),
        (values) => {
          expect(actual(values)).toBe(expected(values));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('keeps key order per key list apart, escapes and encodes strings, and handles pieces beyond its buffer', () => {
    const values = [
      { b: 1, a: 2 },
      { a: 2, b: 1 },
      { b: { z: 'é', y: 'a"b\\c\n' }, a: ['\u2028', '\ud800', null, undefined] },
      { b: 1, a: 2, c: 3 },
      { big: 'x'.repeat(200_000), bigUtf8: 'ü'.repeat(70_000), [`k${'é'.repeat(5)}`]: 0.1 + 0.2 },
      Array.from({ length: 5_000 }, (_, i) => ({ i, v: i / 7, s: `n${i}` })),
    ];
    expect(actual(values)).toBe(expected(values));
  });
});

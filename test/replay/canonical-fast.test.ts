import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/events/canonical-json.js';
import { fastCanonicalJson } from '../../src/replay/backtest/canonical-fast.js';

describe('fastCanonicalJson', () => {
  it('gives exactly the text canonicalJson gives', () => {
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
    fc.assert(
      fc.property(value, (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2_000 },
    );
  });
});

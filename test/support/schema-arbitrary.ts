import fc from 'fast-check';
import { type Schema, type SchemaForm, validate } from '../../src/domain/events/schema.js';

/**
 * Values a schema accepts, generated from its form: every kind and edge the schema allows
 * (-0, subnormals and the extremes of a range, non-ASCII and long strings, absent optional
 * fields, nulls, empty arrays). Filtered through the schema's check, so what comes out is valid
 * data (lengths, say, are generated in code points and checked in UTF-16 units).
 */
export function arbitraryFor<T>(schema: Schema<T>): fc.Arbitrary<T> {
  return (forForm(schema.form) as fc.Arbitrary<T>).filter((value) => validate(schema, value).length === 0);
}

function forForm(form: SchemaForm): fc.Arbitrary<unknown> {
  switch (form.kind) {
    case 'number': {
      const { min, max, gt, integer } = form.rules;
      const low = min ?? gt ?? -Number.MAX_VALUE;
      const high = max ?? Number.MAX_VALUE;
      if (integer) {
        const lowest = Math.max(Math.ceil(low), Number.MIN_SAFE_INTEGER);
        const highest = Math.min(Math.floor(high), Number.MAX_SAFE_INTEGER);
        return fc.bigInt({ min: BigInt(lowest), max: BigInt(highest) }).map(Number);
      }
      return fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });
    }
    case 'string': {
      const { pattern, minLength = 1, maxLength = 10_000 } = form.rules;
      if (pattern) return fc.stringMatching(pattern);
      return fc.string({ unit: 'binary', minLength, maxLength: Math.min(maxLength, 90) });
    }
    case 'uuid':
      return fc.uuid();
    case 'boolean':
      return fc.boolean();
    case 'oneOf':
      return fc.constantFrom(...form.values);
    case 'nullable':
      return fc.option(forForm(form.inner.form), { nil: null });
    case 'optional':
      return forForm(form.inner.form);
    case 'array':
      return fc.array(forForm(form.item.form), { maxLength: Math.min(form.maxLength ?? 4, 4) });
    case 'numberRecord':
      return fc.dictionary(
        fc.string({ maxLength: 12 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        {
          maxKeys: 4,
          noNullPrototype: true,
        },
      );
    case 'json':
      // as it would come back from JSON (no -0, no undefined)
      return fc
        .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 4,
          noNullPrototype: true,
        })
        .map((value) => JSON.parse(JSON.stringify(value)) as unknown);
    case 'object': {
      const keys = Object.keys(form.shape);
      const fields = Object.fromEntries(keys.map((key) => [key, forForm(form.shape[key]!.form)]));
      const requiredKeys = keys.filter((key) => form.shape[key]!.form.kind !== 'optional');
      return fc.record(fields, { requiredKeys, noNullPrototype: true });
    }
  }
}

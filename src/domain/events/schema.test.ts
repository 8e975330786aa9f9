import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryFor } from '../../../test/support/schema-arbitrary.js';
import { createCatalogue } from '../catalogue.js';
import { number, object, optional, type Schema, type SchemaIssue, string, validate } from './schema.js';

const catalogue = createCatalogue();

function issuesOf(schema: Schema<unknown>, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  schema.check(value, '', issues);
  return issues;
}

/** Values near a valid one: each is a way a caller gets an event wrong. */
const WRONG_VALUES: unknown[] = [undefined, null, Number.NaN, -1, 0, '', 'x', -0, Infinity, {}, [], true];

function mutations(value: unknown): fc.Arbitrary<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return fc.constantFrom(...WRONG_VALUES);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const options: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(...WRONG_VALUES),
    fc.string({ maxLength: 8 }).map((key) => ({ ...record, [key]: 1 })),
    fc.constant(JSON.parse(`{"__proto__": 1, ${JSON.stringify(record).slice(1)}`) as unknown),
    fc.constant(Object.assign(Object.create({ inherited: 1 }) as object, record)),
    fc.constant(Object.assign(Object.create(null) as object, record)),
  ];
  if (keys.length > 0) {
    const key = fc.constantFrom(...keys);
    options.push(
      key.map((k) => Object.fromEntries(Object.entries(record).filter(([name]) => name !== k))),
      fc.tuple(key, fc.constantFrom(...WRONG_VALUES)).map(([k, v]) => ({ ...record, [k]: v })),
    );
  }
  return fc.oneof(...options);
}

describe('schemas', () => {
  it('the fast test never passes a value check refuses, for every event type and near misses of its data', () => {
    for (const definition of catalogue.types()) {
      const schema = definition.schema as Schema<unknown>;
      if (!schema.test) continue;
      fc.assert(
        fc.property(
          arbitraryFor(schema).chain((valid) => fc.tuple(fc.constant(valid), mutations(valid))),
          ([valid, near]) => {
            expect(issuesOf(schema, valid)).toEqual([]);
            if (schema.test!(near)) expect(issuesOf(schema, near)).toEqual([]);
          },
        ),
        { numRuns: 80 },
      );
    }
  });

  it('an optional property present as undefined falls back to check, and passes', () => {
    const s = object({ a: number(), b: optional(string()) });
    expect(s.test!({ a: 1, b: undefined })).toBe(false);
    expect(validate(s, { a: 1, b: undefined })).toEqual([]);
    expect(validate(s, { a: 1, c: 2 })).toEqual([{ path: 'c', expected: 'no such property', value: 2 }]);
  });

  it('a string schema that passed a value still refuses a different one', () => {
    const s = string({ pattern: /^[A-Z]+$/, patternName: 'capitals' });
    expect(s.test!('ABC')).toBe(true);
    expect(s.test!('ABC')).toBe(true);
    expect(s.test!('abc')).toBe(false);
    expect(validate(s, 'abc', 'symbol')).toEqual([{ path: 'symbol', expected: 'capitals', value: 'abc' }]);
  });

  it('number bounds: exclusive gt, inclusive min and max, integers', () => {
    const s = number({ gt: 0, max: 10, integer: true });
    expect([0, 1, 10, 11, 1.5, -0, Number.NaN].map((v) => s.test!(v))).toEqual([
      false,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(number({ min: 0 }).test!(-0)).toBe(true);
  });
});

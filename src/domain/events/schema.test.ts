import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryFor } from '../../../test/support/schema-arbitrary.js';
import { createCatalogue } from '../catalogue.js';
import {
  isPlainObject,
  number,
  object,
  optional,
  type Schema,
  type SchemaForm,
  type SchemaIssue,
  string,
  UUID_PATTERN,
  validate,
} from './schema.js';

const catalogue = createCatalogue();

function issuesOf(schema: Schema<unknown>, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  schema.check(value, '', issues);
  return issues;
}

/**
 * What a schema accepts, decided from its form alone: an oracle written apart from the schemas'
 * own code (and free of their fast-path state), to hold both `test` and `check` to.
 */
function accepts(schema: Schema<unknown>, value: unknown): boolean {
  const form: SchemaForm = schema.form;
  switch (form.kind) {
    case 'number': {
      const { integer, gt, min, max } = form.rules;
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!integer || Number.isInteger(value)) &&
        (gt === undefined || value > gt) &&
        (min === undefined || value >= min) &&
        (max === undefined || value <= max)
      );
    }
    case 'string': {
      const { minLength = 1, maxLength = 10_000, pattern } = form.rules;
      return (
        typeof value === 'string' &&
        value.length >= minLength &&
        value.length <= maxLength &&
        (pattern === undefined || new RegExp(pattern.source, pattern.flags).test(value))
      );
    }
    case 'uuid':
      return typeof value === 'string' && UUID_PATTERN.test(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'oneOf':
      return form.values.some((v) => v === value);
    case 'nullable':
      return value === null || accepts(form.inner, value);
    case 'optional':
      return value === undefined || accepts(form.inner, value);
    case 'array':
      return (
        Array.isArray(value) &&
        (form.maxLength === undefined || value.length <= form.maxLength) &&
        Array.from(value).every((item) => accepts(form.item, item))
      );
    case 'numberRecord':
      return (
        isPlainObject(value) && Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v))
      );
    case 'json':
      return issuesOf(schema, value).length === 0;
    case 'object':
      return (
        isPlainObject(value) &&
        Object.entries(form.shape).every(([key, inner]) => accepts(inner, value[key])) &&
        Object.keys(value).every((key) => Object.hasOwn(form.shape, key))
      );
  }
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
    fc.constant({}),
  ];
  if (keys.length > 0) {
    const key = fc.constantFrom(...keys);
    options.push(
      key.map((k) => Object.fromEntries(Object.entries(record).filter(([name]) => name !== k))),
      fc.tuple(key, fc.constantFrom(...WRONG_VALUES)).map(([k, v]) => ({ ...record, [k]: v })),
      // a shape key made non-enumerable, beside an unknown key
      key.map((k) =>
        Object.defineProperty({ ...record, unknown: 1 }, k, { value: record[k], enumerable: false }),
      ),
      // an unknown key inherited, and a known one inherited instead of own
      key.map((k) => {
        const { [k]: moved, ...rest } = record;
        return Object.assign(Object.create({ [k]: moved, unknown: 1 }) as object, rest);
      }),
    );
  }
  return fc.oneof(...options);
}

describe('schemas', () => {
  it('test never passes and check never refuses against the form, for every event type and near misses of its data', () => {
    for (const definition of catalogue.types()) {
      const schema = definition.schema as Schema<unknown>;
      fc.assert(
        fc.property(
          arbitraryFor(schema).chain((valid) => fc.tuple(fc.constant(valid), mutations(valid))),
          ([valid, near]) => {
            expect(issuesOf(schema, valid)).toEqual([]);
            const ok = accepts(schema, near);
            expect(issuesOf(schema, near).length === 0).toBe(ok);
            if (schema.test?.(near)) expect(ok).toBe(true);
          },
        ),
        { numRuns: 80 },
      );
    }
  });

  it('a fresh string schema refuses a missing value (its memory of the last value passed starts empty)', () => {
    expect(string().test!(undefined)).toBe(false);
    expect(object({ a: string() }).test!({})).toBe(false);
    expect(validate(object({ a: string() }), {})).toEqual([
      { path: 'a', expected: 'a string of 1 to 10000 characters', value: undefined },
    ]);
  });

  it('an optional property present as undefined is as good as absent; an unknown one is named', () => {
    const s = object({ a: number(), b: optional(string()) });
    expect(validate(s, { a: 1, b: undefined })).toEqual([]);
    expect(validate(s, { a: 1, c: 2 })).toEqual([{ path: 'c', expected: 'no such property', value: 2 }]);
  });

  it('an object with keys that need quoting, or none at all', () => {
    const s = object({ 'a-b': number(), 'say "hi"\u2028': number(), '': number(), "it's": number() });
    const value = { 'a-b': 1, 'say "hi"\u2028': 2, '': 3, "it's": 4 };
    expect(s.test!(value)).toBe(true);
    expect(s.test!({ ...value, other: 5 })).toBe(false);
    expect(s.test!({ ...value, '': 'x' })).toBe(false);
    expect(object({}).test!({})).toBe(true);
    expect(object({}).test!({ a: 1 })).toBe(false);
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

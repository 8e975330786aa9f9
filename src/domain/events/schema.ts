/**
 * A small runtime schema library for event payloads. Schemas check plain JSON values and collect
 * every issue with its path, so an invalid event is refused with an error that names the field,
 * the value and what was expected. Deliberately tiny: events are flat records of numbers,
 * strings and a few nested objects.
 */

export interface SchemaIssue {
  path: string;
  expected: string;
  value: unknown;
}

export interface Schema<T> {
  /** Human description of an accepted value, used in error messages. */
  readonly expected: string;
  check(value: unknown, path: string, issues: SchemaIssue[]): void;
  /**
   * Fast path: true when `check` would find nothing, without allocating (no issue list, no
   * paths). It may say false for a valid value (validate then runs `check`), never true for an
   * invalid one. Every event appended goes through validation, so this is on the hot path.
   */
  readonly test?: (value: unknown) => boolean;
  /** What the schema accepts, as data: lets an adapter derive an encoding (see SchemaForm). */
  readonly form: SchemaForm;
  /** Phantom field carrying the static type. */
  readonly __type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/**
 * The structure of a schema, for code that derives something from it (the store's binary
 * encoding of event data, test data generators) rather than checking values. Every schema of
 * this library has one; rules that only narrow values (ranges, patterns) stay in `check`, except
 * where a generator needs them.
 */
export type SchemaForm =
  | { readonly kind: 'number'; readonly rules: NumberRules }
  | { readonly kind: 'string'; readonly rules: StringRules }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'oneOf'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'nullable'; readonly inner: Schema<unknown> }
  | { readonly kind: 'optional'; readonly inner: Schema<unknown> }
  | { readonly kind: 'array'; readonly item: Schema<unknown>; readonly maxLength?: number }
  | { readonly kind: 'numberRecord' }
  | { readonly kind: 'json' }
  | { readonly kind: 'object'; readonly shape: Readonly<Record<string, Schema<unknown>>> };

function schema<T>(expected: string, ok: (v: unknown) => boolean, form: SchemaForm): Schema<T> {
  return {
    expected,
    form,
    test: ok,
    check(value, path, issues) {
      if (!ok(value)) issues.push({ path, expected, value });
    },
  };
}

export interface NumberRules {
  min?: number;
  /** exclusive lower bound */
  gt?: number;
  max?: number;
  integer?: boolean;
}

export function number(rules: NumberRules = {}): Schema<number> {
  const parts = [rules.integer ? 'an integer' : 'a finite number'];
  if (rules.gt !== undefined) parts.push(`> ${rules.gt}`);
  if (rules.min !== undefined) parts.push(`>= ${rules.min}`);
  if (rules.max !== undefined) parts.push(`<= ${rules.max}`);
  // Bounds as constants (an absent one never binds): the test reads no rule object per value.
  const integer = rules.integer === true;
  const gt = rules.gt ?? -Infinity;
  const min = rules.min ?? -Infinity;
  const max = rules.max ?? Infinity;
  return schema(
    parts.join(' '),
    (v) =>
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!integer || Number.isInteger(v)) &&
      v > gt &&
      v >= min &&
      v <= max,
    { kind: 'number', rules },
  );
}

/** Epoch milliseconds UTC between 2000-01-01 and 2100-01-01: catches seconds and microseconds. */
export const epochMs: Schema<number> = schema(
  'epoch milliseconds (UTC, an integer between 2000 and 2100)',
  (v) => typeof v === 'number' && Number.isInteger(v) && v >= 946_684_800_000 && v < 4_102_444_800_000,
  { kind: 'number', rules: { integer: true, min: 946_684_800_000, max: 4_102_444_799_999 } },
);

export interface StringRules {
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** what the pattern means, for error messages */
  patternName?: string;
}

export function string(rules: StringRules = {}): Schema<string> {
  const min = rules.minLength ?? 1;
  const max = rules.maxLength ?? 10_000;
  const expected = rules.patternName ?? `a string of ${min} to ${max} characters`;
  const pattern = rules.pattern;
  // The last value that passed: events of a batch repeat their exchange, symbol and strategy, so
  // most tests are one comparison instead of a regular expression. (Starts as a value no input
  // can equal: NaN.)
  let passed: unknown = Number.NaN;
  return schema(
    expected,
    (v) => {
      if (v === passed) return true;
      if (
        typeof v !== 'string' ||
        v.length < min ||
        v.length > max ||
        (pattern !== undefined && !pattern.test(v))
      )
        return false;
      passed = v;
      return true;
    },
    { kind: 'string', rules: { ...rules, minLength: min, maxLength: max } },
  );
}

export function oneOf<const T extends readonly (string | number | boolean)[]>(values: T): Schema<T[number]> {
  return schema(
    `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    (v) => values.includes(v as T[number]),
    { kind: 'oneOf', values },
  );
}

export const boolean: Schema<boolean> = schema('true or false', (v) => typeof v === 'boolean', {
  kind: 'boolean',
});

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid: Schema<string> = {
  ...string({ pattern: UUID_PATTERN, patternName: 'a lower-case UUID' }),
  form: { kind: 'uuid' },
};

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  const test = inner.test;
  return {
    expected: `${inner.expected} or null`,
    form: { kind: 'nullable', inner },
    test: test && ((value) => value === null || test(value)),
    check(value, path, issues) {
      if (value !== null) inner.check(value, path, issues);
    },
  };
}

/** Marks a property as optional: absent (undefined) is accepted, null is not. */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  const test = inner.test;
  return {
    optional: true,
    expected: `${inner.expected} (optional)`,
    form: { kind: 'optional', inner },
    test: test && ((value) => value === undefined || test(value)),
    check(value, path, issues) {
      if (value !== undefined) inner.check(value, path, issues);
    },
  };
}

export function array<T>(item: Schema<T>, rules: { maxLength?: number } = {}): Schema<T[]> {
  const expected = `an array of ${item.expected}`;
  const test = item.test;
  return {
    expected,
    form: { kind: 'array', item, maxLength: rules.maxLength },
    test:
      test &&
      ((value) => {
        if (!Array.isArray(value) || (rules.maxLength !== undefined && value.length > rules.maxLength)) {
          return false;
        }
        for (let i = 0; i < value.length; i++) if (!test(value[i])) return false;
        return true;
      }),
    check(value, path, issues) {
      if (!Array.isArray(value) || (rules.maxLength !== undefined && value.length > rules.maxLength)) {
        issues.push({ path, expected, value });
        return;
      }
      for (let i = 0; i < value.length; i++) item.check(value[i], `${path}[${i}]`, issues);
    },
  };
}

/** A record of numbers keyed by name, e.g. indicator values used by a decision. */
export function numberRecord(): Schema<Record<string, number>> {
  return {
    expected: 'an object of finite numbers',
    form: { kind: 'numberRecord' },
    test(value) {
      if (!isPlainObject(value)) return false;
      for (const key in value) {
        const v = value[key];
        if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      }
      return true;
    },
    check(value, path, issues) {
      if (!isPlainObject(value)) {
        issues.push({ path, expected: this.expected, value });
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          issues.push({ path: `${path}.${k}`, expected: 'a finite number', value: v });
        }
      }
    },
  };
}

/** Any JSON object (settings, parameters): checked to be a plain object of JSON values only. */
export function jsonObject(): Schema<Record<string, unknown>> {
  const expected = 'a JSON object';
  return {
    expected,
    form: { kind: 'json' },
    check(value, path, issues) {
      if (!isPlainObject(value) || !isJsonValue(value, 0)) issues.push({ path, expected, value });
    },
  };
}

function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 20) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly these properties: unknown properties are refused (typos fail loudly). */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { shape: S } {
  const keys = Object.keys(shape);
  const expected = `an object with ${keys.join(', ')}`;
  const tests = keys.map((key) => shape[key]!.test);
  const fast = tests.every((test) => test !== undefined);
  return {
    shape,
    expected,
    form: { kind: 'object', shape },
    test: fast ? compileObjectTest(keys, tests as ((value: unknown) => boolean)[]) : undefined,
    check(value, path, issues) {
      if (!isPlainObject(value)) {
        issues.push({ path, expected, value });
        return;
      }
      for (const key of keys) shape[key]!.check(value[key], path ? `${path}.${key}` : key, issues);
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) {
          issues.push({
            path: path ? `${path}.${key}` : key,
            expected: 'no such property',
            value: value[key],
          });
        }
      }
    },
  };
}

/**
 * An object schema's fast test, compiled once per schema: each property read by its own name and
 * tested by its own call, and the own keys matched in a switch. Every appended event runs it; as
 * a loop over the keys, its property reads and calls were megamorphic (one site for all fields):
 * a candle event validated in 0.69 µs, now 0.37. Keys are quoted by JSON.stringify. The rules are
 * check's: the shape's properties (read as `value[key]` reads them) pass their tests, and no own
 * key is unknown.
 */
function compileObjectTest(keys: readonly string[], tests: readonly ((value: unknown) => boolean)[]) {
  const names = keys.map((key) => JSON.stringify(key));
  const body = `return function test(value) {
    if (!isPlainObject(value)) return false;
    ${names.map((name, i) => `if (!t${i}(value[${name}])) return false;`).join('\n    ')}
    for (const key of Object.keys(value)) {
      switch (key) {
        ${names.map((name) => `case ${name}: break;`).join(' ')}
        default: return false;
      }
    }
    return true;
  }`;
  const params = ['isPlainObject', ...keys.map((_, i) => `t${i}`)];
  return new Function(...params, body)(isPlainObject, ...tests) as (value: unknown) => boolean;
}

export function validate<T>(s: Schema<T>, value: unknown, path = ''): SchemaIssue[] {
  if (s.test?.(value)) return [];
  const issues: SchemaIssue[] = [];
  s.check(value, path, issues);
  return issues;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

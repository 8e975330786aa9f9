import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, scopeOf } from '../../src/api/pagination.js';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem.js';
import { backends } from '../support/backends.js';
import {
  type ApiFixture,
  appendMarket,
  BTC_1H,
  candleEvents,
  existingAccount,
  openApi,
  TOKEN,
} from './support.js';

/**
 * Whatever the query parameters, path parameters, headers and bodies, the API answers a 2xx or
 * a 4xx problem, never a 5xx.
 */

const backend = backends[0]!; // PGlite: the fuzzing is about the API, not the store
const EXCHANGE = 'fuzzex';

/** Status classes seen, so a test can check the fuzzing also reached successful paths. */
const seen = new Map<string, number>();

function expectNoServerError(res: LightMyRequestResponse, what: string) {
  const kind = `${Math.floor(res.statusCode / 100)}xx`;
  seen.set(kind, (seen.get(kind) ?? 0) + 1);
  expect(res.statusCode, `${what} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(res.headers['content-type'], what).toContain(PROBLEM_CONTENT_TYPE);
    const problem = res.json();
    expect(problem.status, what).toBe(res.statusCode);
    for (const member of ['type', 'title', 'detail', 'instance']) {
      expect(typeof problem[member], `${what}: ${member}`).toBe('string');
    }
  }
}

/** Raw text for a URL: sometimes percent-encoded, sometimes not, sometimes broken escapes. */
const rawText = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.string({ maxLength: 30, unit: 'grapheme' }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9%._~:/,+-]{0,30}$/),
  fc.constantFrom('%', '%zz', '%E2%82', '%00', '__proto__', 'constructor', '[]', 'a[b]=c', '&&', '=', '..'),
);

const interestingValue = fc.oneof(
  rawText,
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1e3',
    'NaN',
    'Infinity',
    '9007199254740993',
    '999999999999999',
    '2021-02-29',
    '2020-02-29',
    '0000-01-01',
    '9999-12-31T23:59:59Z',
    '2021-01-01T24:00:00Z',
    '2021-13-01',
    '2021-01-01T00:00:00.123456789+14:00',
    'binance',
    'BTC%2FUSDT',
    '1h',
    '1w',
    'CandleClosed',
    'CandleClosed,CandleGapDetected',
    'market-',
    'desc',
    'asc',
    'true',
    '',
  ),
  fc.base64String({ maxLength: 40 }),
);

const paramName = fc.oneof(
  fc.constantFrom(
    'exchange',
    'symbol',
    'timeframe',
    'from',
    'to',
    'limit',
    'cursor',
    'type',
    'streamPrefix',
    'after',
    'before',
    'order',
  ),
  rawText,
);

const path = fc.constantFrom(
  '/v1/candles',
  '/v1/markets',
  '/v1/events',
  '/v1/projections',
  '/health/ready',
  '/health/live',
  '/openapi.json',
  '/v1/accounts/main/pause',
);

describe.skipIf(backend.skipReason !== null)('fuzzed API input never gives a 5xx', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await openApi(backend);
    await appendMarket(
      f.store,
      await candleEvents(BTC_1H, { exchange: EXCHANGE, symbol: 'BTC/USDT', timeframe: '1h' }, 200),
    );
    await f.runner.catchUp();
  });
  afterAll(async () => f?.close());

  it('query strings of read endpoints', async () => {
    seen.clear();
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.array(fc.tuple(paramName, interestingValue), { maxLength: 6 }),
        fc.boolean(),
        async (p, params, valid) => {
          // half the time start from a valid candles query, so deeper code paths are reached
          const base =
            valid && p === '/v1/candles' ? [`exchange=${EXCHANGE}`, 'symbol=BTC%2FUSDT', 'timeframe=1h'] : [];
          const query = [...base, ...params.map(([k, v]) => `${k}=${v}`)].join('&');
          const url = query ? `${p}?${query}` : p;
          const res = await f.app.inject({ method: 'GET', url });
          expectNoServerError(res, `GET ${url}`);
        },
      ),
      { numRuns: 400 },
    );
    expect(seen.get('2xx')).toBeGreaterThan(20);
  });

  it('cursors with a valid scope but any key', async () => {
    const key = fc.array(
      fc.oneof(
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double(),
        fc.string({ maxLength: 20 }),
        fc.constant(null),
        fc.constant({}),
        fc.constantFrom('a\u0000', '\ud800', 'binance'),
      ),
      { maxLength: 4 },
    );
    const routes: [string, string, Record<string, unknown>][] = [
      [
        '/v1/candles',
        `exchange=${EXCHANGE}&symbol=BTC%2FUSDT&timeframe=1h`,
        { exchange: EXCHANGE, symbol: 'BTC/USDT', timeframe: '1h' },
      ],
      ['/v1/markets', '', {}],
      ['/v1/events', '', { order: 'asc' }],
      ['/v1/events', 'order=desc', { order: 'desc' }],
    ];
    seen.clear();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), key, async ([route, query, filters], k) => {
        const cursor = encodeCursor(scopeOf(route, filters), k as (string | number)[]);
        const url = `${route}?${query}${query ? '&' : ''}cursor=${cursor}`;
        const res = await f.app.inject({ method: 'GET', url });
        expectNoServerError(res, `GET ${url} (key ${JSON.stringify(k)})`);
      }),
      { numRuns: 200 },
    );
    console.log('fuzzed cursors:', Object.fromEntries(seen));
  });

  it('bodies, headers and accounts of control endpoints', async () => {
    seen.clear();
    for (const account of ['paper-main', 'paper-acct-1', 'paper-a.b:c_d'])
      await existingAccount(f.store, account);
    const validBody = fc
      .record(
        {
          reason: fc.string({ minLength: 1, maxLength: 100, unit: 'grapheme' }),
          actor: fc.string({ minLength: 1, maxLength: 20 }),
        },
        { requiredKeys: ['reason'] },
      )
      .map((v) => JSON.stringify(v));
    const body = fc.oneof(
      { arbitrary: validBody, weight: 4 },
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            reason: fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.constant(null)),
            actor: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
      fc.constantFrom(
        '',
        '{',
        '{"reason":"x"}',
        '{"reason":"a\\u0000b"}',
        '{"reason":"\\ud800"}',
        '{"reason":"x","__proto__":{"a":1}}',
        'null',
        '[]',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('pause', 'resume', 'kill-switch', 'liquidate', 'explode'),
        fc.oneof(
          {
            arbitrary: fc.constantFrom('paper-main', 'paper-acct-1', 'paper-a.b:c_d', 'control-paper-main'),
            weight: 3,
          },
          rawText,
        ),
        body,
        fc.oneof(
          { arbitrary: fc.constant('application/json'), weight: 4 },
          fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'multipart/form-data', undefined),
        ),
        fc.oneof(
          { arbitrary: fc.constant(`Bearer ${TOKEN}`), weight: 4 },
          fc.constantFrom('Bearer nope', '', undefined),
        ),
        fc.option(rawText),
        async (action, account, payload, contentType, authorization, idempotencyKey) => {
          const headers: Record<string, string> = {};
          if (contentType !== undefined) headers['content-type'] = contentType;
          if (authorization !== undefined) headers.authorization = authorization;
          if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
          const url = `/v1/accounts/${account}/${action}`;
          const res = await f.app.inject({ method: 'POST', url, headers, payload });
          expectNoServerError(res, `POST ${url} ${JSON.stringify(headers)} ${payload}`);
        },
      ),
      { numRuns: 300 },
    );
    expect(seen.get('2xx')).toBeGreaterThan(5);
  });
});

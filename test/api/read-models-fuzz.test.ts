import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem.js';
import {
  appendInOrder,
  backtestOrder,
  defaultBars,
  type KernelRun,
  kernelRun,
  uniqueNames,
} from '../projections/support.js';
import { backends } from '../support/backends.js';
import { type ApiFixture, openApi } from './support.js';

/**
 * Whatever the query and path parameters of the read-model endpoints, the API answers a 2xx or
 * a 4xx problem, never a 5xx (over the read models of a real backtest).
 */

const backend = backends[0]!;
const seen = new Map<string, number>();

function expectNoServerError(res: LightMyRequestResponse, what: string) {
  const kind = `${Math.floor(res.statusCode / 100)}xx`;
  seen.set(kind, (seen.get(kind) ?? 0) + 1);
  expect(res.statusCode, `${what} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(res.headers['content-type'], what).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.json().status, what).toBe(res.statusCode);
  }
}

const rawText = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9%._~:/,+-]{0,30}$/),
  fc.constantFrom('%', '%zz', '%00', '__proto__', '..', '%2F', 'a%2Fb'),
);

describe.skipIf(backend.skipReason !== null)('fuzzed read-model requests never give a 5xx', () => {
  let f: ApiFixture;
  let run: KernelRun;
  beforeAll(async () => {
    f = await openApi(backend);
    run = kernelRun({ ...uniqueNames('fz'), bars: defaultBars(500) });
    await appendInOrder(f.store, backtestOrder(run));
    await f.runner.catchUp();
  });
  afterAll(async () => f?.close());

  it('query strings and path parameters', async () => {
    const value = fc.oneof(
      rawText,
      fc.integer().map(String),
      fc.double().map(String),
      fc.constantFrom(
        run.account,
        run.runId,
        'BTC%2FUSDT',
        'ema-cross',
        'rsi-reversion',
        'closed',
        'open',
        'filled',
        'rejected',
        'buy',
        'long',
        'day',
        'week',
        'month',
        'mark',
        'backtest',
        '2017-09-01',
        '2017-02-30',
        '1504224000000',
        '-1',
        '0',
        '',
      ),
    );
    const name = fc.oneof(
      fc.constantFrom(
        'account',
        'symbol',
        'strategy',
        'status',
        'side',
        'direction',
        'outcome',
        'rule',
        'from',
        'to',
        'interval',
        'period',
        'mode',
        'limit',
        'cursor',
      ),
      rawText,
    );
    const path = fc.oneof(
      fc.constantFrom(
        '/v1/accounts',
        '/v1/positions',
        '/v1/orders',
        '/v1/fills',
        '/v1/trades',
        '/v1/equity',
        '/v1/pnl',
        '/v1/signals',
        '/v1/risk-decisions',
        '/v1/trading-halts',
        '/v1/strategies',
        '/v1/predictions',
        '/v1/backtests',
      ),
      fc
        .tuple(
          fc.constantFrom('/v1/accounts/', '/v1/backtests/', '/v1/explain/'),
          fc.oneof(rawText, fc.constant(run.runId)),
        )
        .map(([p, v]) => `${p}${v}`),
      rawText.map((v) => `/v1/backtests/${v}/trades`),
    );
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.array(fc.tuple(name, value), { maxLength: 5 }),
        fc.boolean(),
        async (p, params, withAccount) => {
          const base = withAccount ? [`account=${run.account}`] : [];
          const query = [...base, ...params.map(([k, v]) => `${k}=${v}`)].join('&');
          const url = query ? `${p}?${query}` : p;
          expectNoServerError(await f.app.inject({ method: 'GET', url }), `GET ${url}`);
        },
      ),
      { numRuns: 400 },
    );
    expect(seen.get('2xx')).toBeGreaterThan(20);
    expect(seen.get('4xx')).toBeGreaterThan(20);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkToken } from '../../src/api/auth.js';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem.js';
import { buildApi } from '../../src/api/server.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { ConfigError } from '../../src/domain/errors.js';
import { backends } from '../support/backends.js';
import { collect } from '../support/test-events.js';
import { type ApiFixture, existingAccount, openApi, TOKEN } from './support.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const auth = { authorization: `Bearer ${TOKEN}` };

for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`control endpoints on ${backend.name}`, () => {
    let f: ApiFixture;
    beforeAll(async () => {
      f = await openApi(backend, { clock: () => NOW });
    });
    afterAll(async () => f?.close());

    it('appends each action as its control event and answers 202 with id and position', async () => {
      const account = await existingAccount(f.store);
      const actions = [
        ['pause', 'TradingPaused'],
        ['kill-switch', 'KillSwitchEngaged'],
        ['liquidate', 'LiquidationRequested'],
        ['resume', 'TradingResumed'],
      ] as const;
      const answers = [];
      for (const [path, type] of actions) {
        const res = await f.app.inject({
          method: 'POST',
          url: `/v1/accounts/${account}/${path}`,
          headers: auth,
          payload: { actor: 'alice', reason: `${path} for the test` },
        });
        expect(res.statusCode, res.body).toBe(202);
        const body = res.json();
        expect(body).toMatchObject({
          type,
          stream: `control-${account}`,
          occurredAt: NOW,
          duplicate: false,
        });
        answers.push(body);
      }
      const stored = await collect(f.store.readStream(`control-${account}`));
      expect(stored.map((e) => [e.id, e.type, e.revision, e.position])).toEqual(
        answers.map((a) => [a.id, a.type, a.revision, a.position]),
      );
      expect(stored[0]!.data).toEqual({ account, actor: 'alice', reason: 'pause for the test' });
      expect(stored[0]!.metadata.occurredAt).toBe(NOW);
      // and the log endpoint shows them
      const log = (await f.app.inject(`/v1/events?streamPrefix=control-${account}`)).json();
      expect(log.data.map((e: { type: string }) => e.type)).toEqual(actions.map((a) => a[1]));
    });

    it('an account that does not exist is a 404 problem, and nothing is recorded', async () => {
      const account = `paper-${'typo'}${Date.now()}`;
      const res = await f.app.inject({
        method: 'POST',
        url: `/v1/accounts/${account}/kill-switch`,
        headers: auth,
        payload: { reason: 'a typo in the name' },
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({
        status: 404,
        detail: `no trading account ${account} (paper-<name>): /v1/accounts lists them`,
      });
      expect(await f.store.streamRevision(`control-${account}`)).toBe(-1);
    });

    it('defaults the actor, and an Idempotency-Key makes a retry return the first append', async () => {
      const account = await existingAccount(f.store);
      const request = {
        method: 'POST' as const,
        url: `/v1/accounts/${account}/pause`,
        headers: { ...auth, 'idempotency-key': 'retry-1' },
        payload: { reason: 'volatility' },
      };
      const first = await f.app.inject(request);
      const again = await f.app.inject(request);
      expect(first.statusCode).toBe(202);
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
      const stored = await collect(f.store.readStream(`control-${account}`));
      expect(stored).toHaveLength(1);
      expect(stored[0]!.data).toEqual({ account, actor: 'api', reason: 'volatility' });
      const changed = await f.app.inject({ ...request, payload: { reason: 'something else' } });
      expect(changed.statusCode).toBe(409);
      expect(changed.json().code).toBe('idempotency-key-reused');
      // the same key on another account or action is another request
      const other = await f.app.inject({ ...request, url: `/v1/accounts/${account}/resume` });
      expect(other.json().duplicate).toBe(false);
    });

    it('needs the bearer token: 401 without or with a wrong one, before looking at the body', async () => {
      const url = `/v1/accounts/${await existingAccount(f.store)}/kill-switch`;
      for (const headers of [
        {},
        { authorization: 'Basic dXNlcjpwYXNz' },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: 'Bearer wrong' },
      ]) {
        const res = await f.app.inject({ method: 'POST', url, headers, payload: 'not even json' });
        expect(res.statusCode, JSON.stringify(headers)).toBe(401);
        expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tradekernel"/);
        expect(res.json()).toMatchObject({ status: 401, title: 'Unauthorized', instance: url });
      }
      const lower = await f.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `bearer ${TOKEN}` },
        payload: { reason: 'scheme names are case-insensitive' },
      });
      expect(lower.statusCode).toBe(202);
    });

    it('validates params and body with 400 problems naming the field', async () => {
      const cases: [string, unknown, string][] = [
        ['/v1/accounts/main/pause', {}, 'reason'],
        ['/v1/accounts/main/pause', { reason: '' }, 'reason'],
        ['/v1/accounts/main/pause', { reason: 'x'.repeat(2001) }, 'reason'],
        ['/v1/accounts/main/pause', { reason: 'ok', actor: '' }, 'actor'],
        ['/v1/accounts/main/pause', { reason: 'ok', extra: 1 }, 'extra'],
        ['/v1/accounts/main/pause', [1, 2], 'body'],
        ['/v1/accounts/-main/pause', { reason: 'ok' }, 'account'],
        [`/v1/accounts/${'a'.repeat(192)}/pause`, { reason: 'ok' }, 'account'],
      ];
      for (const [url, payload, field] of cases) {
        const res = await f.app.inject({ method: 'POST', url, headers: auth, payload: payload as object });
        expect(res.statusCode, `${url} ${JSON.stringify(payload)}`).toBe(400);
        expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        expect(res.json().errors[0].field).toBe(field);
        expect(res.json().detail).toContain(field);
      }
      const text = await f.app.inject({
        method: 'POST',
        url: '/v1/accounts/main/pause',
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: 'pause please',
      });
      expect(text.statusCode).toBe(415);
      expect(text.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
      const broken = await f.app.inject({
        method: 'POST',
        url: '/v1/accounts/main/pause',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"reason":',
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    });

    it('without a configured token the control endpoints are disabled with a 403 saying how to enable them', async () => {
      for (const token of [undefined, '']) {
        const app = await buildApi({
          store: f.store,
          database: f.database,
          catalogue: createCatalogue(),
          projections: f.runner,
          token,
        });
        const res = await app.inject({
          method: 'POST',
          url: '/v1/accounts/main/pause',
          headers: auth,
          payload: { reason: 'x' },
        });
        expect(res.statusCode).toBe(403);
        expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
        expect(res.json()).toMatchObject({ code: 'control-disabled', status: 403 });
        expect(res.json().detail).toContain('TRADEKERNEL_API_TOKEN');
        await app.close();
      }
    });
  });
}

describe('API token configuration', () => {
  it('refuses weak tokens and treats empty as not configured', () => {
    expect(checkToken(undefined)).toBeUndefined();
    expect(checkToken('')).toBeUndefined();
    expect(checkToken(TOKEN)).toBe(TOKEN);
    expect(() => checkToken('short')).toThrow(ConfigError);
    expect(() => checkToken(`${TOKEN} with spaces`)).toThrow(/at least 24 characters without spaces/);
  });
});

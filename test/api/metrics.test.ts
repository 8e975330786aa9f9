import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentEventStore } from '../../src/adapters/metrics/instrumented-event-store.js';
import { TradekernelMetrics } from '../../src/adapters/metrics/metrics.js';
import { backends } from '../support/backends.js';
import { type ApiFixture, appendMarket, BTC_1H, candleEvents, openApi, uniqueExchange } from './support.js';

/** `name{labels} value` lines of the exposition, without comments. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describe('metrics module', () => {
  it('registers every metric with its typed API and the process metrics', async () => {
    const metrics = new TradekernelMetrics({ version: '1.2.3' });
    metrics.observeExchangeRequest({ exchange: 'binance', operation: 'fetchOHLCV' }, 0.2, 'ok');
    await expect(
      metrics.timeExchangeRequest({ exchange: 'binance', operation: 'createOrder' }, async () => {
        const error = new Error('rate limited');
        error.name = 'RateLimitExceeded';
        throw error;
      }),
    ).rejects.toThrow('rate limited');
    expect(
      await metrics.timeExchangeRequest({ exchange: 'binance', operation: 'fetchOHLCV' }, async () => 42),
    ).toBe(42);
    metrics.setPortfolio('main', { openPositions: 2, equity: 10_250.5, drawdown: 0.031, heat: 0.04 });
    metrics.setPortfolio('main', { openPositions: 1 });
    metrics.recordKernelEvents([
      { type: 'SignalEmitted', data: { account: 'main' } },
      { type: 'RiskDecisionMade', data: { account: 'main', outcome: 'resized' } },
      { type: 'RiskDecisionMade', data: { account: 'main', outcome: 'rejected' } },
      { type: 'OrderSubmitted', data: { account: 'main' } },
      { type: 'OrderFilled', data: { account: 'main' } },
      { type: 'TradingHalted', data: { account: 'main' } },
    ]);
    metrics.recordDecision('main', 'signal', 2);

    const s = samples(await metrics.render());
    expect(s.get('tradekernel_build_info{version="1.2.3",node="' + process.version + '"}')).toBe(1);
    expect(
      s.get(
        'tradekernel_exchange_request_duration_seconds_count{exchange="binance",operation="fetchOHLCV",outcome="ok"}',
      ),
    ).toBe(2);
    expect(
      s.get(
        'tradekernel_exchange_request_errors_total{exchange="binance",operation="createOrder",kind="RateLimitExceeded"}',
      ),
    ).toBe(1);
    expect(s.get('tradekernel_open_positions{account="main"}')).toBe(1);
    expect(s.get('tradekernel_equity{account="main"}')).toBe(10_250.5);
    expect(s.get('tradekernel_drawdown_ratio{account="main"}')).toBe(0.031);
    expect(s.get('tradekernel_portfolio_heat_ratio{account="main"}')).toBe(0.04);
    expect(s.get('tradekernel_kernel_decisions_total{account="main",decision="signal"}')).toBe(3);
    expect(s.get('tradekernel_kernel_decisions_total{account="main",decision="risk_resized"}')).toBe(1);
    expect(s.get('tradekernel_kernel_decisions_total{account="main",decision="risk_rejected"}')).toBe(1);
    expect(s.get('tradekernel_kernel_decisions_total{account="main",decision="order_submitted"}')).toBe(1);
    expect(s.get('tradekernel_kernel_decisions_total{account="main",decision="halt"}')).toBe(1);
    expect(s.has('process_cpu_user_seconds_total')).toBe(true);
    expect(s.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('scrape-time gauges read their source; a failing source shows as down, not as stale lag', async () => {
    const metrics = new TradekernelMetrics({ defaultMetrics: false });
    let fail = false;
    metrics.watchEventLog(async () => {
      if (fail) throw new Error('down');
      return 1234;
    });
    metrics.watchProjections(async () => {
      if (fail) throw new Error('down');
      return [{ name: 'candles', position: 1200, lag: 7 }];
    });
    const up = samples(await metrics.render());
    expect(up.get('tradekernel_event_log_head_position')).toBe(1234);
    expect(up.get('tradekernel_event_store_up')).toBe(1);
    expect(up.get('tradekernel_projection_lag_events{projection="candles"}')).toBe(7);
    expect(up.get('tradekernel_projection_position{projection="candles"}')).toBe(1200);
    fail = true;
    const down = samples(await metrics.render());
    expect(down.get('tradekernel_event_store_up')).toBe(0);
    expect(down.has('tradekernel_projection_lag_events{projection="candles"}')).toBe(false);
  });
});

for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`/metrics on ${backend.name}`, () => {
    let f: ApiFixture;
    beforeAll(async () => {
      f = await openApi(backend);
    });
    afterAll(async () => f?.close());

    it('counts appends through the instrumented store (retries not counted) and times them', async () => {
      const metrics = new TradekernelMetrics({ defaultMetrics: false });
      const store = instrumentEventStore(f.store, metrics);
      const events = await candleEvents(
        BTC_1H,
        { exchange: uniqueExchange(), symbol: 'BTC/USDT', timeframe: '1h' },
        30,
      );
      await appendMarket(store, events);
      await appendMarket(store, events); // an idempotent retry
      await expect(store.append('bad stream name', events.slice(0, 1))).rejects.toThrow();
      const s = samples(await metrics.render());
      expect(s.get('tradekernel_events_appended_total{type="CandleClosed"}')).toBe(30);
      expect(s.get('tradekernel_event_store_append_duration_seconds_count{outcome="ok"}')).toBe(2);
      expect(s.get('tradekernel_event_store_append_duration_seconds_count{outcome="error"}')).toBe(1);
      expect(await store.headPosition()).toBe(await f.store.headPosition());
    });

    it('exposes API latency by route template and status, projection lag and the log head', async () => {
      const exchange = uniqueExchange();
      await appendMarket(
        f.store,
        await candleEvents(BTC_1H, { exchange, symbol: 'BTC/USDT', timeframe: '1h' }, 20),
      );
      await f.app.inject(`/v1/candles?exchange=${exchange}&symbol=BTC%2FUSDT&timeframe=1h`);
      await f.app.inject('/v1/candles?exchange=binance');
      for (let i = 0; i < 3; i++) await f.app.inject(`/no/such/route/${i}`);
      await f.app.inject({
        method: 'POST',
        url: '/v1/accounts/a/pause',
        headers: { authorization: 'Bearer x' },
      });
      const res = await f.app.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const s = samples(res.body);
      // the candles were appended but not projected yet: lag 20 (at least)
      expect(s.get('tradekernel_projection_lag_events{projection="candles"}')).toBeGreaterThanOrEqual(20);
      expect(s.get('tradekernel_event_log_head_position')).toBe(await f.store.headPosition());
      const count = (route: string, status: number, method = 'GET') =>
        s.get(
          `tradekernel_http_request_duration_seconds_count{method="${method}",route="${route}",status="${status}"}`,
        );
      expect(count('/v1/candles', 404)).toBe(1);
      expect(count('/v1/candles', 400)).toBe(1);
      expect(count('(unmatched)', 404)).toBe(3);
      expect(count('/v1/accounts/:account/pause', 401, 'POST')).toBe(1);
      // raw URLs never become label values
      expect(res.body).not.toContain('/no/such/route');

      await f.runner.catchUp();
      const after = samples((await f.app.inject('/metrics')).body);
      expect(after.get('tradekernel_projection_lag_events{projection="candles"}')).toBe(0);
      expect(count('/v1/candles', 200)).toBeUndefined();
    });
  });
}

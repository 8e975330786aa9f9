import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem.js';
import type { PositionClosedData } from '../../src/domain/portfolio/events.js';
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
 * The read-model endpoints over a real backtest (the kernel on real BTC/USDT and ETH/USDT hourly
 * candles), stopped while it holds a position so every endpoint has something to show; and the
 * decision explanation of issue 8 over HTTP.
 */

/** The first length of the fixture after which the kernel holds a position at the end. */
function runWithOpenPosition(): KernelRun {
  for (let count = 900; count <= 3000; count += 37) {
    const run = kernelRun({ ...uniqueNames('api'), bars: defaultBars(count) });
    if (run.kernel.openPositions().length > 0) return run;
  }
  throw new Error('no cut of the fixture ends with an open position');
}

interface Page<T> {
  data: T[];
  page: { limit: number; cursor: string | null; next: string | null };
}

for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`read-model endpoints on ${backend.name}`, () => {
    let f: ApiFixture;
    let run: KernelRun;

    /** Every item of a list, following `next` links. */
    async function all<T>(url: string): Promise<T[]> {
      const items: T[] = [];
      let next: string | null = url;
      while (next) {
        const res = await f.app.inject(next);
        expect(res.statusCode, `${next}: ${res.body.slice(0, 300)}`).toBe(200);
        const body = res.json() as Page<T>;
        items.push(...body.data);
        next = body.page.next;
      }
      return items;
    }

    const of = <T>(type: string) =>
      run.outputs
        .flat()
        .filter((e) => e.type === type)
        .map((e) => e.data as T);

    beforeAll(async () => {
      f = await openApi(backend);
      run = runWithOpenPosition();
      await appendInOrder(f.store, backtestOrder(run));
      await f.runner.catchUp();
    });
    afterAll(async () => f?.close());

    it('accounts: the backtest account, completed, with the kernel’s equity', async () => {
      const accounts = await all<Record<string, unknown>>('/v1/accounts?mode=backtest&limit=2');
      const mine = accounts.find((a) => a.account === run.account)!;
      const status = run.kernel.status();
      expect(mine).toMatchObject({
        runId: run.runId,
        mode: 'backtest',
        state: 'completed',
        exchange: run.exchange,
        symbols: run.symbols,
        initialCash: 10_000,
        equity: status.equity,
        cash: status.cash,
        openPositions: run.kernel.openPositions().length,
        paused: false,
        killSwitch: false,
      });
      const one = await f.app.inject(`/v1/accounts/${run.account}`);
      expect(one.json()).toEqual(mine);
      const missing = await f.app.inject('/v1/accounts/nobody-here');
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    });

    it('positions: the kernel’s open positions, marked to the last close', async () => {
      const positions = await all<Record<string, unknown>>(`/v1/positions?account=${run.account}`);
      const open = run.kernel.openPositions();
      expect(open.length).toBeGreaterThan(0);
      // the API lists them by opening time, the kernel by symbol
      expect(
        positions
          .map((p) => [p.positionId, p.symbol, p.quantity, p.mark, p.unrealisedPnl, p.openedAt])
          .sort(),
      ).toEqual(
        open.map((p) => [p.positionId, p.symbol, p.quantity, p.mark, p.unrealisedPnl, p.entryTime]).sort(),
      );
    });

    it('orders and fills: every one, in pages, filtered by status and side', async () => {
      const submitted = of<{ clientOrderId: string }>('OrderSubmitted');
      const orders = await all<{ clientOrderId: string; status: string; submittedAt: number }>(
        `/v1/orders?account=${run.account}&limit=25`,
      );
      expect(orders.map((o) => o.clientOrderId).sort()).toEqual(submitted.map((s) => s.clientOrderId).sort());
      expect(orders.map((o) => o.submittedAt)).toEqual(
        [...orders.map((o) => o.submittedAt)].sort((a, b) => a - b),
      );
      const filled = await all<{ status: string }>(
        `/v1/orders?account=${run.account}&status=filled&side=sell`,
      );
      expect(filled.length).toBeGreaterThan(10);
      expect(filled.every((o) => o.status === 'filled')).toBe(true);
      const fills = await all<{ fee: number }>(`/v1/fills?account=${run.account}&limit=100`);
      expect(fills.length).toBe(of('OrderFilled').length);
      expect(fills.reduce((s, x) => s + x.fee, 0)).toBeCloseTo(run.kernel.status().fees, 6);
    });

    it('trades: the closed round trips with P&L and R-multiple; status=open the open ones', async () => {
      const trades = await all<{
        positionId: string;
        realisedPnl: number;
        rMultiple: number | null;
        exitReason: string;
      }>(`/v1/trades?account=${run.account}&limit=30`);
      const closed = run.kernel.closedTrades();
      const key = (x: { positionId: string }) => x.positionId;
      expect(trades.map((t) => [t.positionId, t.realisedPnl, t.rMultiple, t.exitReason]).sort()).toEqual(
        closed.map((t) => [t.positionId, t.pnl, t.rMultiple, t.exitReason]).sort(),
      );
      const open = await all<{ positionId: string }>(`/v1/trades?account=${run.account}&status=open`);
      expect(open.map(key).sort()).toEqual(run.kernel.openPositions().map(key).sort());
      const ema = await all<{ strategy: string }>(
        `/v1/trades?account=${run.account}&strategy=ema-cross&from=2017-09-01&to=2017-10-01`,
      );
      expect(ema.length).toBeGreaterThan(0);
      expect(ema.every((t) => t.strategy === 'ema-cross')).toBe(true);
    });

    it('equity: every mark of the kernel’s curve; daily closes; P&L per period', async () => {
      const marks = await all<{ time: number; equity: number }>(
        `/v1/equity?account=${run.account}&limit=700`,
      );
      const curve = run.kernel.equityCurve();
      expect(marks.map((m) => m.time)).toEqual([...curve.time]);
      expect(marks.map((m) => m.equity)).toEqual([...curve.equity]);
      const days = await all<{ time: number; equity: number }>(
        `/v1/equity?account=${run.account}&interval=day`,
      );
      const lastOfDay = new Map<number, number>();
      for (const [i, t] of curve.time.entries()) {
        lastOfDay.set(Math.floor((t - 1) / 86_400_000) * 86_400_000, curve.equity[i]!);
      }
      expect(days.map((d) => [d.time, d.equity])).toEqual([...lastOfDay.entries()]);
      const months = await all<{ pnl: number; realisedPnl: number; equity: number }>(
        `/v1/pnl?account=${run.account}&period=month`,
      );
      expect(months.reduce((s, m) => s + m.pnl, 0)).toBeCloseTo(run.kernel.status().equity - 10_000, 6);
      const realised = of<PositionClosedData>('PositionClosed').reduce((s, p) => s + p.realisedPnl, 0);
      expect(months.reduce((s, m) => s + m.realisedPnl, 0)).toBeCloseTo(realised, 6);
      const unknown = await f.app.inject('/v1/equity?account=nobody');
      expect(unknown.statusCode).toBe(404);
      const missing = await f.app.inject('/v1/pnl');
      expect(missing.statusCode).toBe(400);
    });

    it('signals, risk decisions, strategies, halts and predictions', async () => {
      const signals = await all<{ strategy: string }>(
        `/v1/signals?account=${run.account}&strategy=ema-cross&limit=50`,
      );
      expect(signals.length).toBe(
        of<{ strategy: string }>('SignalEmitted').filter((s) => s.strategy === 'ema-cross').length,
      );
      const rejected = await all<{ outcome: string; rule: string; checks: unknown[] }>(
        `/v1/risk-decisions?account=${run.account}&outcome=rejected&limit=50`,
      );
      expect(rejected.length).toBe(
        of<{ outcome: string }>('RiskDecisionMade').filter((d) => d.outcome === 'rejected').length,
      );
      expect(
        rejected.every((d) => d.outcome === 'rejected' && d.rule.length > 0 && d.checks.length > 0),
      ).toBe(true);
      const strategies = await all<{ strategy: string; precision: number | null; trades: number }>(
        `/v1/strategies?account=${run.account}`,
      );
      expect(strategies.map((s) => s.strategy)).toEqual(['ema-cross', 'rsi-reversion']);
      const closed = run.kernel.closedTrades().filter((t) => t.strategy === 'ema-cross');
      expect(strategies[0]!.precision).toBe(closed.filter((t) => t.pnl > 0).length / closed.length);
      expect((await f.app.inject(`/v1/trading-halts?account=${run.account}`)).statusCode).toBe(200);
      // a halt row as the risk projection writes one: every column reaches its field
      const haltAccount = `${run.account}-halt`;
      await sql`insert into readmodel.trading_halts values (${haltAccount}, '2024-03-01T00:00:00Z',
        'daily-loss', 'lost 5.2% today', 948, 1000, 52, 50, '2024-03-02T00:00:00Z',
        '00000000-0000-8000-8000-000000000001', 123456)`.execute(f.database.db);
      const halts = await all(`/v1/trading-halts?account=${haltAccount}`);
      expect(halts).toEqual([
        {
          account: haltAccount,
          time: Date.UTC(2024, 2, 1),
          rule: 'daily-loss',
          reason: 'lost 5.2% today',
          equity: 948,
          referenceEquity: 1000,
          loss: 52,
          limit: 50,
          until: Date.UTC(2024, 2, 2),
          position: 123456,
        },
      ]);
      const predictions = await f.app.inject(`/v1/predictions?account=${run.account}`);
      expect(predictions.statusCode).toBe(200);
      expect(predictions.json().data).toEqual([]);
    });

    it('backtests: the run, its recorded metrics and its results from the read models', async () => {
      const runs = await all<{ runId: string; status: string }>('/v1/backtests?status=completed');
      expect(runs.map((r) => r.runId)).toContain(run.runId);
      const strategy = await all<{ runId: string }>('/v1/backtests?strategy=rsi-reversion');
      expect(strategy.map((r) => r.runId)).toContain(run.runId);
      expect(await all('/v1/backtests?strategy=no-such-strategy')).toEqual([]);
      const res = await f.app.inject(`/v1/backtests/${run.runId}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      const status = run.kernel.status();
      expect(body).toMatchObject({
        runId: run.runId,
        account: run.account,
        status: 'completed',
        from: run.from,
        to: run.to,
        dataPoints: run.candles.length,
        metrics: { finalEquity: status.equity },
      });
      expect(body.results).toMatchObject({
        trades: run.kernel.closedTrades().length,
        openPositions: run.kernel.openPositions().length,
        finalEquity: status.equity,
        marks: run.kernel.equityCurve().time.length,
      });
      expect(body.results.maxDrawdown).toBeGreaterThan(0);
      const trades = await all<{ positionId: string }>(`/v1/backtests/${run.runId}/trades?limit=40`);
      expect(trades.length).toBe(run.kernel.closedTrades().length);
      expect((await f.app.inject('/v1/backtests/no-such-run')).statusCode).toBe(404);
      expect((await f.app.inject('/v1/backtests/no-such-run/trades')).statusCode).toBe(404);
      const bad = await f.app.inject(`/v1/backtests/${run.runId}/trades?cursor=abc`);
      expect(bad.statusCode).toBe(400);
    });

    it('GET /v1/explain/:id: the causal chain of a trade or an order as JSON; 404 when unknown', async () => {
      const trade =
        run.kernel.closedTrades().find((t) => t.exitReason === 'stop-loss') ?? run.kernel.closedTrades()[0]!;
      const res = await f.app.inject(`/v1/explain/${trade.positionId}`);
      expect(res.statusCode).toBe(200);
      const x = res.json();
      expect(x).toMatchObject({ kind: 'trade', id: trade.positionId, account: run.account });
      expect(x.entry.map((e: { type: string }) => e.type)).toEqual([
        'CandleClosed',
        'SignalEmitted',
        'RiskDecisionMade',
        'OrderSubmitted',
        'OrderFilled',
      ]);
      for (let i = 1; i < 4; i++) expect(x.entry[i].metadata.causationId).toBe(x.entry[i - 1].id);
      expect(x.entry[2].data.checks.length).toBeGreaterThan(0);
      expect(x.position.closed.data).toMatchObject({ positionId: trade.positionId, realisedPnl: trade.pnl });
      expect(x.exit.map((e: { type: string }) => e.type)).toContain('OrderFilled');
      expect(x.text).toContain('Why it bought:');
      expect(x.text).toContain('Risk     approved');
      // an exit order, asked with its account
      const exitOrder = x.exit.find((e: { type: string }) => e.type === 'OrderSubmitted').data.clientOrderId;
      const order = await f.app.inject(`/v1/explain/${exitOrder}?account=${run.account}`);
      expect(order.json()).toMatchObject({ kind: 'order', id: exitOrder });
      const unknown = await f.app.inject('/v1/explain/tk-000000000000-999');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
      expect(unknown.json()).toMatchObject({ status: 404, code: 'not-found' });
      const elsewhere = await f.app.inject(`/v1/explain/${trade.positionId}?account=bt-someone-else`);
      expect(elsewhere.statusCode).toBe(404);
      expect((await f.app.inject('/v1/explain/bad%20id')).statusCode).toBe(400);
    });

    it('the OpenAPI document lists every read-model endpoint', async () => {
      const doc = (await f.app.inject('/openapi.json')).json();
      for (const path of [
        '/v1/accounts',
        '/v1/accounts/{account}',
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
        '/v1/backtests/{runId}',
        '/v1/backtests/{runId}/trades',
        '/v1/explain/{id}',
      ]) {
        expect(doc.paths[path], path).toBeDefined();
      }
    });
  });
}

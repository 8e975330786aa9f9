import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/adapters/sql/database.js';
import type { PositionClosedData } from '../../src/domain/portfolio/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { type PeriodKind, periodEnd, periodKey } from '../../src/domain/risk/utc-periods.js';
import { EQUITY_ROLLUPS } from '../../src/projections/equity.js';
import { allProjectors, ProjectionRunner } from '../../src/projections/index.js';
import { refreshRollups } from '../../src/projections/timeseries.js';
import { backends } from '../support/backends.js';
import {
  appendInOrder,
  backtestOrder,
  createCatalogue,
  freshReadModels,
  type KernelRun,
  kernelRun,
  labelOf,
  readModelBackends,
  uniqueNames,
} from './support.js';

/**
 * Every read model over one real backtest: the kernel with ema-cross and rsi-reversion over
 * 3,000 real hourly BTC/USDT candles and 2,600 ETH/USDT ones (ETH starts later), appended as a
 * backtest writes its log (market data first, then the account stream), then projected. Each
 * table is checked against the kernel's own view of the run.
 */

const ms = (value: unknown) => new Date(value as string).getTime();

const outputsOf = <T>(run: KernelRun, type: string) =>
  run.outputs
    .flat()
    .filter((e) => e.type === type)
    .map((e) => e.data as T);

async function rows<T>(database: SqlDatabase, query: string): Promise<T[]> {
  return (await sql.raw(query).execute(database.db)).rows as T[];
}

/** The kernel's marks grouped by the period holding T - 1 ms: first, last, high, low, count. */
function periodsOf(run: KernelRun, kind: PeriodKind) {
  const { time, equity } = run.kernel.equityCurve();
  const out: { period: number; open: number; close: number; high: number; low: number; marks: number }[] = [];
  let key = Number.NaN;
  for (let i = 0; i < time.length; i++) {
    const k = periodKey(kind, time[i]! - 1);
    if (k !== key) {
      key = k;
      out.push({
        period: periodEnd(kind, k - 1),
        open: equity[i]!,
        close: equity[i]!,
        high: -Infinity,
        low: Infinity,
        marks: 0,
      });
    }
    const p = out.at(-1)!;
    p.close = equity[i]!;
    p.high = Math.max(p.high, equity[i]!);
    p.low = Math.min(p.low, equity[i]!);
    p.marks++;
  }
  return out;
}

for (const backend of readModelBackends(backends)) {
  const label = labelOf(backend);
  describe.skipIf(backend.skipReason !== null)(`read models of a real backtest on ${label}`, () => {
    let store: EventStore;
    let database: SqlDatabase;
    let close: () => Promise<void>;
    let runner: ProjectionRunner;
    let run: KernelRun;

    beforeAll(async () => {
      const opened = await backend.open(createCatalogue());
      ({ store, close } = opened);
      database = opened.database!;
      await freshReadModels(database);
      run = kernelRun(uniqueNames('bt'));
      await appendInOrder(store, backtestOrder(run));
      runner = new ProjectionRunner(database, store, allProjectors());
      await runner.prepare();
      await runner.catchUp();
    });
    afterAll(async () => close?.());

    it('the equity curve is the kernel’s, mark for mark and bit for bit', async () => {
      const curve = run.kernel.equityCurve();
      const marks = await rows<{
        time: string;
        equity: number;
        cash: number;
        peak: number;
        drawdown: number;
      }>(
        database,
        `select time, equity, cash, peak, drawdown from readmodel.equity where account = '${run.account}' order by time`,
      );
      expect(marks.length).toBe(curve.time.length);
      expect(marks.map((m) => ms(m.time))).toEqual([...curve.time]);
      expect(marks.map((m) => m.equity)).toEqual([...curve.equity]);
      const status = run.kernel.status();
      expect(marks.at(-1)!.cash).toBe(status.cash);
      expect(Math.max(...marks.map((m) => m.peak))).toBe(status.peakEquity);
      expect(marks.at(-1)!.drawdown).toBe(status.drawdown);
      expect(curve.time.length).toBe(
        new Set(run.candles.map((c) => (c.data as { closeTime: number }).closeTime)).size,
      );
    });

    it('trades are the kernel’s closed trades; positions its open positions', async () => {
      const trades = await rows<{
        position_id: string;
        realised_pnl: number;
        r_multiple: number | null;
        exit_reason: string;
        strategy: string;
        status: string;
      }>(
        database,
        `select position_id, realised_pnl, r_multiple, exit_reason, strategy, status from readmodel.trades
         where account = '${run.account}' and status = 'closed' order by closed_at, closed_position`,
      );
      const closed = run.kernel.closedTrades();
      expect(closed.length).toBeGreaterThan(50);
      expect(
        trades.map((t) => [t.position_id, t.realised_pnl, t.r_multiple, t.exit_reason, t.strategy]),
      ).toEqual(closed.map((t) => [t.positionId, t.pnl, t.rMultiple, t.exitReason, t.strategy]));
      const open = await rows<{
        position_id: string;
        quantity: number;
        mark: number;
        unrealised_pnl: number;
      }>(
        database,
        `select position_id, quantity, mark, unrealised_pnl from readmodel.open_positions where account = '${run.account}' order by symbol`,
      );
      const kernelOpen = run.kernel.openPositions();
      expect(open.map((p) => [p.position_id, p.quantity, p.mark, p.unrealised_pnl])).toEqual(
        kernelOpen.map((p) => [p.positionId, p.quantity, p.mark, p.unrealisedPnl]),
      );
      const openTrades = await rows<{ n: number }>(
        database,
        `select count(*)::int as n from readmodel.trades where account = '${run.account}' and status = 'open'`,
      );
      expect(openTrades[0]!.n).toBe(kernelOpen.length);
    });

    it('orders carry their state from the order events; fills every fill', async () => {
      const submitted = outputsOf<{ clientOrderId: string }>(run, 'OrderSubmitted');
      const fills = outputsOf<{ clientOrderId: string; fee: number; notional: number }>(run, 'OrderFilled');
      const ended = new Map<string, string>();
      for (const type of ['OrderCancelled', 'OrderRejected', 'OrderExpired']) {
        for (const d of outputsOf<{ clientOrderId: string }>(run, type)) ended.set(d.clientOrderId, type);
      }
      const orders = await rows<{
        client_order_id: string;
        status: string;
        fills: number;
        fees: number;
        filled_quantity: number;
      }>(
        database,
        `select client_order_id, status, fills, fees, filled_quantity from readmodel.orders where account = '${run.account}'`,
      );
      expect(orders.length).toBe(submitted.length);
      const byId = new Map(orders.map((o) => [o.client_order_id, o]));
      for (const s of submitted) {
        const o = byId.get(s.clientOrderId)!;
        const its = fills.filter((f) => f.clientOrderId === s.clientOrderId);
        expect(o.fills).toBe(its.length);
        const end = ended.get(s.clientOrderId);
        expect(o.status).toBe(
          end === 'OrderCancelled'
            ? 'cancelled'
            : end === 'OrderRejected'
              ? 'rejected'
              : end === 'OrderExpired'
                ? 'expired'
                : its.length === 0
                  ? 'submitted'
                  : 'filled',
        );
      }
      const [fillRow] = await rows<{ n: number; fees: number }>(
        database,
        `select count(*)::int as n, sum(fee) as fees from readmodel.fills where account = '${run.account}'`,
      );
      expect(fillRow!.n).toBe(fills.length);
      expect(fillRow!.fees).toBeCloseTo(run.kernel.status().fees, 6);
      const daily = await rows<{ fills: number; fees: number }>(
        database,
        `select sum(fills)::int as fills, sum(fees) as fees from readmodel.fills_daily where account = '${run.account}'`,
      );
      expect(daily[0]!.fills).toBe(fills.length);
      expect(daily[0]!.fees).toBeCloseTo(run.kernel.status().fees, 6);
    });

    it('signals, risk decisions with the deciding rule and its numbers, per-strategy performance', async () => {
      const signals = outputsOf<{ strategy: string }>(run, 'SignalEmitted');
      const decisions = outputsOf<{
        outcome: string;
        rule: string;
        checks: { rule: string; value: number | null; limit: number | null }[];
      }>(run, 'RiskDecisionMade');
      const [s] = await rows<{ n: number }>(
        database,
        `select count(*)::int as n from readmodel.signals where account = '${run.account}'`,
      );
      expect(s!.n).toBe(signals.length);
      const risk = await rows<{
        outcome: string;
        rule: string;
        rule_value: number | null;
        rule_limit: number | null;
        equity: number | null;
        signal_id: string;
      }>(
        database,
        `select outcome, rule, rule_value, rule_limit, equity, signal_id from readmodel.risk_decisions
         where account = '${run.account}' order by time, event_position`,
      );
      expect(risk.map((r) => [r.outcome, r.rule])).toEqual(decisions.map((d) => [d.outcome, d.rule]));
      expect(risk.filter((r) => r.outcome === 'rejected').length).toBeGreaterThan(0);
      risk.forEach((r, i) => {
        const deciding = [...decisions[i]!.checks].reverse().find((c) => c.rule === decisions[i]!.rule);
        expect([r.rule_value, r.rule_limit]).toEqual([deciding?.value ?? null, deciding?.limit ?? null]);
      });
      // every decision links to its signal
      const linked = await rows<{ n: number }>(
        database,
        `select count(*)::int as n from readmodel.risk_decisions d join readmodel.signals s on s.event_id = d.signal_id
         where d.account = '${run.account}'`,
      );
      expect(linked[0]!.n).toBe(decisions.length);
      const stats = await rows<{
        strategy: string;
        signals: number;
        trades: number;
        winners: number;
        precision: number;
        realised_pnl: number;
        pnl_contribution: number;
      }>(
        database,
        `select strategy, signals::int, trades::int, winners::int, precision, realised_pnl, pnl_contribution
         from readmodel.strategy_stats where account = '${run.account}' order by strategy`,
      );
      const closed = run.kernel.closedTrades();
      const total = closed.reduce((sum, t) => sum + t.pnl, 0);
      for (const st of stats) {
        const mine = closed.filter((t) => t.strategy === st.strategy);
        expect(st.signals).toBe(signals.filter((x) => x.strategy === st.strategy).length);
        expect(st.trades).toBe(mine.length);
        expect(st.winners).toBe(mine.filter((t) => t.pnl > 0).length);
        expect(st.precision).toBe(mine.filter((t) => t.pnl > 0).length / mine.length);
        // summed trade by trade in log order, as the kernel closes them
        expect(st.realised_pnl).toBe(mine.reduce((sum, t) => sum + t.pnl, 0));
        expect(st.pnl_contribution).toBeCloseTo(st.realised_pnl / total, 12);
      }
      expect(stats.map((x) => x.strategy)).toEqual(['ema-cross', 'rsi-reversion']);
    });

    for (const [kind, suffix] of [
      ['day', 'daily'],
      ['week', 'weekly'],
      ['month', 'monthly'],
    ] as const) {
      it(`${suffix} P&L rolls the curve up: last mark of the period against the one before`, async () => {
        const expected = periodsOf(run, kind);
        const got = await rows<{
          period: string;
          open_equity: number;
          equity: number;
          high_equity: number;
          low_equity: number;
          pnl: number;
          return: number;
          marks: string;
          realised_pnl: number;
        }>(
          database,
          `select period, open_equity, equity, high_equity, low_equity, pnl, return, marks, realised_pnl
           from readmodel.pnl_${suffix} where account = '${run.account}' order by period`,
        );
        expect(got.map((g) => ms(g.period))).toEqual(expected.map((e) => e.period));
        expect(
          got.map((g) => [g.open_equity, g.equity, g.high_equity, g.low_equity, Number(g.marks)]),
        ).toEqual(expected.map((e) => [e.open, e.close, e.high, e.low, e.marks]));
        expect(got.map((g) => g.pnl)).toEqual(
          expected.map((e, i) => e.close - (i === 0 ? run.initialCash : expected[i - 1]!.close)),
        );
        expect(got.map((g) => g.return)).toEqual(
          expected.map((e, i) => e.close / (i === 0 ? run.initialCash : expected[i - 1]!.close) - 1),
        );
        const realised = got.reduce((sum, g) => sum + g.realised_pnl, 0);
        expect(realised).toBeCloseTo(run.kernel.status().realisedPnl, 6);
        // realised P&L on the UTC period of the closing fill
        const byPeriod = new Map<number, number>();
        for (const p of outputsOf<PositionClosedData>(run, 'PositionClosed')) {
          const start = periodEnd(kind, periodKey(kind, p.exitTime) - 1);
          byPeriod.set(start, (byPeriod.get(start) ?? 0) + p.realisedPnl);
        }
        for (const g of got) expect(g.realised_pnl).toBeCloseTo(byPeriod.get(ms(g.period)) ?? 0, 6);
      });
    }

    it('runs and accounts: the run with its settings and results, the account and its state', async () => {
      const [r] = await rows<{
        account: string;
        mode: string;
        symbols: string[];
        initial_cash: number;
        completed_at: string | null;
        metrics: { finalEquity: number };
        data_points: string;
      }>(
        database,
        `select account, mode, symbols, initial_cash, completed_at, metrics, data_points from readmodel.runs where run_id = '${run.runId}'`,
      );
      expect(r).toMatchObject({
        account: run.account,
        mode: 'backtest',
        symbols: run.symbols,
        initial_cash: 10_000,
      });
      expect(ms(r!.completed_at)).toBe(run.to);
      expect(r!.metrics.finalEquity).toBe(run.kernel.status().equity);
      expect(Number(r!.data_points)).toBe(run.candles.length);
      const [a] = await rows<{ run_id: string; paused: boolean; kill_switch: boolean; runs: number }>(
        database,
        `select run_id, paused, kill_switch, runs from readmodel.accounts where account = '${run.account}'`,
      );
      expect(a).toEqual({ run_id: run.runId, paused: false, kill_switch: false, runs: 1 });
      const [latest] = await rows<{ equity: number }>(
        database,
        `select equity from readmodel.equity_latest where account = '${run.account}'`,
      );
      expect(latest!.equity).toBe(run.kernel.status().equity);
    });

    it('system health counts every candle that arrived, per market', async () => {
      const arrivals = await rows<{ symbol: string; candles: string }>(
        database,
        `select symbol, sum(candles) as candles from readmodel.candle_arrivals where exchange = '${run.exchange}' group by symbol order by symbol`,
      );
      const count = (symbol: string) =>
        run.candles.filter((c) => (c.data as { symbol: string }).symbol === symbol).length;
      expect(arrivals.map((a) => [a.symbol, Number(a.candles)])).toEqual([
        ['BTC/USDT', count('BTC/USDT')],
        ['ETH/USDT', count('ETH/USDT')],
      ]);
      const hourly = await rows<{ candles: string; success_rate: number }>(
        database,
        'select candles, success_rate from readmodel.collection_hourly',
      );
      expect(hourly.reduce((s, h) => s + Number(h.candles), 0)).toBeGreaterThanOrEqual(run.candles.length);
    });

    it('predictions stay empty: the built-in strategies do not forecast (nothing is made up)', async () => {
      const [p] = await rows<{ n: number }>(
        database,
        `select count(*)::int as n from readmodel.predictions where account = '${run.account}'`,
      );
      expect(p!.n).toBe(0);
    });

    it('every projection caught up: lag 0, checkpoints at their last events', async () => {
      const status = await runner.status();
      expect(status.map((s) => s.name)).toEqual(allProjectors().map((p) => p.name));
      for (const s of status) expect(s.lag, s.name).toBe(0);
      const head = await store.headPosition();
      expect(Math.max(...status.map((s) => s.position))).toBe(head);
      expect(await runner.catchUp()).toBe(0);
    });

    // the TimescaleDB build only (registered there alone: elsewhere it does not apply)
    if (label === 'pglite+timescaledb')
      it('TimescaleDB: time series are hypertables, rollups continuous aggregates that follow a rebuild', async () => {
        const hypertables = await rows<{ name: string }>(
          database,
          "select hypertable_name as name from timescaledb_information.hypertables where hypertable_schema = 'readmodel' order by 1",
        );
        expect(hypertables.map((h) => h.name)).toEqual([
          'candle_arrivals',
          'candles',
          'equity',
          'equity_closes',
          'equity_ledger',
          'fills',
          'health_events',
          'predictions',
          'risk_decisions',
          'signals',
        ]);
        const aggregates = await rows<{ name: string; materialized_only: boolean }>(
          database,
          "select view_name as name, materialized_only from timescaledb_information.continuous_aggregates where view_schema = 'readmodel' order by 1",
        );
        expect(aggregates).toEqual(
          ['equity_daily', 'fills_daily'].map((name) => ({
            name,
            materialized_only: false,
          })),
        );
        // the aggregates were refreshed: their buckets are materialized
        const tables = await rows<{ name: string }>(
          database,
          `select format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) as name
           from timescaledb_information.continuous_aggregates where view_schema = 'readmodel'`,
        );
        for (const t of tables) {
          const [n] = await rows<{ n: number }>(database, `select count(*)::int as n from ${t.name}`);
          expect(n!.n, t.name).toBeGreaterThan(0);
        }
        const before = await rows(
          database,
          `select * from readmodel.pnl_daily where account = '${run.account}' order by period`,
        );
        // materialize wrong buckets; a rebuild rewrites the curve and must not keep them
        await sql`update readmodel.equity set equity = equity + 1 where account = ${run.account}`.execute(
          database.db,
        );
        await refreshRollups(database, EQUITY_ROLLUPS);
        const wrong = await rows(
          database,
          `select * from readmodel.pnl_daily where account = '${run.account}' order by period`,
        );
        expect(wrong).not.toEqual(before);
        await runner.rebuild('equity');
        const after = await rows(
          database,
          `select * from readmodel.pnl_daily where account = '${run.account}' order by period`,
        );
        expect(after).toEqual(before);
      });
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cagr,
  computeMetrics,
  dailyCloses,
  dailyReturns,
  drawdownCurve,
  maxDrawdown,
  sharpe,
  sortino,
  timeInMarket,
} from './metrics.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2021, 0, 1);

describe('performance metrics, against hand-computed values', () => {
  it('daily closes take the last point of each UTC day and carry empty days forward', () => {
    const times = [D0 + 3_600_000, D0 + 20 * 3_600_000, D0 + DAY + 1, D0 + 3 * DAY + 5];
    expect(dailyCloses(times, [100, 110, 105, 120])).toEqual([110, 105, 105, 120]);
    const expected = [110 / 100 - 1, 105 / 110 - 1, 0, 120 / 105 - 1];
    const returns = dailyReturns(100, times, [100, 110, 105, 120]);
    for (const [i, r] of returns.entries()) expect(r).toBeCloseTo(expected[i]!, 15);
  });

  it('a point at 00:00 UTC (a close time) ends the day before: two days of hourly candles are two days', () => {
    // 48 hourly candles from D0; +10 in the last hour of the first day (the candle closing at D0 + 1 day)
    const times = Array.from({ length: 48 }, (_, i) => D0 + (i + 1) * 3_600_000);
    const equity = times.map((_, i) => (i >= 23 ? 1_010 : 1_000));
    expect(dailyCloses(times, equity)).toEqual([1_010, 1_010]);
    const returns = dailyReturns(1_000, times, equity);
    expect(returns).toHaveLength(2);
    expect(returns[0]).toBeCloseTo(0.01, 15);
    expect(returns[1]).toBe(0);
  });

  it('Sharpe: mean over sample stdev, × √365', () => {
    // returns 1%, -1%, 2%, 0%: mean 0.005, sample variance (0.005² + 0.015² + 0.015² + 0.005²)/3
    const r = [0.01, -0.01, 0.02, 0];
    const sd = Math.sqrt((0.005 ** 2 + 0.015 ** 2 + 0.015 ** 2 + 0.005 ** 2) / 3);
    expect(sharpe(r)).toBeCloseTo((0.005 / sd) * Math.sqrt(365), 12);
    expect(sharpe([0.01, 0.01])).toBeNull();
    expect(sharpe([0.01])).toBeNull();
  });

  it('Sortino: mean over downside deviation √(Σ min(r,0)² / n), × √365', () => {
    const r = [0.01, -0.01, 0.02, -0.02];
    const dd = Math.sqrt((0.01 ** 2 + 0.02 ** 2) / 4);
    expect(sortino(r)).toBeCloseTo((0 / dd) * Math.sqrt(365), 12);
    expect(sortino([0.03, -0.01])).toBeCloseTo((0.01 / Math.sqrt(0.0001 / 2)) * Math.sqrt(365), 12);
    expect(sortino([0.01, 0.02])).toBeNull();
  });

  it('max drawdown is the largest fall from a running peak, as a fraction of that peak', () => {
    expect(maxDrawdown([100, 120, 90, 130, 104, 140])).toBeCloseTo(0.25, 12); // 120 → 90
    expect(maxDrawdown([100, 101, 102])).toBe(0);
    expect(Array.from(drawdownCurve([100, 50, 100, 75]))).toEqual([0, 0.5, 0, 0.25]);
  });

  it('CAGR compounds over 365-day years; exposure is the union of holding intervals', () => {
    expect(cagr(100, 121, 2 * 365 * DAY)).toBeCloseTo(0.1, 12);
    expect(cagr(100, 150, 0)).toBeNull();
    const trades = [
      { entryTime: 0, exitTime: 10, pnl: 0, fees: 0 },
      { entryTime: 5, exitTime: 15, pnl: 0, fees: 0 },
      { entryTime: 30, exitTime: 40, pnl: 0, fees: 0 },
    ];
    expect(timeInMarket(trades, 0, 100)).toBe(25);
    expect(timeInMarket(trades, 8, 35)).toBe(12);
  });

  it('computeMetrics puts it together', () => {
    const times = [D0, D0 + DAY, D0 + 2 * DAY, D0 + 3 * DAY];
    const equity = [1000, 1100, 990, 1089];
    const trades = [
      { entryTime: D0, exitTime: D0 + DAY, pnl: 100, fees: 2 },
      { entryTime: D0 + DAY, exitTime: D0 + 2 * DAY, pnl: -110, fees: 2 },
      { entryTime: D0 + 2 * DAY, exitTime: D0 + 3 * DAY, pnl: 99, fees: 2 },
    ];
    const m = computeMetrics({ startEquity: 1000, times, equity, trades });
    expect(m.totalReturn).toBeCloseTo(0.089, 12);
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBeCloseTo(199 / 110, 12);
    expect(m.expectancy).toBeCloseTo(89 / 3, 12);
    expect(m.feesPaid).toBe(6);
    expect(m.exposure).toBe(1);
    expect(m.trades).toBe(3);
    expect(m.cagr).toBeCloseTo(1.089 ** (365 / 3) - 1, 6);
    expect(m.calmar).toBeCloseTo(m.cagr! / 0.1, 6);
    const r = [0, 0.1, -0.1, 0.1];
    expect(m.sharpe).toBeCloseTo(sharpe(r)!, 12);
  });

  it('max drawdown is in [0, 1) and zero for a non-decreasing curve (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (equity) => {
          const mdd = maxDrawdown(equity);
          expect(mdd).toBeGreaterThanOrEqual(0);
          expect(mdd).toBeLessThan(1);
          expect(maxDrawdown([...equity].sort((a, b) => a - b))).toBe(0);
        },
      ),
    );
  });
});

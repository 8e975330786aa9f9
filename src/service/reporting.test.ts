import { describe, expect, it } from 'vitest';
import { testKernel } from '../domain/kernel/testing/fixture.js';
import type { ClosedTrade } from '../domain/portfolio/position.js';
import { emaCross } from '../domain/strategies/index.js';
import { weeklyReport } from './reporting.js';

const WEEK = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

function trade(i: number, pnl: number): ClosedTrade {
  return {
    positionId: `p${i}`,
    symbol: 'ETH/USDT',
    strategy: 'ema-cross',
    side: 'long',
    entryTime: WEEK + i * HOUR,
    entryPrice: 1538.8190249999998,
    exitTime: WEEK + (i + 1) * HOUR,
    exitPrice: 31.885935000000003,
    quantity: 1,
    fees: 0.1,
    pnl,
    pnlPct: pnl / 1000,
    rMultiple: null,
    exitReason: 'exit',
  };
}

describe('weekly report', () => {
  const report = (pnls: number[]) =>
    weeklyReport({
      account: 'paper-main',
      capital: 1000,
      quote: 'USDT',
      kernel: testKernel({ strategies: [emaCross()] }),
      trades: pnls.map((p, i) => trade(i, p)),
      curve: { time: new Float64Array(), equity: new Float64Array() },
      history: [],
      from: WEEK,
      to: WEEK + 7 * 24 * HOUR,
    });
  const section = (text: string, title: string) => text.split(`## ${title}`)[1]!.split('## ')[0]!;

  it('lists winners as best and losers as worst, never one among the other with few trades', () => {
    const text = report([12.5, -3, 1.84, -20, 7]);
    const money = (s: string) => [...s.matchAll(/\| (-?[\d,.]+) USDT \|/g)].map((m) => Number(m[1]));
    expect(money(section(text, 'Best trades'))).toEqual([12.5, 7, 1.84]);
    expect(money(section(text, 'Worst trades'))).toEqual([-20, -3]);
    expect(section(report([5, 6]), 'Worst trades')).toContain('_none_');
  });

  it('prints prices without binary noise', () => {
    const text = report([1]);
    expect(text).toContain('| 1538.819025 |');
    expect(text).toContain('| 31.885935 |');
    expect(text).not.toContain('1538.8190249999998');
  });
});

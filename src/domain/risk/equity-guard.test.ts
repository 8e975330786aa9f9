import { describe, expect, it } from 'vitest';
import { defaultRiskConfig } from './config.js';
import { EquityGuard } from './equity-guard.js';
import { civilFromDays, daysFromCivil, periodEnd, periodKey, utcMonth, utcWeek } from './utc-periods.js';

const rules = defaultRiskConfig().rules;
const H = 3_600_000;
/** 2024-01-01 is a Monday */
const MON = Date.UTC(2024, 0, 1);
const DAY = 24 * H;

describe('UTC periods', () => {
  it('weeks start on Monday, months on the 1st, arithmetic matches Date', () => {
    expect(periodEnd('week', utcWeek(MON + 3 * DAY))).toBe(Date.UTC(2024, 0, 8));
    expect(periodEnd('month', utcMonth(Date.UTC(2024, 1, 29, 12)))).toBe(Date.UTC(2024, 2, 1));
    expect(periodEnd('month', utcMonth(Date.UTC(2023, 11, 31)))).toBe(Date.UTC(2024, 0, 1));
    expect(periodEnd('day', periodKey('day', Date.UTC(2024, 4, 5, 23, 59)))).toBe(Date.UTC(2024, 4, 6));
    for (let day = -800; day < 40_000; day += 37) {
      const d = new Date(day * DAY);
      expect(civilFromDays(day)).toEqual({
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
      });
      expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(day);
    }
  });
});

describe('loss limits', () => {
  it('daily 5%: halts new entries for the rest of the UTC day', () => {
    const guard = new EquityGuard(rules, 10_000);
    expect(guard.mark(MON + 10 * H, 9_600)).toBeNull();
    const breaches = guard.mark(MON + 11 * H, 9_500)!;
    expect(breaches).toEqual([
      expect.objectContaining({
        rule: 'daily-loss-limit',
        loss: 0.05,
        limit: 0.05,
        referenceEquity: 10_000,
        until: MON + DAY,
      }),
    ]);
    expect(guard.entryBlock(MON + 12 * H)).toMatchObject({ rule: 'lossLimits' });
    // the candle closing at midnight is still the halted day's
    expect(guard.entryBlock(MON + DAY)).not.toBeNull();
    expect(guard.mark(MON + 13 * H, 9_300)).toBeNull(); // no repeat within the day (and -7% is under the weekly 10%)
    expect(guard.entryBlock(MON + DAY + H)).toBeNull();
  });

  it("a day's reference is the last mark of the day before", () => {
    const guard = new EquityGuard(rules, 10_000);
    guard.mark(MON + 23 * H, 8_000);
    guard.mark(MON + DAY, 8_000); // closes at midnight: still Monday
    expect(guard.mark(MON + DAY + H, 7_650)).toBeNull(); // -4.4% of 8 000
    expect(guard.mark(MON + DAY + 2 * H, 7_600)![0]).toMatchObject({
      rule: 'daily-loss-limit',
      referenceEquity: 8_000,
    });
  });

  it('weekly 10% and monthly 20% over several days below the daily limit', () => {
    const guard = new EquityGuard(rules, 10_000);
    let equity = 10_000;
    const halts: string[] = [];
    for (let day = 0; day < 7; day++) {
      equity *= 0.97; // -3% a day, under the daily limit
      for (const b of guard.mark(MON + day * DAY + 12 * H, equity) ?? [])
        halts.push(`${b.rule}@${day}:${b.until}`);
    }
    // after 4 days: 1 - 0.97^4 = 11.5% ≥ 10%, halted until next Monday
    expect(halts).toEqual([`weekly-loss-limit@3:${Date.UTC(2024, 0, 8)}`]);
    expect(guard.entryBlock(MON + 4 * DAY)).not.toBeNull();
  });

  it('monthly 20%', () => {
    const guard = new EquityGuard({ ...rules, drawdown: { ...rules.drawdown, enabled: false } }, 10_000);
    let equity = 10_000;
    const halts: string[] = [];
    for (let week = 0; week < 4; week++) {
      equity *= 0.92; // -8% a week
      for (const b of guard.mark(MON + week * 7 * DAY + 12 * H, equity) ?? [])
        halts.push(`${b.rule}:${b.until}`);
    }
    // each weekly mark is -8% on its day (a daily halt); 1 - 0.92^3 = 22.1% in the third week
    // reaches the monthly limit, which then lasts until February
    expect(halts).toEqual([
      `daily-loss-limit:${MON + DAY}`,
      `daily-loss-limit:${MON + 8 * DAY}`,
      `daily-loss-limit:${MON + 15 * DAY}`,
      `monthly-loss-limit:${Date.UTC(2024, 1, 1)}`,
      `daily-loss-limit:${MON + 22 * DAY}`,
    ]);
  });

  it('switched off, losses never halt', () => {
    const guard = new EquityGuard(
      {
        ...rules,
        lossLimits: { ...rules.lossLimits, enabled: false },
        drawdown: { ...rules.drawdown, enabled: false },
      },
      10_000,
    );
    expect(guard.mark(MON + H, 5_000)).toBeNull();
    expect(guard.entryBlock(MON + 2 * H)).toBeNull();
  });
});

describe('drawdown', () => {
  it('halts at 25% below the peak until resumed; resuming restarts the peak', () => {
    const guard = new EquityGuard({ ...rules, lossLimits: { ...rules.lossLimits, enabled: false } }, 10_000);
    guard.mark(MON + H, 12_000);
    expect(guard.mark(MON + 2 * H, 9_001)).toBeNull();
    expect(guard.drawdown).toBeCloseTo(0.24992, 5);
    expect(guard.mark(MON + 3 * H, 9_000)![0]).toMatchObject({
      rule: 'drawdown',
      referenceEquity: 12_000,
      loss: 0.25,
      until: null,
    });
    expect(guard.entryBlock(MON + 40 * DAY)).toMatchObject({ rule: 'drawdown' });
    guard.resume();
    expect(guard.entryBlock(MON + 40 * DAY)).toBeNull();
    expect(guard.peakEquity).toBe(9_000);
  });

  it('a resume without a drawdown halt (end of a pause, the service after stale data) keeps the peak', () => {
    const guard = new EquityGuard({ ...rules, lossLimits: { ...rules.lossLimits, enabled: false } }, 10_000);
    expect(guard.mark(MON + H, 8_000)).toBeNull(); // 20% down: no halt yet
    guard.resume();
    expect(guard.peakEquity).toBe(10_000);
    expect(guard.drawdown).toBeCloseTo(0.2, 12);
    // a further fall to 25% below the real peak halts, whatever resumes came between
    expect(guard.mark(MON + 2 * H, 7_500)![0]).toMatchObject({ rule: 'drawdown', referenceEquity: 10_000 });
  });

  it('survives a snapshot through JSON', () => {
    const guard = new EquityGuard(rules, 10_000);
    guard.mark(MON + H, 9_400);
    const copy = EquityGuard.restore(rules, JSON.parse(JSON.stringify(guard.snapshot())));
    expect(copy.mark(MON + 2 * H, 9_500)).toEqual(guard.mark(MON + 2 * H, 9_500));
    expect(copy.mark(MON + 3 * H, 9_499)).toEqual(guard.mark(MON + 3 * H, 9_499));
  });
});

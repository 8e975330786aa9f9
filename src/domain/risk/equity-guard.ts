/**
 * The equity-based halts: drawdown from the peak, and loss limits over UTC calendar periods.
 *
 * The guard sees one equity mark per candle close. A mark at time T (a candle's exclusive close)
 * belongs to the period holding T - 1 ms, so the candle closing at midnight is the last of its
 * day. A period's reference equity is the last mark of the period before (the initial equity
 * before the first mark). When a loss reaches its limit, new entries stop until the period ends;
 * a drawdown halt lasts until the owner resumes trading (TradingResumed), which also restarts the
 * peak from the equity at that moment: the owner has looked at the loss and accepted it.
 */

import type { RiskRules } from './config.js';
import type { HaltRule } from './events.js';
import { type PeriodKind, periodEnd, periodKey, utcDay } from './utc-periods.js';

export interface HaltBreach {
  rule: HaltRule;
  reason: string;
  equity: number;
  referenceEquity: number;
  loss: number;
  limit: number;
  /** null: until resumed */
  until: number | null;
}

/** Why entries are blocked right now, with the numbers, or null. */
export interface EntryBlock {
  rule: string;
  reason: string;
  value: number | null;
  limit: number | null;
}

export interface EquityGuardSnapshot {
  peak: number;
  lastEquity: number;
  drawdownHalted: boolean;
  periods: { kind: PeriodKind; key: number | null; startEquity: number; haltedUntil: number }[];
}

interface PeriodState {
  readonly kind: PeriodKind;
  readonly rule: HaltRule;
  readonly limit: number | null;
  key: number;
  startEquity: number;
  /** entries blocked while (decision time - 1) < haltedUntil; 0 when not halted */
  haltedUntil: number;
}

export class EquityGuard {
  private peak: number;
  private lastEquity: number;
  private drawdownHalted = false;
  private lastDay = Number.NaN;
  /** first ms of the day after lastDay: a mark at or past it starts a new day */
  private nextDayStart = Number.NEGATIVE_INFINITY;
  /** at or below this equity some limit may fire (see refreshTriggerEquity) */
  private triggerEquity = Number.POSITIVE_INFINITY;
  /** the mark before the current one: the reference equity of a period that starts now */
  private previousEquity: number;
  private readonly periods: PeriodState[];

  constructor(
    private readonly rules: RiskRules,
    initialEquity: number,
  ) {
    this.peak = initialEquity;
    this.lastEquity = initialEquity;
    this.previousEquity = initialEquity;
    const limits = rules.lossLimits;
    const period = (kind: PeriodKind, rule: HaltRule, limit: number | null): PeriodState => ({
      kind,
      rule,
      limit: limits.enabled ? limit : null,
      key: Number.NaN,
      startEquity: initialEquity,
      haltedUntil: 0,
    });
    this.periods = [
      period('day', 'daily-loss-limit', limits.daily),
      period('week', 'weekly-loss-limit', limits.weekly),
      period('month', 'monthly-loss-limit', limits.monthly),
    ];
  }

  /** Fraction below the equity peak (0 at a new high). */
  get drawdown(): number {
    return this.peak > 0 ? Math.max(0, (this.peak - this.lastEquity) / this.peak) : 0;
  }

  get peakEquity(): number {
    return this.peak;
  }

  /** Loss so far in the current period of this kind, as a fraction of its start equity. */
  periodLoss(kind: PeriodKind): number {
    const p = this.periods.find((x) => x.kind === kind)!;
    return p.startEquity > 0 ? (p.startEquity - this.lastEquity) / p.startEquity : 0;
  }

  /**
   * Records the equity at a candle close. Returns the halts this mark started (null when none,
   * which is nearly always). Kept small so the JIT inlines it into the kernel's candle loop:
   * the common case is three comparisons, and only a new day or an equity at or below a
   * trigger level takes the full path.
   */
  mark(time: number, equity: number): HaltBreach[] | null {
    this.previousEquity = this.lastEquity;
    this.lastEquity = equity;
    if (equity > this.peak) {
      this.peak = equity;
      this.refreshTriggerEquity();
    }
    if (time - 1 < this.nextDayStart && equity > this.triggerEquity) return null;
    return this.markSlowly(time, equity);
  }

  private markSlowly(time: number, equity: number): HaltBreach[] | null {
    let breaches: HaltBreach[] | null = null;
    const day = utcDay(time - 1);
    if (day !== this.lastDay) {
      // A period's reference is the last mark before it: the equity before this one.
      for (const p of this.periods) {
        const key = periodKey(p.kind, time - 1);
        if (key !== p.key) {
          p.key = key;
          p.startEquity = this.previousEquity;
        }
      }
      this.lastDay = day;
      this.nextDayStart = periodEnd('day', day);
    }

    for (const p of this.periods) {
      if (p.limit === null || p.startEquity <= 0) continue;
      const loss = (p.startEquity - equity) / p.startEquity;
      if (loss >= p.limit && p.haltedUntil <= time - 1) {
        p.haltedUntil = periodEnd(p.kind, p.key);
        breaches ??= [];
        breaches.push({
          rule: p.rule,
          reason: `${p.kind} loss ${percent(loss)} reached the ${percent(p.limit)} limit: no new entries until the ${p.kind} ends`,
          equity,
          referenceEquity: p.startEquity,
          loss,
          limit: p.limit,
          until: p.haltedUntil,
        });
      }
    }

    const dd = this.rules.drawdown;
    if (dd.enabled && !this.drawdownHalted && this.drawdown >= dd.haltAt) {
      this.drawdownHalted = true;
      breaches ??= [];
      breaches.push({
        rule: 'drawdown',
        reason: `drawdown ${percent(this.drawdown)} from the peak reached the ${percent(dd.haltAt)} halt: no new entries until trading is resumed`,
        equity,
        referenceEquity: this.peak,
        loss: this.drawdown,
        limit: dd.haltAt,
        until: null,
      });
    }
    this.refreshTriggerEquity();
    return breaches;
  }

  /**
   * The highest equity at which some limit not yet hit would be reached: above it no limit can
   * fire, so mark() needs no more than a comparison.
   */
  private refreshTriggerEquity(): void {
    let trigger = Number.NEGATIVE_INFINITY;
    const today = this.lastDayStart();
    const periods = this.periods;
    for (let i = 0; i < periods.length; i++) {
      const p = periods[i]!;
      // A halted period cannot fire again before it ends, and its end is a new day.
      if (p.limit !== null && p.haltedUntil <= today)
        trigger = Math.max(trigger, p.startEquity * (1 - p.limit));
    }
    const dd = this.rules.drawdown;
    if (dd.enabled && !this.drawdownHalted) trigger = Math.max(trigger, this.peak * (1 - dd.haltAt));
    this.triggerEquity = trigger;
  }

  private lastDayStart(): number {
    return Number.isNaN(this.lastDay) ? Number.NEGATIVE_INFINITY : this.lastDay * 86_400_000;
  }

  /** The halt that blocks an entry decided at `time` (a candle close), or null. */
  entryBlock(time: number): EntryBlock | null {
    if (this.drawdownHalted) {
      return {
        rule: 'drawdown',
        reason: 'trading halted by the drawdown limit until resumed',
        value: this.drawdown,
        limit: this.rules.drawdown.haltAt,
      };
    }
    for (const p of this.periods) {
      if (time - 1 < p.haltedUntil) {
        return {
          rule: 'lossLimits',
          reason: `${p.rule} reached: no new entries until ${new Date(p.haltedUntil).toISOString()}`,
          value: this.periodLoss(p.kind),
          limit: p.limit,
        };
      }
    }
    return null;
  }

  /**
   * Trading resumed. A drawdown halt is lifted and drawdown measured from here: the owner has
   * seen the loss and accepted it (else the halt would fire again at once). Any other resume (a
   * pause ending, the service's own resume after stale data) keeps the peak: nobody accepted a
   * loss, and the drawdown rules must go on seeing it.
   */
  resume(): void {
    if (!this.drawdownHalted) return;
    this.drawdownHalted = false;
    this.peak = this.lastEquity;
    this.refreshTriggerEquity();
  }

  snapshot(): EquityGuardSnapshot {
    return {
      peak: this.peak,
      lastEquity: this.lastEquity,
      drawdownHalted: this.drawdownHalted,
      periods: this.periods.map((p) => ({
        kind: p.kind,
        key: Number.isNaN(p.key) ? null : p.key,
        startEquity: p.startEquity,
        haltedUntil: p.haltedUntil,
      })),
    };
  }

  static restore(rules: RiskRules, snapshot: EquityGuardSnapshot): EquityGuard {
    const guard = new EquityGuard(rules, snapshot.lastEquity);
    guard.peak = snapshot.peak;
    guard.drawdownHalted = snapshot.drawdownHalted;
    for (const saved of snapshot.periods) {
      const p = guard.periods.find((x) => x.kind === saved.kind)!;
      p.key = saved.key ?? Number.NaN;
      p.startEquity = saved.startEquity;
      p.haltedUntil = saved.haltedUntil;
    }
    // The day key is derived: recompute it from the saved day period.
    const day = snapshot.periods.find((x) => x.kind === 'day');
    guard.lastDay = day?.key ?? Number.NaN;
    guard.nextDayStart = Number.isNaN(guard.lastDay)
      ? Number.NEGATIVE_INFINITY
      : periodEnd('day', guard.lastDay);
    guard.refreshTriggerEquity();
    return guard;
  }
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

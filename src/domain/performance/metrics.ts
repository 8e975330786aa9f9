/**
 * Performance metrics of a run, from its equity curve and its closed trades. Pure functions; the
 * definitions are written in docs/metrics.md and each is unit-tested against hand-computed values.
 *
 * - Daily returns: equity at the end of each UTC calendar day (the last point of the day; a day
 *   with no point carries the previous day's equity), against the previous day's close; the first
 *   day against the start equity.
 * - Sharpe = mean(daily) / sample stdev(daily) × √365; Sortino = mean(daily) / downside deviation
 *   × √365, downside deviation = √(Σ min(r, 0)² / n); risk-free rate 0. null when undefined.
 * - CAGR over the span of the equity curve in 365-day years; Calmar = CAGR / max drawdown.
 * - Max drawdown: the largest fall from a running peak, as a fraction of that peak, on every point.
 * - Trades: win rate (pnl > 0), profit factor (gross profit / gross loss), expectancy (mean pnl).
 * - Exposure: the share of the curve's span during which at least one position was open.
 */

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365;

export interface TradeLike {
  entryTime: number;
  exitTime: number;
  pnl: number;
  fees: number;
}

export interface Metrics {
  startEquity: number;
  endEquity: number;
  totalReturn: number;
  cagr: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  maxDrawdown: number;
  winRate: number | null;
  profitFactor: number | null;
  expectancy: number | null;
  trades: number;
  exposure: number;
  feesPaid: number;
}

/**
 * Equity at the end of each UTC day from the first point's day to the last's. A point is stamped
 * with its candle's close time, an exclusive end: the candle closing at 00:00 ends the day
 * before, so a point belongs to the day of its time − 1 ms.
 */
export function dailyCloses(times: ArrayLike<number>, equity: ArrayLike<number>): number[] {
  const n = times.length;
  if (n === 0) return [];
  const dayOf = (t: number) => Math.floor((t - 1) / DAY_MS);
  const firstDay = dayOf(times[0]!);
  const lastDay = dayOf(times[n - 1]!);
  const closes: number[] = new Array(lastDay - firstDay + 1);
  let i = 0;
  let last = equity[0]!;
  for (let day = firstDay; day <= lastDay; day++) {
    while (i < n && dayOf(times[i]!) === day) last = equity[i++]!;
    closes[day - firstDay] = last;
  }
  return closes;
}

export function dailyReturns(
  startEquity: number,
  times: ArrayLike<number>,
  equity: ArrayLike<number>,
): number[] {
  const closes = dailyCloses(times, equity);
  const out: number[] = new Array(closes.length);
  let previous = startEquity;
  for (let d = 0; d < closes.length; d++) {
    out[d] = closes[d]! / previous - 1;
    previous = closes[d]!;
  }
  return out;
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length > 0 ? sum / values.length : 0;
}

export function sharpe(returns: readonly number[]): number | null {
  if (returns.length < 2) return null;
  const m = mean(returns);
  let ss = 0;
  for (const r of returns) ss += (r - m) ** 2;
  const sd = Math.sqrt(ss / (returns.length - 1));
  return sd > 0 ? (m / sd) * Math.sqrt(YEAR_DAYS) : null;
}

export function sortino(returns: readonly number[]): number | null {
  if (returns.length === 0) return null;
  let ss = 0;
  for (const r of returns) if (r < 0) ss += r * r;
  const dd = Math.sqrt(ss / returns.length);
  return dd > 0 ? (mean(returns) / dd) * Math.sqrt(YEAR_DAYS) : null;
}

export function maxDrawdown(equity: ArrayLike<number>): number {
  let peak = Number.NEGATIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (e > peak) peak = e;
    else if (peak > 0) worst = Math.max(worst, (peak - e) / peak);
  }
  return worst;
}

/** The drawdown at every point (a fraction of the running peak), for charts. */
export function drawdownCurve(equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(equity.length);
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < equity.length; i++) {
    peak = Math.max(peak, equity[i]!);
    out[i] = peak > 0 ? (peak - equity[i]!) / peak : 0;
  }
  return out;
}

export function cagr(startEquity: number, endEquity: number, spanMs: number): number | null {
  const years = spanMs / (YEAR_DAYS * DAY_MS);
  if (years <= 0 || startEquity <= 0 || endEquity < 0) return null;
  return (endEquity / startEquity) ** (1 / years) - 1;
}

/** Length of the union of [entry, exit] intervals, clipped to [from, to]. */
export function timeInMarket(trades: readonly TradeLike[], from: number, to: number): number {
  const intervals = trades
    .map((t) => [Math.max(from, t.entryTime), Math.min(to, t.exitTime)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of intervals) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

export interface MetricsInput {
  startEquity: number;
  /** equity points (epoch ms, equity), ascending */
  times: ArrayLike<number>;
  equity: ArrayLike<number>;
  trades: readonly TradeLike[];
  /** fees paid on positions still open at the end */
  openFees?: number;
  /** open positions at the end count as exposure up to the last point: give their entry times */
  openSince?: readonly number[];
}

export function computeMetrics(input: MetricsInput): Metrics {
  const { startEquity, times, equity, trades } = input;
  const n = times.length;
  const endEquity = n > 0 ? equity[n - 1]! : startEquity;
  const from = n > 0 ? times[0]! : 0;
  const to = n > 0 ? times[n - 1]! : 0;
  const returns = dailyReturns(startEquity, times, equity);
  const mdd = maxDrawdown([startEquity, ...Array.from(equity)]);
  const growth = cagr(startEquity, endEquity, to - from);
  let grossProfit = 0;
  let grossLoss = 0;
  let wins = 0;
  let fees = input.openFees ?? 0;
  for (const t of trades) {
    if (t.pnl > 0) {
      wins++;
      grossProfit += t.pnl;
    } else grossLoss -= t.pnl;
    fees += t.fees;
  }
  const held = [
    ...trades,
    ...(input.openSince ?? []).map((entryTime) => ({ entryTime, exitTime: to, pnl: 0, fees: 0 })),
  ];
  return {
    startEquity,
    endEquity,
    totalReturn: endEquity / startEquity - 1,
    cagr: growth,
    sharpe: sharpe(returns),
    sortino: sortino(returns),
    calmar: growth !== null && mdd > 0 ? growth / mdd : null,
    maxDrawdown: mdd,
    winRate: trades.length > 0 ? wins / trades.length : null,
    profitFactor: grossLoss > 0 ? grossProfit / grossLoss : null,
    expectancy: trades.length > 0 ? (grossProfit - grossLoss) / trades.length : null,
    trades: trades.length,
    exposure: to > from ? timeInMarket(held, from, to) / (to - from) : 0,
    feesPaid: fees,
  };
}

/**
 * Reports: the daily summary (performance, open positions, recent trades, risk state, notable
 * signals) and the weekly deep dive (attribution per strategy, best and worst trades), as
 * Markdown. Pure functions of the kernel's view and the decisions it derived: the service writes
 * them under <data-dir>/reports and e-mails them.
 */
import type { NewEvent } from '../domain/events/envelope.js';
import type { TradingKernel } from '../domain/kernel/trading-kernel.js';
import { significant } from '../domain/numbers.js';
import { computeMetrics } from '../domain/performance/metrics.js';
import type { ClosedTrade } from '../domain/portfolio/position.js';

export const DAY = 86_400_000;

export interface ReportInput {
  account: string;
  capital: number;
  quote: string;
  /** status and open positions now */
  kernel: TradingKernel;
  /** every trade the account closed, and its equity curve since it started */
  trades: readonly ClosedTrade[];
  curve: { readonly time: Float64Array; readonly equity: Float64Array };
  history: readonly NewEvent[];
  /** report covers [from, to) */
  from: number;
  to: number;
}

const money = (n: number, quote: string) =>
  `${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${quote}`;
const pct = (n: number | null | undefined) =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : `${(n * 100).toFixed(2)} %`;
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
/** A price or quantity without binary noise (1538.8190249999998 → 1538.819025). */
const figure = (n: number) => String(significant(n, 12));
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function tradesIn(trades: readonly ClosedTrade[], from: number, to: number) {
  return trades.filter((t) => t.exitTime >= from && t.exitTime < to);
}

function tradeTable(trades: readonly ClosedTrade[], quote: string): string {
  if (trades.length === 0) return '_none_\n';
  const rows = trades.map(
    (t) =>
      `| ${t.symbol} | ${t.strategy ?? ''} | ${iso(t.entryTime)} | ${figure(t.entryPrice)} | ${iso(t.exitTime)} | ${figure(t.exitPrice)} | ${money(t.pnl, quote)} | ${t.exitReason} |`,
  );
  return [
    '| symbol | strategy | entry | price | exit | price | P&L | reason |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export function dailyReport(input: ReportInput): string {
  const { kernel, quote } = input;
  const status = kernel.status();
  const { curve, trades } = input;
  const metrics = computeMetrics({
    startEquity: input.capital,
    times: curve.time,
    equity: curve.equity,
    trades,
  });
  // equity at the start of the day: the last point before it
  let dayStart = input.capital;
  for (let i = 0; i < curve.time.length && curve.time[i]! < input.from + 1; i++) dayStart = curve.equity[i]!;
  const dayEvents = input.history.filter(
    (e) => e.metadata.occurredAt >= input.from && e.metadata.occurredAt < input.to,
  );
  const count = (type: string) => dayEvents.filter((e) => e.type === type).length;
  const halts = dayEvents.filter((e) => e.type === 'TradingHalted');
  const signals = dayEvents.filter((e) => e.type === 'SignalEmitted').slice(-10);
  const positions = kernel.openPositions();
  const lines = [
    `# tradekernel daily report — ${input.account} — ${day(input.from)}`,
    '',
    `Period ${iso(input.from)} to ${iso(input.to)} (UTC). Event time handled up to ${Number.isFinite(status.clock) ? iso(status.clock) : 'n/a'}.`,
    '',
    '## Performance',
    '',
    `| | |`,
    `|---|---|`,
    `| equity | ${money(status.equity, quote)} |`,
    `| day | ${money(status.equity - dayStart, quote)} (${pct(dayStart > 0 ? status.equity / dayStart - 1 : null)}) |`,
    `| since start | ${money(status.equity - input.capital, quote)} (${pct(status.equity / input.capital - 1)}) |`,
    `| cash | ${money(status.cash, quote)} |`,
    `| realised P&L | ${money(status.realisedPnl, quote)} |`,
    `| fees | ${money(status.fees, quote)} |`,
    `| max drawdown | ${pct(metrics.maxDrawdown)} |`,
    `| trades (all) | ${metrics.trades} (win rate ${pct(metrics.winRate)}) |`,
    '',
    '## Risk state',
    '',
    `- drawdown from peak: ${pct(status.drawdown)} (peak ${money(status.peakEquity, quote)})`,
    `- paused: ${status.paused ? 'yes' : 'no'}; kill switch: ${status.killSwitch ? 'ENGAGED' : 'off'}`,
    ...halts.map((h) => `- halt: ${(h.data as { reason: string }).reason}`),
    `- today: ${count('SignalEmitted')} signals, ${count('RiskDecisionMade')} risk decisions, ${count('OrderSubmitted')} orders, ${count('OrderFilled')} fills`,
    '',
    `## Open positions (${positions.length})`,
    '',
    positions.length === 0
      ? '_none_\n'
      : [
          '| symbol | strategy | quantity | entry | mark | unrealised | stop |',
          '|---|---|---|---|---|---|---|',
          ...positions.map(
            (p) =>
              `| ${p.symbol} | ${p.strategy} | ${figure(p.quantity)} | ${figure(p.entryPrice)} | ${figure(p.mark)} | ${money(p.unrealisedPnl, quote)} | ${(p.stopPrice ?? p.trailingStopPrice) === null ? '-' : figure((p.stopPrice ?? p.trailingStopPrice)!)} |`,
          ),
          '',
        ].join('\n'),
    '## Trades closed today',
    '',
    tradeTable(tradesIn(trades, input.from, input.to), quote),
    '## Notable signals (last 10 today)',
    '',
    signals.length === 0
      ? '_none_\n'
      : signals
          .map((s) => {
            const d = s.data as { symbol?: string; strategy?: string; direction?: string; reason?: string };
            return `- ${iso(s.metadata.occurredAt)} ${d.symbol} ${d.strategy} ${d.direction}${d.reason ? `: ${d.reason}` : ''}`;
          })
          .join('\n') + '\n',
  ];
  return lines.join('\n');
}

export function weeklyReport(input: ReportInput): string {
  const { kernel, quote } = input;
  const week = tradesIn(input.trades, input.from, input.to);
  const byStrategy = new Map<string, { trades: number; pnl: number; wins: number; fees: number }>();
  for (const t of week) {
    const key = t.strategy ?? 'unknown';
    const s = byStrategy.get(key) ?? { trades: 0, pnl: 0, wins: 0, fees: 0 };
    s.trades++;
    s.pnl += t.pnl;
    s.fees += t.fees;
    if (t.pnl > 0) s.wins++;
    byStrategy.set(key, s);
  }
  const sorted = [...week].sort((a, b) => b.pnl - a.pnl);
  // a winner is never among the worst trades, nor a loser among the best
  const best = sorted.filter((t) => t.pnl > 0).slice(0, 5);
  const worst = sorted
    .filter((t) => t.pnl < 0)
    .reverse()
    .slice(0, 5);
  return [
    `# tradekernel weekly deep dive — ${input.account} — week of ${day(input.from)}`,
    '',
    `Period ${iso(input.from)} to ${iso(input.to)} (UTC). Equity now ${money(kernel.status().equity, quote)}.`,
    '',
    '## Attribution per strategy',
    '',
    byStrategy.size === 0
      ? '_no trades closed this week_\n'
      : [
          '| strategy | trades | P&L | win rate | fees |',
          '|---|---|---|---|---|',
          ...[...byStrategy].map(
            ([name, s]) =>
              `| ${name} | ${s.trades} | ${money(s.pnl, quote)} | ${pct(s.wins / s.trades)} | ${money(s.fees, quote)} |`,
          ),
          '',
        ].join('\n'),
    '## Best trades',
    '',
    tradeTable(best, quote),
    '## Worst trades',
    '',
    tradeTable(worst, quote),
  ].join('\n');
}

/**
 * The backtest report: one self-contained HTML file (inline CSS and JS, no CDN, no fonts or
 * images fetched: it works offline and can be mailed). It shows the metrics, the equity and
 * drawdown charts, each symbol's price with the trades marked (entries ▲, exits ▼), the monthly
 * returns table and the trade list.
 *
 * The charts are SVG paths drawn by the inline script from the JSON embedded in the page (series
 * downsampled to at most MAX_POINTS per chart, keeping each bucket's extremes so spikes and the
 * deepest drawdown survive). When the script has drawn them it sets, on <body>,
 * data-charts-drawn = the number of charts with a non-empty path, and on each <svg>
 * data-points = the points it drew: the browser test checks those.
 */

import { significant } from '../../domain/numbers.js';
import { drawdownCurve } from '../../domain/performance/metrics.js';
import type { CandleSeries } from '../backtest/candle-series.js';
import type { BacktestResult } from '../backtest/run-backtest.js';

export const MAX_POINTS = 1500;

export interface ReportInput {
  readonly result: BacktestResult;
  /** the candles the run replayed (for the price charts) */
  readonly series?: CandleSeries;
  /** lines shown under the title (exchange, timeframe, settings...) */
  readonly notes?: readonly string[];
  /** for a stable file in tests; default: now */
  readonly generatedAt?: string;
}

export interface MonthlyReturn {
  year: number;
  /** 1..12 */
  month: number;
  /** month-end equity against the previous month-end (the first month: against the start equity) */
  return: number;
}

/** Monthly returns of an equity curve (UTC calendar months, months without points are skipped). */
export function monthlyReturns(
  startEquity: number,
  equity: readonly (readonly [number, number])[],
): MonthlyReturn[] {
  const out: MonthlyReturn[] = [];
  let previous = startEquity;
  for (let i = 0; i < equity.length; i++) {
    const [t, e] = equity[i]!;
    const next = equity[i + 1];
    // equity times are candle close times: a candle closing at 00:00 of the 1st belongs to the month before
    const closeKey = monthKey(t - 1);
    const nextKey = next === undefined ? null : monthKey(next[0] - 1);
    if (nextKey !== closeKey) {
      out.push({ year: Math.floor(closeKey / 12), month: (closeKey % 12) + 1, return: e / previous - 1 });
      previous = e;
    }
  }
  return out;
}

function monthKey(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** At most `max` points, each bucket represented by its first, minimum and maximum points in time order. */
export function downsample(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  max = MAX_POINTS,
): [number, number][] {
  const n = times.length;
  if (n <= max) {
    const all: [number, number][] = new Array(n);
    for (let i = 0; i < n; i++) all[i] = [times[i]!, values[i]!];
    return all;
  }
  const buckets = Math.max(1, Math.floor(max / 3));
  const size = n / buckets;
  const out: [number, number][] = [];
  for (let b = 0; b < buckets; b++) {
    const a = Math.floor(b * size);
    const z = Math.min(n, Math.floor((b + 1) * size));
    let lo = a;
    let hi = a;
    for (let i = a; i < z; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    const picks = [...new Set([a, lo, hi])].sort((x, y) => x - y);
    for (const i of picks) out.push([times[i]!, values[i]!]);
  }
  out.push([times[n - 1]!, values[n - 1]!]);
  return out;
}

export function renderReport(input: ReportInput): string {
  const r = input.result;
  const times = r.equity.map((p) => p[0]);
  const values = r.equity.map((p) => p[1]);
  const dd = drawdownCurve(values);
  const prices = (input.series?.symbols ?? []).map((symbol, i) => {
    const col = input.series!.columns[i]!;
    return {
      symbol,
      points: downsample(col.openTime, col.close),
      entries: r.trades
        .filter((t) => t.symbol === symbol)
        .map((t) => [Date.parse(t.entryTime), t.entryPrice, t.pnl]),
      exits: r.trades
        .filter((t) => t.symbol === symbol)
        .map((t) => [Date.parse(t.exitTime), t.exitPrice, t.pnl, t.exitReason]),
    };
  });
  const data = {
    equity: downsample(times, values),
    drawdown: downsample(
      times,
      Array.from(dd, (v) => -v),
    ),
    prices,
  };
  const m = r.metrics;
  const metricRows: [string, string][] = [
    ['Start equity', money(m.startEquity)],
    ['End equity', money(m.endEquity)],
    ['Total return', pct(m.totalReturn)],
    ['CAGR', pct(m.cagr)],
    ['Sharpe', num(m.sharpe)],
    ['Sortino', num(m.sortino)],
    ['Calmar', num(m.calmar)],
    ['Max drawdown', pct(m.maxDrawdown)],
    ['Trades', String(m.trades)],
    ['Win rate', pct(m.winRate)],
    ['Profit factor', num(m.profitFactor)],
    ['Expectancy', money(m.expectancy)],
    ['Exposure', pct(m.exposure)],
    ['Fees paid', money(m.feesPaid)],
    ['Data points', r.dataPoints.toLocaleString('en-US')],
  ];
  const months = monthlyReturns(m.startEquity, r.equity);
  const years = [...new Set(months.map((x) => x.year))];
  const monthTable = years
    .map((y) => {
      const cells = Array.from({ length: 12 }, (_, k) => {
        const x = months.find((mm) => mm.year === y && mm.month === k + 1);
        return x === undefined
          ? '<td></td>'
          : `<td class="${x.return >= 0 ? 'up' : 'down'}">${pct(x.return)}</td>`;
      });
      const yearReturn = months.filter((x) => x.year === y).reduce((acc, x) => acc * (1 + x.return), 1) - 1;
      return `<tr><th>${y}</th>${cells.join('')}<td class="${yearReturn >= 0 ? 'up' : 'down'} year">${pct(yearReturn)}</td></tr>`;
    })
    .join('\n');
  const tradeRows = r.trades
    .map(
      (t, i) =>
        `<tr><td>${i + 1}</td><td>${esc(t.symbol)}</td><td>${esc(t.entryTime.replace('.000Z', 'Z'))}</td><td>${fmt(t.entryPrice)}</td><td>${esc(t.exitTime.replace('.000Z', 'Z'))}</td><td>${fmt(t.exitPrice)}</td><td>${fmt(t.quantity)}</td><td>${money(t.fees)}</td><td class="${t.pnl >= 0 ? 'up' : 'down'}">${money(t.pnl)}</td><td class="${t.pnl >= 0 ? 'up' : 'down'}">${pct(t.pnlPct)}</td><td>${esc(t.exitReason)}</td></tr>`,
    )
    .join('\n');
  const params = Object.entries(r.strategy.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const priceCharts = prices
    .map(
      (p, i) =>
        `<h3>${esc(p.symbol)} <small>close, ${p.entries.length} trade(s): ▲ entry ▼ exit</small></h3><svg class="chart" data-chart="price-${i}" viewBox="0 0 1000 260" preserveAspectRatio="none" role="img" aria-label="${esc(p.symbol)} price"></svg>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backtest ${esc(r.runId)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:24px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}h3{font-size:14px;margin:16px 0 4px}
small,.muted{color:#667085;font-weight:normal}
.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin-top:16px}
.metric{background:#fff;border:1px solid #e4e7ec;border-radius:6px;padding:8px 10px}
.metric b{display:block;font-size:16px}.metric span{color:#667085;font-size:12px}
svg.chart{width:100%;height:260px;background:#fff;border:1px solid #e4e7ec;border-radius:6px;display:block}
svg.chart.small{height:160px}
table{border-collapse:collapse;background:#fff;font-size:12px}th,td{border:1px solid #e4e7ec;padding:3px 6px;text-align:right}
th{background:#f2f4f7}.up{color:#067647}.down{color:#b42318}td.year{font-weight:bold}
.scroll{max-height:420px;overflow:auto;display:inline-block}
text{font-size:11px;fill:#667085}
</style>
</head>
<body>
<h1>Backtest ${esc(r.runId)}</h1>
<div class="muted">${esc(r.strategy.name)} ${esc(r.strategy.version)} ${esc(params)} · ${esc(r.period.from)} → ${esc(r.period.to)} · kernel ${esc(r.kernelVersion)}</div>
${(input.notes ?? []).map((n) => `<div class="muted">${esc(n)}</div>`).join('\n')}
<div class="metrics">
${metricRows.map(([k, v]) => `<div class="metric"><span>${esc(k)}</span><b>${esc(v)}</b></div>`).join('\n')}
</div>
<h2>Equity</h2>
<svg class="chart" data-chart="equity" viewBox="0 0 1000 260" preserveAspectRatio="none" role="img" aria-label="equity"></svg>
<h2>Drawdown</h2>
<svg class="chart small" data-chart="drawdown" viewBox="0 0 1000 160" preserveAspectRatio="none" role="img" aria-label="drawdown"></svg>
<h2>Prices and trades</h2>
${priceCharts || '<p class="muted">no price data in this report</p>'}
<h2>Monthly returns</h2>
<table class="months"><thead><tr><th></th>${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((x) => `<th>${x}</th>`).join('')}<th>Year</th></tr></thead>
<tbody>
${monthTable}
</tbody></table>
<h2>Trades <small>${r.trades.length}</small></h2>
<div class="scroll"><table class="trades"><thead><tr><th>#</th><th>Symbol</th><th>Entry</th><th>Price</th><th>Exit</th><th>Price</th><th>Quantity</th><th>Fees</th><th>P&amp;L</th><th>P&amp;L %</th><th>Exit reason</th></tr></thead>
<tbody>
${tradeRows}
</tbody></table></div>
<p class="muted">Generated ${esc(input.generatedAt ?? new Date().toISOString())} by tradekernel.</p>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>
${CHART_SCRIPT}
</script>
</body>
</html>
`;
}

/** Draws the charts; no dependencies. */
const CHART_SCRIPT = `(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var drawn = 0;
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function scale(points, w, h, pad, extra) {
    var t0 = Infinity, t1 = -Infinity, v0 = Infinity, v1 = -Infinity;
    points.forEach(function (p) { t0 = Math.min(t0, p[0]); t1 = Math.max(t1, p[0]); v0 = Math.min(v0, p[1]); v1 = Math.max(v1, p[1]); });
    (extra || []).forEach(function (p) { v0 = Math.min(v0, p[1]); v1 = Math.max(v1, p[1]); });
    if (t1 === t0) t1 = t0 + 1;
    if (v1 === v0) { v1 = v0 + 1; v0 = v0 - 1; }
    return {
      x: function (t) { return pad + (t - t0) / (t1 - t0) * (w - 2 * pad); },
      y: function (v) { return h - pad - (v - v0) / (v1 - v0) * (h - 2 * pad); },
      v0: v0, v1: v1, t0: t0, t1: t1
    };
  }
  function label(svg, s, h, fmt) {
    el('text', { x: 4, y: 12 }, svg).textContent = fmt(s.v1);
    el('text', { x: 4, y: h - 4 }, svg).textContent = fmt(s.v0);
    el('text', { x: 996, y: h - 4, 'text-anchor': 'end' }, svg).textContent = new Date(s.t1).toISOString().slice(0, 10);
    el('text', { x: 60, y: h - 4 }, svg).textContent = new Date(s.t0).toISOString().slice(0, 10);
  }
  function line(svg, points, color, fill, extra, fmt) {
    var vb = svg.viewBox.baseVal, w = vb.width, h = vb.height;
    if (!points.length) return null;
    var s = scale(points, w, h, 16, extra);
    var d = '';
    for (var i = 0; i < points.length; i++) d += (i ? 'L' : 'M') + s.x(points[i][0]).toFixed(1) + ',' + s.y(points[i][1]).toFixed(1);
    if (fill) el('path', { d: d + 'L' + s.x(points[points.length - 1][0]).toFixed(1) + ',' + s.y(Math.min(0, s.v1)).toFixed(1) + 'L' + s.x(points[0][0]).toFixed(1) + ',' + s.y(Math.min(0, s.v1)).toFixed(1) + 'Z', fill: fill, stroke: 'none' }, svg);
    el('path', { d: d, fill: 'none', stroke: color, 'stroke-width': 1.2, 'vector-effect': 'non-scaling-stroke', 'class': 'series' }, svg);
    label(svg, s, h, fmt);
    svg.setAttribute('data-points', String(points.length));
    if (d.length > 1) drawn++;
    return s;
  }
  function money(v) { return v.toLocaleString('en-US', { maximumFractionDigits: 2 }); }
  function pct(v) { return (v * 100).toFixed(1) + '%'; }
  var q = function (name) { return document.querySelector('svg[data-chart="' + name + '"]'); };
  line(q('equity'), data.equity, '#1f6feb', 'rgba(31,111,235,0.08)', null, money);
  line(q('drawdown'), data.drawdown, '#b42318', 'rgba(180,35,24,0.15)', [[0, 0]], pct);
  data.prices.forEach(function (p, i) {
    var svg = q('price-' + i);
    var marks = p.entries.concat(p.exits);
    var s = line(svg, p.points, '#344054', null, marks, money);
    if (!s) return;
    function tri(t, v, up, color, title) {
      var x = s.x(t), y = s.y(v), k = up ? 1 : -1;
      var m = el('path', { d: 'M' + x.toFixed(1) + ',' + (y + 1 * k).toFixed(1) + 'l-4,' + (7 * k) + 'h8z', fill: color, 'class': up ? 'entry' : 'exit' }, svg);
      el('title', {}, m).textContent = title;
    }
    p.entries.forEach(function (e) { tri(e[0], e[1], true, '#067647', 'entry ' + new Date(e[0]).toISOString() + ' @ ' + e[1]); });
    p.exits.forEach(function (e) { tri(e[0], e[1], false, e[2] >= 0 ? '#1f6feb' : '#b42318', 'exit ' + new Date(e[0]).toISOString() + ' @ ' + e[1] + ' (' + e[3] + ', pnl ' + money(e[2]) + ')'); });
    svg.setAttribute('data-markers', String(p.entries.length + p.exits.length));
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();`;

function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function money(v: number | null): string {
  return v === null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function pct(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(2)}%`;
}

function num(v: number | null): string {
  return v === null ? '–' : v.toFixed(2);
}

function fmt(v: number): string {
  return String(significant(v, 8));
}

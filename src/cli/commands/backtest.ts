import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../domain/errors.js';
import { type Timeframe, timeframeMs } from '../../domain/market/timeframe.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import { defaultRiskConfig, riskNone } from '../../domain/risk/config.js';
import { type BacktestRun, runBacktest } from '../../replay/backtest/run-backtest.js';
import {
  type BacktestSettings,
  type BacktestSpec,
  type ConfigFile,
  defaultSettings,
  fillsFrom,
  quoteOf,
  readConfigFile,
  riskFrom,
} from '../../replay/backtest/settings.js';
import { type VerifyResult, verifyRun } from '../../replay/backtest/verify-run.js';
import { renderReport } from '../../replay/report/html-report.js';
import {
  resolveScenarios,
  SCENARIO_NAMES,
  type Scenario,
  scenarioRange,
} from '../../replay/research/scenarios.js';
import { parseExchange, parseSpotSymbol, parseTimeframeOption } from '../../services/market-report.js';
import { withContext } from '../context.js';
import { formatCount, formatTable, isoTime, printJson } from '../output.js';
import { ProgressBar } from '../progress.js';
import { KERNEL_VERSION } from '../version.js';
import { parseTime } from './audit.js';
import { type GlobalFlags, globalFlags, setExitCode } from './shared.js';

interface BacktestFlags {
  strategy?: string;
  symbols?: string;
  timeframe?: string;
  from?: string;
  to?: string;
  scenario?: string;
  exchange?: string;
  config?: string;
  capital?: string;
  feeRate?: string;
  slippageBps?: string;
  param?: string[];
  risk?: string;
  fraction?: string;
  runId?: string;
  json?: string | boolean;
  report?: string;
  store: boolean;
}

/** `tradekernel backtest ...` and `tradekernel replay verify <runId>` (docs/backtesting.md). */
export function registerBacktestCommands(program: Command): void {
  program
    .command('backtest')
    .description('replay stored candles through the kernel; the run goes to bt-<runId> (docs/backtesting.md)')
    .option('--strategy <name>', 'built-in strategy: ema-cross, rsi-reversion')
    .option('--symbols <list>', 'comma-separated symbols sharing one portfolio, e.g. BTC/USDT,ETH/USDT')
    .option('--timeframe <tf>', 'candle timeframe, e.g. 1h')
    .option('--from <time>', 'first candle open time: 2021-01-01, a UTC date-time or epoch ms')
    .option('--to <time>', 'end (exclusive)')
    .option(
      '--scenario <name>',
      `a crash preset for the period instead of --from/--to: ${SCENARIO_NAMES.join(', ')}`,
    )
    .option('--exchange <id>', 'exchange of the market streams (default binance)')
    .option('--config <file>', 'JSON run config: any of the above and capital, fills, risk (flags win)')
    .option('--capital <amount>', 'starting cash in the quote currency (default 10000)')
    .option('--fee-rate <rate>', 'fee on each fill, taker and maker, e.g. 0.001 (default 0.001)')
    .option('--slippage-bps <bps>', 'fixed slippage in basis points against each fill (default 5)')
    .option(
      '--param <key=value>',
      'strategy parameter, repeatable: --param fast=12 --param slow=26',
      collect,
      [],
    )
    .option('--risk <preset>', 'risk rules: default (all on) or none (fraction-of-equity sizing only)')
    .option('--fraction <f>', 'fraction of equity per position (sizing; with --risk none default 0.95)')
    .option('--run-id <id>', 'run id (default: derived from the inputs, so identical runs share it)')
    .option('--json [file]', 'write the result JSON to a file (no file: print it instead of the summary)')
    .option('--report <file>', 'write a self-contained HTML report')
    .option('--no-store', 'do not write the run to the event log')
    .action(async (flags: BacktestFlags, command: Command) => {
      const file = configFile(flags);
      const spec = buildSpec(flags, file);
      const runId = flags.runId ?? file?.runId;
      const printOnlyJson = flags.json === true;
      await withContext(storeFlags(command), async ({ store }) => {
        const progress = new LazyProgress();
        // candles the range can hold (a later listing or an outage makes it fewer)
        const step = timeframeMs(spec.timeframe);
        const expected =
          spec.symbols.length * Math.max(1, Math.ceil((Math.min(spec.to, Date.now()) - spec.from) / step));
        let run: BacktestRun;
        try {
          run = await runBacktest(store, spec, {
            kernelVersion: KERNEL_VERSION,
            ...(runId ? { runId } : {}),
            store: flags.store !== false,
            onReadProgress: (n) => progress.update('reading', n, Math.max(n, expected), 'candles'),
            onSimulateProgress: (done, total) => progress.update('kernel', done, total, 'candles'),
            onStoreProgress: (done, total) => progress.update('storing', done, total, 'events'),
          });
        } finally {
          progress.done();
        }
        if (typeof flags.json === 'string') writeFileSync(flags.json, `${JSON.stringify(run.result)}\n`);
        if (flags.report) {
          const notes = [
            `${spec.exchange} ${spec.timeframe} ${spec.symbols.join(', ')} · capital ${spec.settings.capital} ${spec.settings.quoteCurrency} · fee ${spec.settings.fills.feeRate} · slippage ${describeSlippage(spec.settings)}`,
            `risk: ${describeRisk(spec.settings)}`,
          ];
          writeFileSync(flags.report, renderReport({ result: run.result, series: run.series, notes }));
        }
        if (printOnlyJson) printJson(run.result);
        else printSummary(spec, run, flags, periodOf(flags, file ?? {}).scenario);
      });
    });

  const replay = program.command('replay').description('re-derive stored runs from their inputs');
  replay
    .command('verify <runId>')
    .description('re-run a stored backtest from its RunStarted inputs and compare every decision event')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, o: { json?: boolean }, command: Command) => {
      const result = await withContext(globalFlags(command), ({ store }) =>
        verifyRun(store, runId, { kernelVersion: KERNEL_VERSION }),
      );
      if (o.json) printJson(result);
      else printVerify(result);
      if (!result.ok) setExitCode(4);
    });
}

/**
 * The global store flags. `--no-store` makes commander give this command a boolean `store`,
 * which would hide the global `--store <kind>` in optsWithGlobals(): take that one from the program.
 */
function storeFlags(command: Command): GlobalFlags {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const rootStore = root.opts().store as unknown;
  const flags = { ...globalFlags(command) } as GlobalFlags;
  if (typeof rootStore === 'string') flags.store = rootStore;
  else delete flags.store;
  return flags;
}

// ─── the spec from defaults, config file and flags ───────────────────────────────────────────

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function configFile(flags: BacktestFlags): ConfigFile | undefined {
  if (!flags.config) return undefined;
  let text: string;
  try {
    text = readFileSync(flags.config, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `--config ${flags.config}: ${(error as NodeJS.ErrnoException).code ?? 'cannot read it'}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${flags.config}: not JSON (${(error as Error).message})`);
  }
  return readConfigFile(parsed, flags.config);
}

function number(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new ConfigError(`${flag}: "${value}" is not a number`);
  return n;
}

export function buildSpec(flags: BacktestFlags, file: ConfigFile = {}): BacktestSpec {
  const where = flags.config ?? 'config';
  const strategy = flags.strategy ?? file.strategy;
  if (!strategy) throw new ConfigError('backtest needs --strategy', 'for example --strategy ema-cross');
  const symbolList = flags.symbols ?? (Array.isArray(file.symbols) ? file.symbols.join(',') : file.symbols);
  if (!symbolList)
    throw new ConfigError('backtest needs --symbols', 'for example --symbols BTC/USDT,ETH/USDT');
  const symbols = symbolList
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseSpotSymbol(s, '--symbols'));
  if (symbols.length === 0) throw new ConfigError('--symbols is empty');
  if (new Set(symbols).size !== symbols.length)
    throw new ConfigError(`--symbols repeats a symbol: ${symbols.join(',')}`);
  const timeframeText = flags.timeframe ?? file.timeframe;
  if (!timeframeText) throw new ConfigError('backtest needs --timeframe', 'for example --timeframe 1h');
  const timeframe: Timeframe = parseTimeframeOption(timeframeText);
  const { from, to } = periodOf(flags, file);
  const exchange = parseExchange(flags.exchange ?? file.exchange ?? 'binance');

  const params: Record<string, number> = { ...(file.params ?? {}) };
  for (const p of flags.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--param "${p}" is not key=value`, 'for example --param fast=12');
    params[p.slice(0, eq).trim()] = number(p.slice(eq + 1), `--param ${p.slice(0, eq)}`);
  }

  const base = defaultSettings(quoteOf(symbols));
  let fills = fillsFrom(base.fills, file.fills, `${where}: fills`);
  let risk = riskFrom(file.risk, `${where}: risk`);
  if (flags.feeRate !== undefined) {
    const rate = number(flags.feeRate, '--fee-rate');
    fills = fillsFrom(fills, { feeRate: rate, makerFeeRate: rate }, '--fee-rate');
  }
  if (flags.slippageBps !== undefined) {
    fills = fillsFrom(
      fills,
      { slippage: { model: 'fixed', bps: number(flags.slippageBps, '--slippage-bps') } },
      '--slippage-bps',
    );
  }
  const fraction = flags.fraction === undefined ? undefined : number(flags.fraction, '--fraction');
  if (flags.risk !== undefined) {
    if (flags.risk === 'none') risk = riskNone(fraction ?? 0.95);
    else if (flags.risk === 'default') risk = defaultRiskConfig();
    else throw new ConfigError(`--risk "${flags.risk}" is not a preset`, 'use --risk default or --risk none');
  }
  if (fraction !== undefined && !(flags.risk === 'none')) {
    risk = riskFrom(
      { ...JSON.parse(JSON.stringify(risk)), sizing: { mode: 'fixed-fraction', fraction } },
      '--fraction',
    );
  }
  const capital =
    flags.capital !== undefined ? number(flags.capital, '--capital') : (file.capital ?? base.capital);
  if (!(capital > 0)) throw new ConfigError(`--capital must be positive, got ${capital}`);
  const settings: BacktestSettings = {
    capital,
    quoteCurrency: base.quoteCurrency,
    fills,
    risk,
    entryOrderTtlCandles: file.entryOrderTtlCandles ?? base.entryOrderTtlCandles,
  };
  return { strategy: { name: strategy, params }, exchange, timeframe, symbols, from, to, settings };
}

/**
 * The period: --scenario <preset> or --from/--to. The two are exclusive within the flags and
 * within the config file (both at once is an error, not a silent choice). Flags win over the
 * file: --scenario replaces the file's period whatever it is, and the file's "scenario" applies
 * only when no period flag is given (--from/--to otherwise mix with the file's from/to key by
 * key, as before scenarios existed).
 */
function periodOf(flags: BacktestFlags, file: ConfigFile): { from: number; to: number; scenario?: Scenario } {
  const where = flags.config ?? 'config';
  if (flags.scenario !== undefined && (flags.from !== undefined || flags.to !== undefined))
    throw new ConfigError(
      'give --scenario or --from/--to, not both',
      `--scenario ${flags.scenario} sets the period; drop --from/--to, or drop --scenario`,
    );
  if (file.scenario !== undefined && (file.from !== undefined || file.to !== undefined))
    throw new ConfigError(`${where}: give "scenario" or "from"/"to", not both`);
  const flagsGivePeriod = flags.scenario !== undefined || flags.from !== undefined || flags.to !== undefined;
  const scenarioName = flags.scenario ?? (flagsGivePeriod ? undefined : file.scenario);
  if (scenarioName !== undefined) {
    const found = resolveScenarios(
      scenarioName,
      flags.scenario !== undefined ? '--scenario' : `${where}: scenario`,
    );
    if (found.length !== 1)
      throw new ConfigError('--scenario: give one scenario', `one of ${SCENARIO_NAMES.join(', ')}`);
    return { ...scenarioRange(found[0]!), scenario: found[0]! };
  }
  const fromText = flags.from ?? (file.from === undefined ? undefined : String(file.from));
  const toText = flags.to ?? (file.to === undefined ? undefined : String(file.to));
  if (!fromText || !toText)
    throw new ConfigError(
      'backtest needs --from and --to (or --scenario)',
      `for example --from 2021-01-01 --to 2022-01-01, or --scenario ${SCENARIO_NAMES[0]}`,
    );
  const from = parseTime(fromText, '--from');
  const to = parseTime(toText, '--to');
  if (!(to > from)) throw new ConfigError(`--to (${toText}) is not after --from (${fromText})`);
  return { from, to };
}

function describeSlippage(s: BacktestSettings): string {
  const m = s.fills.slippage;
  if (m.model === 'fixed') return `${m.bps} bps`;
  if (m.model === 'volatility') return `${m.baseBps} bps + ${m.atrShare} x ATR/price`;
  return `${m.baseBps} bps + ${m.impactBps} bps x sqrt(share of volume)`;
}

function describeRisk(s: BacktestSettings): string {
  const r = s.risk;
  const sizing =
    r.sizing.mode === 'fixed-fraction' ? `${r.sizing.fraction} of equity` : `kelly x ${r.sizing.multiplier}`;
  const on = Object.entries(r.rules)
    .filter(([, rule]) => rule.enabled)
    .map(([name]) => name);
  return `sizing ${sizing}; rules on: ${on.length > 0 ? on.join(', ') : 'none'}`;
}

// ─── output ──────────────────────────────────────────────────────────────────────────────────

/** A progress bar that appears only once the work has taken a second. */
class LazyProgress {
  private readonly started = Date.now();
  private bar: ProgressBar | null = null;
  private label = '';

  update(label: string, done: number, total: number, unit: string): void {
    if (this.bar === null && Date.now() - this.started < 1000) return;
    if (label !== this.label) {
      this.bar?.done();
      this.bar = new ProgressBar(label, total, unit);
      this.label = label;
    }
    this.bar?.update(done, total);
  }

  done(): void {
    this.bar?.done();
  }
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
const dec = (v: number | null) => (v === null ? '-' : v.toFixed(2));
const money = (v: number | null) =>
  v === null ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function printSummary(
  spec: BacktestSpec,
  run: BacktestRun,
  flags: BacktestFlags,
  scenario: Scenario | undefined,
): void {
  const r = run.result;
  const m = r.metrics;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rate = (n: number, ms: number) => (ms > 0 ? formatCount(Math.round((n / ms) * 1000)) : '-');
  const params = Object.entries(r.strategy.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`backtest ${r.runId}: ${r.strategy.name} ${r.strategy.version} ${params}`);
  console.log(
    `  ${spec.exchange} ${spec.timeframe} ${spec.symbols.join(', ')} from ${isoTime(spec.from)} to ${isoTime(spec.to)}${scenario ? ` (scenario ${scenario.name}: ${scenario.title})` : ''}`,
  );
  console.log(
    `  capital ${money(spec.settings.capital)} ${spec.settings.quoteCurrency}; risk: ${describeRisk(spec.settings)}`,
  );
  for (const c of run.coverage) {
    const notes: string[] = [];
    if (c.first !== null && c.first > spec.from) notes.push(`starts ${isoTime(c.first)}`);
    if (c.gaps > 0)
      notes.push(`${c.gaps} recorded outage(s), ${formatCount(c.missingInGaps)} candle(s) never published`);
    console.log(
      `  ${c.symbol}: ${formatCount(c.candles)} candles${notes.length ? ` (${notes.join('; ')})` : ''}`,
    );
  }
  const t = run.timings;
  console.log(
    `  ${formatCount(r.dataPoints)} data points in ${seconds(t.total)}: ${rate(r.dataPoints, t.total)} data points/s end to end (read ${seconds(t.read)} via ${run.readVia}, of which kernel ${seconds(t.simulate)} = ${rate(r.dataPoints, t.simulate)}/s; store ${seconds(t.store)})`,
  );
  console.log('');
  console.log(
    formatTable(
      ['metric', 'value'],
      [
        ['start equity', money(m.startEquity)],
        ['end equity', money(m.endEquity)],
        ['total return', pct(m.totalReturn)],
        ['CAGR', pct(m.cagr)],
        ['Sharpe (daily, sqrt 365)', dec(m.sharpe)],
        ['Sortino', dec(m.sortino)],
        ['Calmar', dec(m.calmar)],
        ['max drawdown', pct(m.maxDrawdown)],
        ['trades', formatCount(m.trades)],
        ['win rate', pct(m.winRate)],
        ['profit factor', dec(m.profitFactor)],
        ['expectancy', money(m.expectancy)],
        ['exposure', pct(m.exposure)],
        ['fees paid', money(m.feesPaid)],
      ],
      ['l', 'r'],
    ),
  );
  const bySymbol = spec.symbols.map((symbol) => {
    const trades = run.sim.trades.filter((x: ClosedTrade) => x.symbol === symbol);
    const wins = trades.filter((x) => x.pnl > 0).length;
    const pnl = trades.reduce((a, x) => a + x.pnl, 0);
    const reasons = new Map<string, number>();
    for (const x of trades) reasons.set(x.exitReason, (reasons.get(x.exitReason) ?? 0) + 1);
    return [
      symbol,
      formatCount(trades.length),
      trades.length ? pct(wins / trades.length) : '-',
      money(pnl),
      [...reasons].map(([k, v]) => `${k} ${v}`).join(', ') || '-',
    ];
  });
  console.log('');
  console.log(
    formatTable(['symbol', 'trades', 'win rate', 'pnl', 'exits'], bySymbol, ['l', 'r', 'r', 'r', 'l']),
  );
  if (run.sim.openPositions.length > 0) {
    console.log(
      `  still open at the end (marked to the last close): ${run.sim.openPositions.map((p) => `${p.symbol} ${p.quantity} @ ${p.entryPrice}`).join(', ')}`,
    );
  }
  console.log('');
  const stored = {
    appended: `stored in ${run.account} (${formatCount(run.sim.decisions + 2)} events)`,
    resumed: `completed the interrupted run in ${run.account}`,
    'already-stored': `already stored in ${run.account}: re-derived, identical decision hash`,
    'not-stored': 'not stored (--no-store)',
  }[run.storedAs];
  console.log(`${stored}; decision hash ${run.decisionHash}`);
  if (typeof flags.json === 'string') console.log(`result JSON: ${flags.json}`);
  if (flags.report) console.log(`report: ${flags.report}`);
}

function printVerify(r: VerifyResult): void {
  if (r.ok) {
    console.log(
      `ok: ${r.account} re-derived: ${formatCount(r.decisions.actual)} decision events from ${formatCount(r.dataPoints.actual)} data points, identical (hash ${r.decisionHash.actual})`,
    );
  } else {
    console.log(`DIVERGED: ${r.account}`);
    console.log(
      `  stored ${formatCount(r.decisions.stored)} decisions, re-derived ${formatCount(r.decisions.actual)}; hash recorded ${r.decisionHash.recorded ?? '-'}, stored ${r.decisionHash.stored}, re-derived ${r.decisionHash.actual}`,
    );
    const d = r.divergence;
    if (d) {
      console.log(`  first divergence at decision ${d.index} (stream revision ${d.index + 1}):`);
      console.log(
        `    expected (stored):  ${d.expected ? JSON.stringify(d.expected) : '(nothing: the stream ends here)'}`,
      );
      console.log(
        `    actual (re-derived): ${d.actual ? JSON.stringify(d.actual) : '(nothing: re-deriving ends here)'}`,
      );
    }
  }
  for (const p of r.problems) console.log(`  ${p}`);
}

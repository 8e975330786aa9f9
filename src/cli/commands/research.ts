import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../domain/errors.js';
import type { KernelConfig } from '../../domain/kernel/config.js';
import { defaultKernelConfig } from '../../domain/kernel/config.js';
import { type Timeframe, timeframeMs } from '../../domain/market/timeframe.js';
import type { Metrics } from '../../domain/performance/metrics.js';
import { MONTE_CARLO_METHODS, type MonteCarloMethod } from '../../domain/performance/monte-carlo.js';
import { builtInStrategy } from '../../domain/strategies/index.js';
import type { CandleSeries } from '../../replay/backtest/candle-series.js';
import { findMissing, MissingDataError, readMarketData } from '../../replay/backtest/market-data.js';
import { type BacktestSettings, quoteOf } from '../../replay/backtest/settings.js';
import { OBJECTIVES, type Objective, type RunSpec } from '../../replay/research/evaluate.js';
import { checkLookahead } from '../../replay/research/lookahead.js';
import { defaultJobs, type OptimizeResult, optimize } from '../../replay/research/optimizer.js';
import {
  describeSpec,
  formatParams,
  type ParamSpec,
  type ParamValues,
  parseParamSpecs,
} from '../../replay/research/param-space.js';
import { resolveScenarios, type Scenario, scenarioRange } from '../../replay/research/scenarios.js';
import { SEARCH_KINDS, type SearchKind, type SearchOptions } from '../../replay/research/search.js';
import { type StressRun, stressRun } from '../../replay/research/stress.js';
import { parseDuration, type WalkForwardResult, walkForward } from '../../replay/research/walk-forward.js';
import { checkWarmup } from '../../replay/research/warmup.js';
import { parseExchange, parseSpotSymbol, parseTimeframeOption } from '../../services/market-report.js';
import { withContext } from '../context.js';
import { formatCount, formatTable, isoTime, printJson } from '../output.js';
import { ProgressBar } from '../progress.js';
import { parseTime } from './audit.js';
import { buildSpec } from './backtest.js';
import { globalFlags, parsePositiveInt, setExitCode } from './shared.js';

/**
 * Research commands (docs/research.md): `walk-forward`, `optimize`, `check lookahead`,
 * `check warmup` and `stress` (the --scenario crash presets and the Monte Carlo of trade order).
 * They read candles from the market streams like `backtest` does, take the same settings flags,
 * and never write to the event log: they are questions about a strategy, not runs.
 */
export function registerResearchCommands(program: Command): void {
  const wf = program
    .command('walk-forward')
    .description(
      'optimise on each train window, trade the next test window, stitch the out-of-sample equity',
    );
  marketOptions(wf);
  searchOptions(wf);
  settingsOptions(wf);
  wf.requiredOption('--train <duration>', 'train window, e.g. 180d')
    .requiredOption('--test <duration>', 'test window, e.g. 30d')
    .option('--step <duration>', 'how far each window moves on (default: --test)')
    .option('--anchored', 'every train window starts at --from (expanding window)')
    .option(
      '--warmup <candles>',
      'candles before each test window that warm the indicators (default: the train window)',
    )
    .option('--json [file]', 'the result as JSON: to the file, or to standard output without one')
    .action(async (o: ResearchFlags, command: Command) => {
      const m = marketOf(o);
      const specs = paramSpecsOf(o);
      const spec = runSpecOf(o, m);
      const series = await loadSeries(command, m);
      const progress = new ProgressBar('walk-forward', 0, 'trials');
      let result: WalkForwardResult;
      try {
        result = await walkForward({
          series,
          spec,
          params: specs,
          objective: objectiveOf(o),
          search: searchOf(o),
          from: m.from,
          to: m.to,
          trainMs: parseDuration(o.train!, '--train'),
          testMs: parseDuration(o.test!, '--test'),
          ...(o.step ? { stepMs: parseDuration(o.step, '--step') } : {}),
          anchored: o.anchored === true,
          ...(o.warmup !== undefined ? { warmupCandles: nonNegativeInt(o.warmup, '--warmup') } : {}),
          jobs: jobsOf(o),
          ...(o.batch ? { batch: parsePositiveInt(o.batch, '--batch') } : {}),
          ...(o.maxHeapMb ? { maxHeapMb: parsePositiveInt(o.maxHeapMb, '--max-heap-mb') } : {}),
          onProgress: (_w, _n, done, planned) => progress.update(done, planned),
        });
      } finally {
        progress.done();
      }
      const json = walkForwardJson(result, m);
      if (emitJson(o.json, json)) return;
      printWalkForward(result, m);
    });

  const opt = program
    .command('optimize')
    .description(
      'search strategy parameters on worker threads, ranked, with overfitting diagnostics (DSR, PBO)',
    );
  marketOptions(opt);
  searchOptions(opt);
  settingsOptions(opt);
  opt
    .option('--scenario <name>', 'optimise over a crash preset instead of --from/--to')
    .option('--warmup <candles>', 'candles before --from that warm the indicators without trading', '0')
    .option('--pbo-blocks <S>', 'CSCV blocks for the PBO (even)', '16')
    .option('--top <n>', 'rows of the ranking to print', '10')
    .option('--json [file]', 'the result as JSON: to the file, or to standard output without one')
    .action(async (o: ResearchFlags, command: Command) => {
      const m = marketOf(o);
      const specs = paramSpecsOf(o);
      const warmup = nonNegativeInt(o.warmup ?? '0', '--warmup');
      const spec: RunSpec = { ...runSpecOf(o, m), from: m.from, to: m.to, warmupCandles: warmup };
      const series = await loadSeries(command, m, warmup);
      const progress = new ProgressBar('optimize', 0, 'trials');
      let result: OptimizeResult;
      try {
        result = await optimize({
          series,
          spec,
          params: specs,
          objective: objectiveOf(o),
          search: searchOf(o),
          jobs: jobsOf(o),
          ...(o.batch ? { batch: parsePositiveInt(o.batch, '--batch') } : {}),
          pboBlocks: parsePositiveInt(o.pboBlocks ?? '16', '--pbo-blocks'),
          ...(o.maxHeapMb ? { maxHeapMb: parsePositiveInt(o.maxHeapMb, '--max-heap-mb') } : {}),
          onProgress: (done, planned) => progress.update(done, planned),
        });
      } finally {
        progress.done();
      }
      if (emitJson(o.json, optimizeJson(result, m, specs))) return;
      printOptimize(result, m, specs, parsePositiveInt(o.top ?? '10', '--top'));
    });

  const check = program.command('check').description('bias checks of a strategy: look-ahead and warm-up');

  const lookahead = check
    .command('lookahead')
    .description('signals computed on truncated history must equal those of the full run');
  marketOptions(lookahead);
  lookahead
    .option('--samples <n>', 'cut points at signals, and as many elsewhere', '50')
    .option('--seed <n>', 'seed for the cut points away from signals', '1')
    .option('--json [file]', 'the result as JSON: to the file, or to standard output without one')
    .action(async (o: ResearchFlags, command: Command) => {
      const m = marketOf(o);
      const params = fixedParams(o);
      const definition = builtInStrategy(m.strategy, params);
      const series = await loadSeries(command, m);
      const r = checkLookahead(series, () => definition, {
        samples: parsePositiveInt(o.samples ?? '50', '--samples'),
        seed: integer(o.seed ?? '1', '--seed'),
      });
      if (r.biased) setExitCode(3);
      const json = {
        ...r,
        findings: r.findings.map((f) => ({
          ...f,
          cut: { ...f.cut, openTime: isoTime(f.cut.openTime) },
          at: { ...f.at, openTime: isoTime(f.at.openTime) },
        })),
      };
      if (emitJson(o.json, json)) return;
      console.log(
        `check lookahead ${r.strategy} ${formatParams(r.params)} on ${m.symbols.join(',')} ${m.timeframe} ${period(m)}`,
      );
      console.log(
        formatTable(
          ['symbol', 'candles', 'signals', 'cuts checked', 'differences'],
          r.symbols.map((s) => [s.symbol, formatCount(s.candles), s.signals, s.cuts, s.differences]),
          ['l', 'r', 'r', 'r', 'r'],
        ),
      );
      if (!r.biased) {
        console.log('ok: every signal up to each cut is the same as in the full run (no look-ahead found)');
        return;
      }
      console.log(`LOOK-AHEAD: ${r.findings.length} cut(s) changed a signal; first ones:`);
      for (const f of r.findings.slice(0, 10))
        console.log(
          `  ${f.symbol} cut at ${isoTime(f.cut.openTime)}: signal at ${isoTime(f.at.openTime)} was ${describeSignal(f.full)} in the full run, ${describeSignal(f.truncated)} on truncated history`,
        );
    });

  const warm = check
    .command('warmup')
    .description(
      'indicator values and signals stable with different warm-up lengths; the startup candles needed',
    );
  marketOptions(warm);
  warm
    .option(
      '--warmups <list>',
      'warm-up lengths to test, in candles, e.g. 50,100,200,500 (default: multiples of the lookback)',
    )
    .option('--samples <n>', 'target candles per symbol', '10')
    .option('--tolerance <x>', 'relative tolerance for indicator values', '0.0001')
    .option('--horizon <n>', 'candles after each target whose signals are compared', '200')
    .option('--json [file]', 'the result as JSON: to the file, or to standard output without one')
    .action(async (o: ResearchFlags, command: Command) => {
      const m = marketOf(o);
      const definition = builtInStrategy(m.strategy, fixedParams(o));
      const series = await loadSeries(command, m);
      const tolerance = Number(o.tolerance ?? '0.0001');
      if (!(tolerance > 0)) throw new ConfigError(`--tolerance: "${o.tolerance}" is not a positive number`);
      const r = checkWarmup(series, () => definition, {
        ...(o.warmups
          ? { warmups: o.warmups.split(',').map((w) => parsePositiveInt(w.trim(), '--warmups')) }
          : {}),
        samples: parsePositiveInt(o.samples ?? '10', '--samples'),
        tolerance,
        horizon: parsePositiveInt(o.horizon ?? '200', '--horizon'),
      });
      if (r.startupCandles === null) setExitCode(3);
      const json = { ...r, examples: r.examples.map((e) => ({ ...e, openTime: isoTime(e.openTime) })) };
      if (emitJson(o.json, json)) return;
      console.log(
        `check warmup ${r.strategy} ${formatParams(r.params)} on ${m.symbols.join(',')} ${m.timeframe} ${period(m)}: ${r.targets} targets, tolerance ${r.tolerance}, lookback ${r.lookback ?? 'unknown'}`,
      );
      const names = Object.keys(r.rows[0]?.maxDifference ?? {});
      console.log(
        formatTable(
          ['warm-up', ...names.map((n) => `max rel diff ${n}`), 'signal mismatches', 'stable'],
          r.rows.map((row) => [
            row.warmup,
            ...names.map((n) => formatSci(row.maxDifference[n]!)),
            `${row.signalMismatches}/${row.signalsCompared}`,
            row.stable ? 'yes' : 'no',
          ]),
          ['r', ...names.map(() => 'r' as const), 'r', 'l'],
        ),
      );
      if (r.skipped.length > 0) console.log(`skipped (longer than the data): ${r.skipped.join(', ')}`);
      if (r.startupCandles !== null)
        console.log(
          `startup candles needed: ${r.startupCandles} (values within ${r.tolerance}, signals identical)`,
        );
      else {
        console.log('UNSTABLE: even the longest warm-up tested disagrees with a run from the first candle');
        for (const e of r.examples)
          console.log(
            `  ${e.symbol} ${isoTime(e.openTime)} warm-up ${e.warmup}: ${describeSignal(e.warmedUp)} vs ${describeSignal(e.reference)} from the first candle`,
          );
      }
    });

  const stress = program
    .command('stress')
    .description(
      'a strategy over crash scenarios (--scenario) or a period, with a Monte Carlo of trade order',
    );
  marketOptions(stress, false);
  settingsOptions(stress);
  stress
    .option('--scenario <names>', 'covid-2020, may-2021, luna-2022, ftx-2022, a comma list, or all')
    .option(
      '--warmup <candles>',
      'candles before each window that warm the indicators without trading',
      '500',
    )
    .option('--monte-carlo <runs>', 'reshuffle the closed trades this many times (0: no Monte Carlo)', '1000')
    .option('--mc-method <method>', `Monte Carlo: ${MONTE_CARLO_METHODS.join(' or ')}`, 'shuffle')
    .option('--seed <n>', 'Monte Carlo seed', '1')
    .option('--json [file]', 'the result as JSON: to the file, or to standard output without one')
    .action(async (o: ResearchFlags, command: Command) => {
      const windows = stressWindows(o);
      const m = marketOf(o, windows[0]);
      const params = fixedParams(o);
      builtInStrategy(m.strategy, params);
      const warmup = nonNegativeInt(o.warmup ?? '500', '--warmup');
      const spec: RunSpec = { ...runSpecOf(o, m), warmupCandles: warmup };
      const runs = nonNegativeInt(o.monteCarlo ?? '1000', '--monte-carlo');
      const method = o.mcMethod ?? 'shuffle';
      if (!MONTE_CARLO_METHODS.includes(method as MonteCarloMethod))
        throw new ConfigError(
          `--mc-method: "${method}" is not a method`,
          `use ${MONTE_CARLO_METHODS.join(' or ')}`,
        );
      const mc =
        runs > 0
          ? { runs, seed: integer(o.seed ?? '1', '--seed'), method: method as MonteCarloMethod }
          : null;
      const results: StressRun[] = [];
      for (const w of windows) {
        const series = await loadSeries(command, { ...m, from: w.from, to: w.to }, warmup);
        results.push(stressRun(series, spec, params, w, mc));
      }
      if (emitJson(o.json, stressJson(results, m))) return;
      printStress(results, m);
    });
}

// ─── flags ───────────────────────────────────────────────────────────────────────────────────

interface ResearchFlags {
  strategy?: string;
  symbols?: string;
  timeframe?: string;
  exchange?: string;
  from?: string;
  to?: string;
  param?: string[];
  objective?: string;
  search?: string;
  trials?: string;
  seed?: string;
  batch?: string;
  jobs?: string;
  maxHeapMb?: string;
  config?: string;
  capital?: string;
  feeRate?: string;
  slippageBps?: string;
  risk?: string;
  fraction?: string;
  train?: string;
  test?: string;
  step?: string;
  anchored?: boolean;
  warmup?: string;
  warmups?: string;
  scenario?: string;
  pboBlocks?: string;
  top?: string;
  samples?: string;
  tolerance?: string;
  horizon?: string;
  monteCarlo?: string;
  mcMethod?: string;
  json?: string | boolean;
}

interface Market {
  strategy: string;
  exchange: string;
  timeframe: Timeframe;
  symbols: string[];
  from: number;
  to: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function marketOptions(c: Command, needPeriod = true): void {
  c.requiredOption('--strategy <name>', 'a built-in strategy: ema-cross, rsi-reversion')
    .requiredOption('--symbols <list>', 'comma-separated symbols, e.g. BTC/USDT,ETH/USDT')
    .option('--timeframe <tf>', 'candle timeframe', '1h')
    .option('--exchange <id>', 'exchange of the market streams', 'binance')
    .option(
      '--from <time>',
      `first candle open time (UTC date, date-time or epoch ms)${needPeriod ? '' : '; or --scenario'}`,
    )
    .option('--to <time>', 'end, exclusive')
    .option(
      '--param <name=values>',
      'a parameter: fast=12, fast=5..30:1, fast=5,8,13 (repeat the flag)',
      collect,
      [],
    );
}

function searchOptions(c: Command): void {
  c.option('--objective <name>', `what to maximise: ${OBJECTIVES.join(', ')}`, 'sharpe')
    .option('--search <kind>', `${SEARCH_KINDS.join(', ')} (bayes: a multivariate TPE)`, 'grid')
    .option('--trials <n>', 'random and bayes: how many parameter sets', '100')
    .option('--seed <n>', 'random and bayes: the seed (same seed, same trials)', '1')
    .option('--batch <n>', 'bayes: trials per model update, evaluated in parallel', '4')
    .option('--jobs <n>', `worker threads (1: in this thread; default ${defaultJobs()})`)
    .option('--max-heap-mb <n>', 'heap cap of each worker, MiB', '512');
}

function settingsOptions(c: Command): void {
  c.option('--config <file>', 'JSON run config as for backtest: capital, fills, risk, entryOrderTtlCandles')
    .option('--capital <amount>', 'starting cash in the quote currency (default 10000)')
    .option('--fee-rate <rate>', 'fee on each fill, taker and maker, e.g. 0.001 (default 0.001)')
    .option('--slippage-bps <bps>', 'fixed slippage in basis points against each fill (default 5)')
    .option('--risk <preset>', 'risk rules: default (all on) or none (fraction-of-equity sizing only)')
    .option('--fraction <f>', 'fraction of equity per position (with --risk none default 0.95)');
}

function marketOf(o: ResearchFlags, window?: { from: number; to: number }): Market {
  if (!o.strategy) throw new ConfigError('--strategy is needed', 'for example --strategy ema-cross');
  builtInStrategy(o.strategy); // unknown names fail here, with the list
  const symbols = (o.symbols ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseSpotSymbol(s, '--symbols'));
  if (symbols.length === 0) throw new ConfigError('--symbols is empty', 'for example --symbols BTC/USDT');
  quoteOf(symbols);
  let from: number;
  let to: number;
  if (window) ({ from, to } = window);
  else if (o.scenario) {
    const scenarios = resolveScenarios(o.scenario);
    if (scenarios.length !== 1) throw new ConfigError('--scenario: give one scenario here');
    ({ from, to } = scenarioRange(scenarios[0]!));
  } else {
    if (!o.from || !o.to)
      throw new ConfigError('--from and --to are needed', 'for example --from 2021-01-01 --to 2022-01-01');
    from = parseTime(o.from, '--from');
    to = parseTime(o.to, '--to');
  }
  if (!(to > from)) throw new ConfigError('--to must be after --from');
  return {
    strategy: o.strategy,
    exchange: parseExchange(o.exchange ?? 'binance'),
    timeframe: parseTimeframeOption(o.timeframe ?? '1h'),
    symbols,
    from,
    to,
  };
}

function paramSpecsOf(o: ResearchFlags): ParamSpec[] {
  const specs = parseParamSpecs(o.param ?? []);
  if (specs.length === 0)
    throw new ConfigError(
      '--param: give at least one parameter to search',
      'for example --param fast=5..30:1 --param slow=20..100:5',
    );
  return specs;
}

/** --param flags that must each have one value (checks and stress runs use one parameter set). */
function fixedParams(o: ResearchFlags): ParamValues {
  const params: ParamValues = {};
  for (const s of parseParamSpecs(o.param ?? [])) {
    if (s.values.length !== 1)
      throw new ConfigError(
        `--param: ${s.name} needs one value here, got ${describeSpec(s)}`,
        'for example --param fast=12',
      );
    params[s.name] = s.values[0]!;
  }
  return params;
}

function objectiveOf(o: ResearchFlags): Objective {
  const v = o.objective ?? 'sharpe';
  if (!OBJECTIVES.includes(v as Objective))
    throw new ConfigError(`--objective: "${v}" is not an objective`, `use ${OBJECTIVES.join(', ')}`);
  return v as Objective;
}

function searchOf(o: ResearchFlags): SearchOptions {
  const kind = (o.search ?? 'grid') as SearchKind;
  if (!SEARCH_KINDS.includes(kind))
    throw new ConfigError(`--search: "${o.search}" is not a search`, `use ${SEARCH_KINDS.join(', ')}`);
  return {
    kind,
    trials: parsePositiveInt(o.trials ?? '100', '--trials'),
    seed: integer(o.seed ?? '1', '--seed'),
  };
}

function jobsOf(o: ResearchFlags): number {
  return o.jobs === undefined ? defaultJobs() : parsePositiveInt(o.jobs, '--jobs');
}

function integer(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${flag}: "${value}" is not a whole number`);
  return n;
}

function nonNegativeInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${flag}: "${value}" is not a whole number >= 0`);
  return n;
}

/**
 * Settings exactly as `backtest` builds them from the same flags (defaults, then --config, then
 * --capital/--fee-rate/--slippage-bps/--risk/--fraction): backtest.ts's buildSpec.
 */
export function settingsOf(o: ResearchFlags, m: Market): BacktestSettings {
  return buildSpec({
    strategy: m.strategy,
    symbols: m.symbols.join(','),
    timeframe: m.timeframe,
    exchange: m.exchange,
    from: String(m.from),
    to: String(m.to),
    param: [],
    store: false,
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(o.capital !== undefined ? { capital: o.capital } : {}),
    ...(o.feeRate !== undefined ? { feeRate: o.feeRate } : {}),
    ...(o.slippageBps !== undefined ? { slippageBps: o.slippageBps } : {}),
    ...(o.risk !== undefined ? { risk: o.risk } : {}),
    ...(o.fraction !== undefined ? { fraction: o.fraction } : {}),
  }).settings;
}

function runSpecOf(o: ResearchFlags, m: Market): RunSpec {
  const s = settingsOf(o, m);
  const config: KernelConfig = defaultKernelConfig({
    initialCash: s.capital,
    quoteCurrency: s.quoteCurrency,
    fills: s.fills,
    risk: s.risk,
    entryOrderTtlCandles: s.entryOrderTtlCandles,
  });
  return { strategy: m.strategy, config, symbols: m.symbols };
}

/** Candles of [from − warmup candles, to) from the market streams; missing data is an error. */
async function loadSeries(command: Command, m: Market, warmupCandles = 0): Promise<CandleSeries> {
  const request = {
    exchange: m.exchange,
    timeframe: m.timeframe,
    symbols: m.symbols,
    from: m.from - warmupCandles * timeframeMs(m.timeframe),
    to: m.to,
  };
  return withContext(globalFlags(command), async ({ store }) => {
    const progress = new ProgressBar('read', 0, 'candles');
    try {
      const data = await readMarketData(store, request, {
        onProgress: (n) => progress.update(n, Math.max(n, 1)),
      });
      // the warm-up part may be absent (a symbol listed later): only the run's own range must exist
      const missing = findMissing({ ...request, from: m.from }, data.coverage, Date.now());
      if (missing.length > 0) throw new MissingDataError({ ...request, from: m.from }, missing);
      return data.series;
    } finally {
      progress.done();
    }
  });
}

/** --json: true → standard output (returns true: nothing else to print); a file → written. */
function emitJson(flag: string | boolean | undefined, value: unknown): boolean {
  if (flag === undefined || flag === false) return false;
  if (flag === true) {
    printJson(value);
    return true;
  }
  writeFileSync(flag, `${JSON.stringify(value, null, 2)}\n`);
  console.error(`wrote ${flag}`);
  return false;
}

// ─── output ──────────────────────────────────────────────────────────────────────────────────

function period(m: Pick<Market, 'from' | 'to'>): string {
  return `${isoTime(m.from)}..${isoTime(m.to)}`;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function fixed(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(digits)}%`;
}

function formatSci(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  return x.toExponential(2);
}

function describeSignal(s: { direction: string; indicators: Record<string, number> } | null): string {
  if (s === null) return 'none';
  const ind = Object.entries(s.indicators)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(6))}`)
    .join(' ');
  return `${s.direction} (${ind})`;
}

function metricsRow(metrics: Metrics): (string | number)[] {
  return [
    fixed(metrics.sharpe),
    fixed(metrics.sortino),
    fixed(metrics.calmar),
    pct(metrics.totalReturn),
    pct(metrics.maxDrawdown),
    metrics.trades,
  ];
}

function optimizeJson(r: OptimizeResult, m: Market, specs: readonly ParamSpec[]) {
  return {
    strategy: r.strategy,
    symbols: m.symbols,
    exchange: m.exchange,
    timeframe: m.timeframe,
    period: { from: isoTime(m.from), to: isoTime(m.to) },
    objective: r.objective,
    search: r.search,
    params: specs.map((s) => ({ name: s.name, values: s.values })),
    ranked: r.ranked,
    diagnostics: r.diagnostics,
    performance: r.performance,
  };
}

function printOptimize(r: OptimizeResult, m: Market, specs: readonly ParamSpec[], top: number): void {
  const s = r.search;
  const p = r.performance;
  console.log(
    `optimize ${r.strategy} on ${m.symbols.join(',')} ${m.timeframe} ${period(m)}, objective ${r.objective}`,
  );
  console.log(
    `${s.kind} search${s.seed !== null ? ` (seed ${s.seed})` : ''}: ${formatCount(s.trials)} trials of ${formatCount(s.gridPoints)} grid points (${s.feasiblePoints === null ? 'too many to count valid ones' : `${formatCount(s.feasiblePoints)} valid`}); ${specs.map(describeSpec).join(', ')}`,
  );
  console.log(
    `${p.jobs} ${p.jobs === 1 ? 'thread' : 'workers'}, ${(p.wallMs / 1000).toFixed(1)} s: ${p.trialsPerSecond.toFixed(1)} trials/s, ${formatCount(Math.round(p.candlesPerSecond))} candles/s`,
  );
  const names = specs.map((x) => x.name);
  const column = { sharpe: 'sharpe', sortino: 'sortino', calmar: 'calmar', profit: 'return' }[r.objective];
  const headers = ['sharpe', 'sortino', 'calmar', 'return', 'max dd', 'trades'].map((h) =>
    h === column ? `${h}*` : h,
  );
  console.log(
    formatTable(
      ['rank', ...names, ...headers],
      r.ranked
        .slice(0, top)
        .map((t) => [t.rank, ...names.map((n) => t.params[n]!), ...metricsRow(t.metrics)]),
      ['r', ...names.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log(`* the objective; ${formatCount(r.ranked.length)} trials ranked (--top, --json for more)`);
  const d = r.diagnostics;
  console.log('overfitting diagnostics:');
  if (d.deflatedSharpe) {
    const x = d.deflatedSharpe;
    console.log(
      `  deflated Sharpe ratio ${fixed(x.deflatedSharpe, 3)}: P(true Sharpe of the best > the expected best of ${formatCount(x.trials)} unskilled trials)`,
    );
    console.log(
      `    best: daily Sharpe ${fixed(x.sharpe, 4)} over ${x.observations} days, skewness ${fixed(x.skewness)}, kurtosis ${fixed(x.kurtosis)}; SR0 ${fixed(x.expectedMaxSharpe, 4)}/day; PSR(0) ${fixed(x.probabilisticSharpe, 3)}`,
    );
    console.log(
      `    with the effective number of trials ${fixed(x.effectiveTrials, 1)} (average correlation ${fixed(x.averageCorrelation, 2)}): DSR ${fixed(x.deflatedSharpeEffective, 3)}`,
    );
  }
  if (d.pbo) {
    const x = d.pbo;
    console.log(
      `  probability of backtest overfitting ${fixed(x.pbo, 3)} (CSCV: ${x.blocks} blocks, ${formatCount(x.splits)} splits, ${x.metric})`,
    );
    console.log(
      `    in-sample best out of sample: P(loss) ${fixed(x.probabilityOfLoss, 3)}, mean ${x.metric} IS ${fixed(x.meanInSample, 4)} → OOS ${fixed(x.meanOutOfSample, 4)}, slope ${fixed(x.degradation.slope, 3)}; logit median ${fixed(x.logits.p50, 2)}`,
    );
  }
  for (const note of d.notes) console.log(`  note: ${note}`);
  if (p.workers.length > 0) {
    console.log(
      `memory: main rss ${mib(p.main.rss)}, heap ${mib(p.main.heapUsed)}; per worker peak heap ${p.workers.map((w) => mib(w.heapUsedPeak)).join(', ')}`,
    );
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function walkForwardJson(r: WalkForwardResult, m: Market) {
  const span = (s: { from: number; to: number }) => ({ from: isoTime(s.from), to: isoTime(s.to) });
  const points: [number, number][] = [];
  for (let i = 0; i < r.stitched.equity.time.length; i++)
    points.push([r.stitched.equity.time[i]!, r.stitched.equity.equity[i]!]);
  return {
    strategy: r.strategy,
    symbols: m.symbols,
    exchange: m.exchange,
    timeframe: m.timeframe,
    objective: r.objective,
    comparable: r.comparable,
    period: span(r.period),
    trainDays: r.trainMs / 86_400_000,
    testDays: r.testMs / 86_400_000,
    stepDays: r.stepMs / 86_400_000,
    anchored: r.anchored,
    warmupCandles: r.warmupCandles,
    windows: r.windows.map((w) => ({ ...w, train: span(w.train), test: span(w.test) })),
    summary: r.summary,
    stitched: {
      metrics: r.stitched.metrics,
      objective: r.stitched.objective,
      comparable: r.stitched.comparable,
      trades: r.stitched.trades.map((t) => ({
        window: t.window,
        symbol: t.symbol,
        entryTime: isoTime(t.entryTime),
        entryPrice: t.entryPrice,
        exitTime: isoTime(t.exitTime),
        exitPrice: t.exitPrice,
        quantity: t.quantity,
        fees: t.fees,
        pnl: t.pnl,
        pnlPct: t.pnlPct,
        exitReason: t.exitReason,
      })),
      equity: points,
    },
    jobs: r.jobs,
    wallMs: r.wallMs,
  };
}

function printWalkForward(r: WalkForwardResult, m: Market): void {
  const c = r.comparable;
  console.log(
    `walk-forward ${r.strategy} on ${m.symbols.join(',')} ${m.timeframe} ${period(m)}: train ${r.trainMs / 86_400_000}d, test ${r.testMs / 86_400_000}d${r.anchored ? ', anchored' : ''}, objective ${r.objective}; ${r.windows.length} windows, ${(r.wallMs / 1000).toFixed(1)} s on ${r.jobs} ${r.jobs === 1 ? 'thread' : 'workers'}`,
  );
  console.log(
    formatTable(
      ['#', 'train', 'test', 'best params', `IS ${c}`, `OOS ${c}`, 'OOS/IS', 'OOS return', 'trades'],
      r.windows.map((w) => [
        w.index + 1,
        `${day(w.train.from)}..${day(w.train.to)}`,
        `${day(w.test.from)}..${day(w.test.to)}`,
        formatParams(w.params),
        fixed(w.inSample.comparable),
        fixed(w.outOfSample.comparable),
        fixed(w.efficiency),
        pct(w.outOfSample.metrics.totalReturn),
        w.outOfSample.metrics.trades,
      ]),
      ['r', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  const s = r.summary;
  const x = r.stitched.metrics;
  console.log(
    `in-sample mean ${c} ${fixed(s.meanInSample)}, out-of-sample mean ${fixed(s.meanOutOfSample)}: efficiency ${fixed(s.efficiency)} (degradation ${pct(s.degradation)}); ${s.positiveOutOfSample}/${s.windows} windows positive out of sample`,
  );
  console.log(
    `stitched out-of-sample: return ${pct(x.totalReturn)}, CAGR ${pct(x.cagr)}, sharpe ${fixed(x.sharpe)}, sortino ${fixed(x.sortino)}, calmar ${fixed(x.calmar)}, max drawdown ${pct(x.maxDrawdown)}, ${x.trades} trades`,
  );
}

function stressWindows(o: ResearchFlags): { name: string; title: string; from: number; to: number }[] {
  if (o.scenario) {
    if (o.from || o.to) throw new ConfigError('give --scenario or --from/--to, not both');
    return resolveScenarios(o.scenario).map((s: Scenario) => ({
      name: s.name,
      title: s.title,
      ...scenarioRange(s),
    }));
  }
  if (!o.from || !o.to)
    throw new ConfigError('stress needs --scenario or --from/--to', 'for example --scenario all');
  const from = parseTime(o.from, '--from');
  const to = parseTime(o.to, '--to');
  return [{ name: 'custom', title: `${isoTime(from)}..${isoTime(to)}`, from, to }];
}

function stressJson(results: readonly StressRun[], m: Market) {
  return {
    strategy: m.strategy,
    symbols: m.symbols,
    exchange: m.exchange,
    timeframe: m.timeframe,
    runs: results.map((r) => ({
      scenario: r.window.name,
      title: r.window.title,
      period: { from: isoTime(r.window.from), to: isoTime(r.window.to) },
      params: r.params,
      metrics: r.metrics,
      market: r.market,
      monteCarlo: r.monteCarlo,
      trades: r.trades.map((t) => ({
        symbol: t.symbol,
        entryTime: isoTime(t.entryTime),
        exitTime: isoTime(t.exitTime),
        pnl: t.pnl,
        pnlPct: t.pnlPct,
        exitReason: t.exitReason,
      })),
    })),
  };
}

const perSymbol = (symbol: string, figure: string, symbols: number) =>
  symbols > 1 ? `${symbol.split('/')[0]} ${figure}` : figure;

function printStress(results: readonly StressRun[], m: Market): void {
  console.log(
    ['stress', m.strategy, formatParams(results[0]?.params ?? {}), 'on', m.symbols.join(','), m.timeframe]
      .filter((part) => part !== '')
      .join(' '),
  );
  console.log(
    formatTable(
      ['scenario', 'period', 'return', 'max dd', 'sharpe', 'trades', 'buy & hold', 'market max dd'],
      results.map((r) => [
        r.window.name,
        `${day(r.window.from)}..${day(r.window.to)}`,
        pct(r.metrics.totalReturn),
        pct(r.metrics.maxDrawdown),
        fixed(r.metrics.sharpe),
        r.metrics.trades,
        // one figure per symbol, named when there are several
        r.market.map((x) => perSymbol(x.symbol, pct(x.buyAndHold), r.market.length)).join(' '),
        r.market.map((x) => perSymbol(x.symbol, pct(x.maxDrawdown), r.market.length)).join(' '),
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const r of results) {
    const mc = r.monteCarlo;
    if (mc === null) continue;
    const dd = mc.maxDrawdown.percentiles;
    const fe = mc.finalEquity.percentiles;
    console.log(
      `${r.window.name}: Monte Carlo (${mc.method}, ${formatCount(mc.runs)} runs, seed ${mc.seed}, ${mc.trades} trades): max drawdown p5 ${pct(dd.p5)}, p50 ${pct(dd.p50)}, p95 ${pct(dd.p95)}, p99 ${pct(dd.p99)} (actual order ${pct(mc.original.maxDrawdown)}); final equity p5 ${fixed(fe.p5)}, p50 ${fixed(fe.p50)}, p95 ${fixed(fe.p95)}; P(loss) ${fixed(mc.probabilityOfLoss, 3)}`,
    );
  }
}

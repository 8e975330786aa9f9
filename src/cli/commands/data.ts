import type { Command } from 'commander';
import { parseUtcDateTime } from '../../adapters/market-files/values.js';
import { ConfigError } from '../../domain/errors.js';
import { type DownloadReport, downloadCandles } from '../../services/download-candles.js';
import { type ImportReport, importPlanned, planImport } from '../../services/import-candles.js';
import { listGaps, listMarkets } from '../../services/market-catalog.js';
import { parseExchange, parseSpotSymbol, parseTimeframeOption } from '../../services/market-report.js';
import { type ResampleReport, resampleMarket } from '../../services/resample-market.js';
import { withContext } from '../context.js';
import { formatCount, formatTable, printJson } from '../output.js';
import { ProgressBar } from '../progress.js';
import { globalFlags, parsePositiveInt, ReportedError } from './shared.js';

/** `tradekernel data ...`: market data into and out of the event log (docs/market-data.md). */
export function registerDataCommands(program: Command): void {
  const data = program
    .command('data')
    .description('market data: import candle files, download from exchanges, resample, list');

  data
    .command('import')
    .description(
      'import candle files (freqtrade JSON, Binance kline CSV/zip, OHLCV CSV; gzip too) into market streams',
    )
    .argument('<paths...>', 'files or directories (a directory imports its candle files in time order)')
    .option('--exchange <id>', 'exchange the candles are from', 'binance')
    .option('--symbol <symbol>', 'market symbol, e.g. BTC/USDT (default: from the file name)')
    .option('--timeframe <tf>', 'candle timeframe, e.g. 1h (default: from the file name)')
    .option('--skip-invalid', 'import the valid rows of a file with invalid ones, and list the rest')
    .option(
      '--accept-gaps',
      'record gaps longer than a week too (by default refused: files left out, most likely)',
    )
    .option('--json', 'print the import report as JSON (docs/market-data.md)')
    .action(async (paths: string[], options: ImportFlags, command: Command) => {
      const plan = await planImport(paths, options);
      const report = await withContext(globalFlags(command), async ({ store }) => {
        const progress = new ProgressBar('import', plan.files.length, 'files');
        try {
          return await importPlanned(store, plan, {
            skipInvalid: options.skipInvalid === true,
            acceptGaps: options.acceptGaps === true,
            onProgress: ({ filesDone }) => progress.update(filesDone),
          });
        } finally {
          progress.done();
        }
      });
      if (options.json) printJson(report);
      else printImport(report);
      if (report.error) throw new ReportedError(report.error);
    });

  data
    .command('download')
    .description(
      'download closed candles from an exchange (public API, no key), resuming after the last stored one',
    )
    .option('--exchange <id>', 'ccxt exchange id', 'binance')
    .option('--symbols <list>', 'comma-separated symbols, e.g. BTC/USDT,ETH/USDT')
    .option('--timeframe <tf>', 'candle timeframe, e.g. 1h')
    .option(
      '--since <time>',
      'first open time: a UTC date (2024-01-01), date-time or epoch ms; needed for a new market',
    )
    .option('--until <time>', 'stop before this open time (default: up to the last closed candle)')
    .option('--api-url <url>', "send the exchange's API requests to this origin instead (a mirror or proxy)")
    .option('--retries <n>', 'attempts per request on network errors, with back-off', '5')
    .option('--json', 'print the download report as JSON (docs/market-data.md)')
    .action(async (options: DownloadFlags, command: Command) => {
      const exchange = parseExchange(options.exchange);
      if (!options.symbols) {
        throw new ConfigError('data download needs --symbols', 'for example --symbols BTC/USDT,ETH/USDT');
      }
      const symbols = options.symbols
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => parseSpotSymbol(s, '--symbols'));
      if (symbols.length === 0) throw new ConfigError('--symbols is empty', 'for example --symbols BTC/USDT');
      if (!options.timeframe)
        throw new ConfigError('data download needs --timeframe', 'for example --timeframe 1h');
      const timeframe = parseTimeframeOption(options.timeframe);
      const since = options.since === undefined ? undefined : parseTimeOption(options.since, '--since');
      const until = options.until === undefined ? undefined : parseTimeOption(options.until, '--until');
      if (since !== undefined && until !== undefined && until <= since) {
        throw new ConfigError(`--until (${options.until}) is not after --since (${options.since})`);
      }
      const attempts = parsePositiveInt(options.retries, '--retries');
      const { openCcxtCandleSource } = await import('../../adapters/exchange/ccxt-candle-source.js');
      const source = await openCcxtCandleSource({
        exchange,
        ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
        retry: { attempts },
        onRetry: ({ attempt, delayMs, error }) =>
          console.error(
            `${exchange}: request failed, retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts}): ${(error as Error).message.slice(0, 200)}`,
          ),
      });
      try {
        const report = await withContext(globalFlags(command), async ({ store }) => {
          let bar: ProgressBar | null = null;
          let barSymbol = '';
          try {
            return await downloadCandles(store, source, {
              symbols,
              timeframe,
              ...(since !== undefined ? { since } : {}),
              ...(until !== undefined ? { until } : {}),
              onProgress: ({ symbol, fetched, expected }) => {
                if (symbol !== barSymbol) {
                  bar?.done();
                  bar = new ProgressBar(symbol, expected, 'candles');
                  barSymbol = symbol;
                }
                bar?.update(fetched, expected);
              },
            });
          } finally {
            (bar as ProgressBar | null)?.done();
          }
        });
        if (options.json) printJson(report);
        else printDownload(report);
        if (report.error) throw new ReportedError(report.error);
      } finally {
        await source.close();
      }
    });

  data
    .command('resample')
    .description(
      'build higher-timeframe market streams (5m, 1h, 4h, 1d...) from a stored lower one: complete buckets only',
    )
    .option('--symbol <symbol>', 'market symbol, e.g. BTC/USDT')
    .option('--timeframe <tf>', 'the stored timeframe to build from, e.g. 1m')
    .option(
      '--to <list>',
      'comma-separated timeframes to build, each a multiple of --timeframe, e.g. 1h,4h,1d',
    )
    .option('--exchange <id>', 'exchange', 'binance')
    .option('--json', 'print the resample report as JSON (docs/market-data.md)')
    .action(async (options: ResampleFlags, command: Command) => {
      if (!options.symbol)
        throw new ConfigError('data resample needs --symbol', 'for example --symbol BTC/USDT');
      if (!options.timeframe)
        throw new ConfigError(
          'data resample needs --timeframe (the stored one)',
          'for example --timeframe 1m',
        );
      if (!options.to) throw new ConfigError('data resample needs --to', 'for example --to 1h,4h,1d');
      const symbol = parseSpotSymbol(options.symbol);
      const exchange = parseExchange(options.exchange);
      const from = parseTimeframeOption(options.timeframe);
      const to = options.to
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '')
        .map((t) => parseTimeframeOption(t, '--to'));
      const report = await withContext(globalFlags(command), async ({ store }) => {
        const progress = new ProgressBar(`resample ${from}`, 0, 'candles');
        try {
          return await resampleMarket(store, {
            exchange,
            symbol,
            from,
            to,
            onProgress: ({ read, total }) => progress.update(read, total),
          });
        } finally {
          progress.done();
        }
      });
      if (options.json) printJson(report);
      else printResample(report);
      if (report.error) throw new ReportedError(report.error);
    });

  data
    .command('list')
    .description('the stored markets: range, candle count, gaps and missing candles')
    .option('--json', 'print JSON (docs/market-data.md)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const markets = await withContext(globalFlags(command), ({ store }) => listMarkets(store));
      if (options.json) return printJson(markets);
      if (markets.length === 0) {
        console.log(
          'No market data stored yet: run `tradekernel data import <file-or-dir>` or `tradekernel data download`.',
        );
        return;
      }
      console.log(
        formatTable(
          ['exchange', 'symbol', 'timeframe', 'first', 'last', 'candles', 'gaps', 'missing'],
          markets.map((m) => [
            m.exchange,
            m.symbol,
            m.timeframe,
            shortTime(m.first),
            shortTime(m.last),
            formatCount(m.candles),
            formatCount(m.gaps),
            formatCount(m.missing),
          ]),
          ['l', 'l', 'l', 'l', 'l', 'r', 'r', 'r'],
        ),
      );
    });

  data
    .command('gaps')
    .description('the gaps (exchange outages) recorded in a market, oldest first')
    .option('--symbol <symbol>', 'market symbol, e.g. BTC/USDT')
    .option('--timeframe <tf>', 'one timeframe (default: every stored timeframe of the symbol)')
    .option('--exchange <id>', 'exchange', 'binance')
    .option('--json', 'print JSON (docs/market-data.md)')
    .action(async (options: GapsFlags, command: Command) => {
      if (!options.symbol) throw new ConfigError('data gaps needs --symbol', 'for example --symbol BTC/USDT');
      const symbol = parseSpotSymbol(options.symbol);
      const exchange = parseExchange(options.exchange);
      const timeframe = options.timeframe === undefined ? undefined : parseTimeframeOption(options.timeframe);
      const markets = await withContext(globalFlags(command), ({ store }) =>
        listGaps(store, { exchange, symbol, ...(timeframe ? { timeframe } : {}) }),
      );
      if (options.json) return printJson(markets);
      if (markets.length === 0) {
        const what = `${exchange} ${symbol}${timeframe ? ` ${timeframe}` : ''}`;
        console.log(`No ${what} candles stored.`);
        return;
      }
      for (const market of markets) {
        console.log(
          `${market.exchange} ${market.symbol} ${market.timeframe}: ${formatCount(market.candles)} candles ` +
            `${shortTime(market.first)} → ${shortTime(market.last)}, ${plural(market.gaps, 'gap')} ` +
            `(${plural(market.missing, 'missing candle')})`,
        );
        if (market.gapList.length > 0) {
          console.log(
            formatTable(
              ['from', 'to', 'missing'],
              market.gapList.map((g) => [shortTime(g.from), shortTime(g.to), formatCount(g.missing)]),
              ['l', 'l', 'r'],
            ),
          );
        }
      }
    });
}

interface ImportFlags {
  exchange: string;
  symbol?: string;
  timeframe?: string;
  skipInvalid?: boolean;
  acceptGaps?: boolean;
  json?: boolean;
}

interface DownloadFlags {
  exchange: string;
  symbols?: string;
  timeframe?: string;
  since?: string;
  until?: string;
  apiUrl?: string;
  retries: string;
  json?: boolean;
}

interface ResampleFlags {
  symbol?: string;
  timeframe?: string;
  to?: string;
  exchange: string;
  json?: boolean;
}

interface GapsFlags {
  symbol?: string;
  timeframe?: string;
  exchange: string;
  json?: boolean;
}

/** An error the report already describes; the CLI prints its message and exits 1. */
function parseTimeOption(value: string, flag: string): number {
  const text = value.trim();
  const ms = /^\d{12,14}$/.test(text) ? Number(text) : parseUtcDateTime(text);
  if (ms === null || !Number.isFinite(ms)) {
    throw new ConfigError(
      `${flag} "${value}" is not a time`,
      'write a UTC date (2024-01-01), a date-time (2024-01-01T12:00:00Z) or epoch milliseconds',
    );
  }
  return ms;
}

function shortTime(iso: string | null): string {
  return iso === null ? '-' : iso.replace(':00.000Z', 'Z').replace('.000Z', 'Z');
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

function printImport(report: ImportReport): void {
  for (const file of report.files) {
    for (const warning of file.warnings) console.error(`warning: ${warning}`);
    if (file.skipped > 0) {
      console.log(`${file.file}: skipped ${plural(file.skipped, 'invalid row')}:`);
      for (const issue of file.invalidRows.slice(0, 20)) {
        const where =
          issue.row === issue.line ? `line ${issue.line}` : `line ${issue.line}, row ${issue.row}`;
        console.log(`  ${where}: ${issue.reason}`);
      }
      if (file.invalidRows.length > 20)
        console.log(`  ... and ${file.invalidRows.length - 20} more (see --json)`);
    }
  }
  for (const market of report.markets) {
    const range = market.first ? ` ${shortTime(market.first)} → ${shortTime(market.last)}` : '';
    console.log(
      `${market.exchange} ${market.symbol} ${market.timeframe}:${range}: ${formatCount(market.new)} new, ` +
        `${formatCount(market.present)} already present` +
        (market.gaps > 0
          ? `, ${plural(market.gaps, 'gap')} recorded (${plural(market.missing, 'missing candle')})`
          : ''),
    );
  }
  const t = report.totals;
  const notImported = report.files.length - t.files;
  console.log(
    `${plural(t.files, 'file')} imported: ${formatCount(t.new)} new, ${formatCount(t.present)} already present` +
      (t.skipped > 0 ? `, ${formatCount(t.skipped)} invalid skipped` : '') +
      (t.gaps > 0 ? `, ${plural(t.gaps, 'gap')} (${plural(t.missing, 'missing candle')})` : '') +
      (notImported > 0 ? `; ${plural(notImported, 'file')} not imported` : ''),
  );
}

function printDownload(report: DownloadReport): void {
  for (const market of report.markets) {
    if (market.status === 'not_downloaded') continue;
    if (market.status === 'failed') {
      if (market.new > 0) {
        console.log(
          `${market.exchange} ${market.symbol} ${market.timeframe}: stopped after ${formatCount(market.new)} new candles (stored; a re-run resumes after them)`,
        );
      }
      continue;
    }
    const start = market.from
      ? market.resumed
        ? ` resumed after the last stored candle, from ${shortTime(market.from)}`
        : ` from ${shortTime(market.from)}`
      : '';
    console.log(
      `${market.exchange} ${market.symbol} ${market.timeframe}:${start}: ${formatCount(market.new)} new, ` +
        `${formatCount(market.present)} already present in ${plural(market.requests, 'request')}` +
        (market.gaps.length > 0 ? `, ${plural(market.gaps.length, 'gap')} recorded` : '') +
        (market.droppedOpen > 0 ? `; the open candle was not stored` : '') +
        (market.last ? `; last candle ${shortTime(market.last)}` : '') +
        (market.rules?.recorded
          ? `; market rules recorded (amount step ${market.rules.amountStep}, price step ${market.rules.priceStep}, ` +
            `min amount ${market.rules.minAmount}, min notional ${market.rules.minNotional})`
          : ''),
    );
  }
}

function printResample(report: ResampleReport): void {
  const { source } = report;
  for (const target of report.targets) {
    if (target.status === 'not_resampled') continue;
    const name = `${report.exchange} ${report.symbol} ${target.timeframe}`;
    if (target.status === 'failed') {
      if (target.new > 0)
        console.log(`${name}: stopped after ${formatCount(target.new)} new candles (stored)`);
      continue;
    }
    const range = target.first ? ` ${shortTime(target.first)} → ${shortTime(target.last)}` : '';
    console.log(
      `${name} from ${source.timeframe}${range ? `:${range}` : ''}: ${formatCount(target.new)} new, ` +
        `${formatCount(target.present)} already present` +
        (target.incomplete > 0 ? `; ${plural(target.incomplete, 'incomplete bucket')} left out` : '') +
        (target.gaps.length > 0
          ? `; ${plural(target.gaps.length, 'gap')} recorded (${plural(
              target.gaps.reduce((sum, gap) => sum + gap.missing, 0),
              'missing candle',
            )})`
          : '') +
        (target.pending
          ? `; the ${shortTime(target.pending)} candle waits for more ${source.timeframe} candles`
          : ''),
    );
  }
  // a run that failed before reading anything has only its error to say
  if (source.read > 0 || report.error === null)
    console.log(`${formatCount(source.read)} ${source.timeframe} candles read from ${source.stream}`);
}

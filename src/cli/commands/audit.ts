import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../domain/errors.js';
import { LOT_METHODS, type LotMethod } from '../../domain/tax/ledger.js';
import { explain, explanationText } from '../../replay/audit/explain.js';
import { exportAudit } from '../../replay/audit/export-audit.js';
import { ledgerCsv, taxLedger } from '../../replay/audit/tax-ledger.js';
import { verifyAudit } from '../../replay/audit/verify-audit.js';
import { withContext } from '../context.js';
import { formatCount, printJson } from '../output.js';
import { KERNEL_VERSION } from '../version.js';
import { globalFlags, setExitCode } from './shared.js';

/** Parses a CLI time: ISO-8601 / YYYY-MM-DD (UTC) or epoch milliseconds. */
export function parseTime(value: string, flag: string): number {
  const ms = /^\d+$/.test(value)
    ? Number(value)
    : Date.parse(/Z|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : `${value}Z`);
  if (!Number.isFinite(ms))
    throw new ConfigError(
      `${flag}: "${value}" is not a time`,
      'use 2024-01-31, 2024-01-31T12:00:00Z or epoch milliseconds',
    );
  return ms;
}

/** `tradekernel audit ...`: the log made usable by an auditor. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('audit exports: hash-chained, verifiable');

  audit
    .command('export')
    .description('every event of an account and what it consumed, in global order, with a SHA-256 hash chain')
    .requiredOption('--account <stream>', 'the account stream (bt-<runId>, paper-<name>, live-<name>)')
    .option('--from <time>', 'only events that occurred at or after this time')
    .option('--to <time>', 'only events that occurred before this time')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .requiredOption('--out <file>', 'where to write; the manifest goes to <file>.manifest.json')
    .option('--input <stream...>', 'more input streams to include (RunStarted names the usual ones)')
    .option('--json', 'print the manifest as JSON')
    .action(
      async (
        o: {
          account: string;
          from?: string;
          to?: string;
          format: string;
          out: string;
          input?: string[];
          json?: boolean;
        },
        command: Command,
      ) => {
        if (o.format !== 'jsonl' && o.format !== 'csv')
          throw new ConfigError(`--format: "${o.format}" is not a format`, 'use jsonl or csv');
        const from = o.from ? parseTime(o.from, '--from') : undefined;
        const to = o.to ? parseTime(o.to, '--to') : undefined;
        if (from !== undefined && to !== undefined && to <= from)
          throw new ConfigError(`--to ${o.to} is not after --from ${o.from}`);
        await withContext(globalFlags(command), async ({ store }) => {
          const manifest = await exportAudit(store, {
            account: o.account,
            format: o.format as 'jsonl' | 'csv',
            out: o.out,
            kernelVersion: KERNEL_VERSION,
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
            ...(o.input ? { inputStreams: o.input } : {}),
          });
          if (o.json) return printJson(manifest);
          console.log(`exported ${formatCount(manifest.records)} events of ${o.account} to ${o.out}`);
          console.log(`manifest ${o.out}.manifest.json; last hash ${manifest.lastHash ?? '-'}`);
        });
      },
    );

  audit
    .command('verify <file>')
    .description(
      'recompute the hash chain of an export; report every edited, dropped, reordered or inserted record',
    )
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const result = await verifyAudit(file);
      if (o.json) printJson(result);
      else if (result.ok)
        console.log(
          result.manifestChecked
            ? `ok: ${formatCount(result.records)} records, chain intact, manifest matches`
            : `ok: ${formatCount(result.records)} records, chain intact; but no manifest next to it (${file}.manifest.json), so records cut from the end or a file rewritten whole cannot be detected`,
        );
      else {
        console.log(
          `TAMPERED: ${result.problems.length} problem(s) in ${formatCount(result.records)} records`,
        );
        for (const p of result.problems)
          console.log(`  record ${p.record} (line ${p.line}): ${p.kind}: ${p.detail}`);
      }
      if (!result.ok) setExitCode(3);
    });

  audit
    .command('explain <id>')
    .description(
      'why an order or trade happened: candle, indicators, signal, risk decision, order, fills, exit',
    )
    .option('--account <stream>', 'the account stream (found automatically when omitted)')
    .option('--json', 'print the chain of events as JSON')
    .action(async (id: string, o: { account?: string; json?: boolean }, command: Command) => {
      await withContext(globalFlags(command), async ({ store }) => {
        const x = await explain(store, id, o.account);
        if (o.json) printJson(x);
        else console.log(explanationText(x));
      });
    });

  audit
    .command('ledger')
    .description(
      'tax ledger: every disposal with acquisition date, cost basis, proceeds, fees and realised gain',
    )
    .requiredOption('--account <stream>', 'the account stream')
    .option('--year <year>', 'only disposals in this UTC calendar year (lots still carry across years)')
    .option('--method <method>', `lot matching: ${LOT_METHODS.join(', ')}`, 'fifo')
    .option('--format <format>', 'csv or json', 'csv')
    .option('--json', 'the same as --format json')
    .option('--out <file>', 'write to a file instead of standard output')
    .action(
      async (
        o: { account: string; year?: string; method: string; format: string; json?: boolean; out?: string },
        command: Command,
      ) => {
        if (o.json) o.format = 'json';
        if (!LOT_METHODS.includes(o.method as LotMethod))
          throw new ConfigError(
            `--method: "${o.method}" is not a method`,
            `use one of ${LOT_METHODS.join(', ')}`,
          );
        if (o.format !== 'csv' && o.format !== 'json')
          throw new ConfigError(`--format: "${o.format}" is not a format`, 'use csv or json');
        const year = o.year === undefined ? undefined : Number(o.year);
        if (year !== undefined && !(Number.isInteger(year) && year >= 2000 && year <= 2100))
          throw new ConfigError(`--year: "${o.year}" is not a year`);
        await withContext(globalFlags(command), async ({ store }) => {
          const ledger = await taxLedger(store, o.account, o.method as LotMethod, year);
          const text = o.format === 'csv' ? ledgerCsv(ledger) : `${JSON.stringify(ledger, null, 2)}\n`;
          if (o.out) writeFileSync(o.out, text);
          else process.stdout.write(text);
          const t = ledger.totals;
          console.error(
            `${formatCount(t.disposals)} disposals; proceeds ${t.proceeds.toFixed(2)}, cost basis ${t.costBasis.toFixed(2)}, fees ${t.fees.toFixed(2)}, realised gain ${t.gain.toFixed(2)}`,
          );
        });
      },
    );
}

import type { Command } from 'commander';
import { ConfigError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { AllFilter } from '../../domain/ports/event-store.js';
import { withContext } from '../context.js';
import { formatCount, formatTable, isoTime, printJson } from '../output.js';
import { type GlobalFlags, globalFlags, parsePositiveInt } from './shared.js';

/** `tradekernel store ...`: look at the event log itself. */
export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('inspect the event log');

  store
    .command('stats')
    .description('where the log lives, how many events by stream category and type, the last position')
    .option('--json', 'print JSON (shape documented in docs/cli.md)')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withContext(globalFlags(command), async ({ store }) => {
        const stats = await store.stats();
        if (options.json) return printJson(stats);
        console.log(`store:          ${stats.kind}`);
        console.log(`location:       ${stats.location}`);
        console.log(`events:         ${formatCount(stats.events)} in ${formatCount(stats.streams)} streams`);
        console.log(`last position:  ${stats.lastPosition}`);
        if (stats.byCategory.length > 0) {
          console.log(
            `\n${formatTable(
              ['category', 'streams', 'events'],
              stats.byCategory.map((c) => [c.category, formatCount(c.streams), formatCount(c.events)]),
              ['l', 'r', 'r'],
            )}`,
          );
          console.log(
            `\n${formatTable(
              ['type', 'events'],
              stats.byType.map((t) => [t.type, formatCount(t.events)]),
              ['l', 'r'],
            )}`,
          );
        } else {
          console.log('\nThe log is empty: import candles with `tradekernel data import <file-or-dir>`.');
        }
      });
    });

  store
    .command('tail')
    .description('the newest events of the log (or of one stream), oldest first')
    .option('--type <type...>', 'only events of these types')
    .option('--stream <stream>', 'only events of this stream')
    .option('--prefix <prefix>', 'only streams whose name starts with this')
    .option('-n, --count <n>', 'how many events', '20')
    .option('-f, --follow', 'keep printing new events as they are appended (Ctrl-C to stop)')
    .option('--json', 'print JSON lines, one event per line (the RecordedEvent shape in docs/cli.md)')
    .action(
      async (
        options: {
          type?: string[];
          stream?: string;
          prefix?: string;
          count: string;
          follow?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const count = parsePositiveInt(options.count, '--count');
        if (options.stream && options.prefix)
          throw new ConfigError(
            '--stream and --prefix: give one of them',
            '--stream names one stream, --prefix a family',
          );
        const flags: GlobalFlags = globalFlags(command);
        await withContext(flags, async ({ store, catalogue }) => {
          const known = catalogue.types().map((d) => d.type);
          for (const type of options.type ?? []) {
            if (!known.includes(type)) {
              const near = known.find((k) => k.toLowerCase() === type.toLowerCase());
              throw new ConfigError(
                `--type ${type}: no such event type`,
                near ? `did you mean ${near}?` : `the types are ${[...known].sort().join(', ')}`,
              );
            }
          }
          const filter: AllFilter = {};
          if (options.type) filter.types = options.type;
          if (options.prefix) filter.streamPrefixes = [options.prefix];
          const newest: RecordedEvent[] = [];
          const source = options.stream
            ? store.readStream(options.stream, { direction: 'backwards', maxCount: count })
            : store.readAll({ direction: 'backwards', maxCount: count, filter });
          for await (const event of source) {
            if (!options.type || options.type.includes(event.type)) newest.push(event);
          }
          newest.reverse();
          const print = options.json ? (e: RecordedEvent) => console.log(JSON.stringify(e)) : printEventLine;
          newest.forEach(print);
          if (!options.follow) return;
          const after = newest.at(-1)?.position ?? (await store.headPosition());
          const followFilter: AllFilter = { ...filter };
          if (options.stream) followFilter.streamPrefixes = [options.stream];
          const subscription = store.subscribeAll({ after, filter: followFilter });
          process.once('SIGINT', () => void subscription.close());
          for await (const event of subscription) {
            if (!options.stream || event.stream === options.stream) print(event);
          }
        });
      },
    );
}

function printEventLine(e: RecordedEvent): void {
  const data = JSON.stringify(e.data);
  console.log(
    `${String(e.position).padStart(14)}  ${isoTime(e.metadata.occurredAt)}  ${e.stream}@${e.revision}  ${e.type}  ${data.length > 120 ? `${data.slice(0, 117)}...` : data}`,
  );
}

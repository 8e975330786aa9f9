import type { Command } from 'commander';
import { allProjectors, ProjectionRunner } from '../../projections/index.js';
import { type AppContext, withContext } from '../context.js';
import { formatCount, formatTable, isoTime, printJson } from '../output.js';
import { ProgressBar } from '../progress.js';
import { globalFlags } from './shared.js';

async function prepared(ctx: AppContext): Promise<ProjectionRunner> {
  const runner = new ProjectionRunner(ctx.database, ctx.store, allProjectors());
  await runner.prepare();
  return runner;
}

function progress(label: string) {
  const bar = new ProgressBar(label, 0, 'events');
  return {
    bar,
    onProgress: (p: { projection: string; applied: number }) => bar.update(p.applied, Math.max(p.applied, 1)),
  };
}

/** `tradekernel projections ...`: the read models (CQRS side). */
export function registerProjectionCommands(program: Command): void {
  const projections = program.command('projections').description('read models projected from the event log');

  projections
    .command('status')
    .description('each projection: checkpoint, events applied, lag behind the log')
    .option('--json', 'print JSON (shape in docs/projections.md)')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withContext(globalFlags(command), async (ctx) => {
        const status = await (await prepared(ctx)).status();
        if (options.json) return printJson(status);
        console.log(
          formatTable(
            ['projection', 'version', 'events', 'lag', 'last event', 'checkpoint'],
            status.map((s) => [
              s.name,
              s.version,
              formatCount(s.events),
              formatCount(s.lag),
              s.lastEventAt ? isoTime(s.lastEventAt) : '-',
              s.position,
            ]),
            ['l', 'r', 'r', 'r', 'l', 'r'],
          ),
        );
      });
    });

  projections
    .command('run')
    .description('bring every projection up to date with the log (once, or --follow to keep going)')
    .option('--follow', 'keep projecting new events until Ctrl-C')
    .option('--json', 'print JSON {applied}')
    .action(async (options: { follow?: boolean; json?: boolean }, command: Command) => {
      await withContext(globalFlags(command), async (ctx) => {
        const runner = await prepared(ctx);
        const { bar, onProgress } = progress('projecting');
        let applied = await runner.catchUp(onProgress);
        bar.done();
        if (options.json) printJson({ applied });
        else console.log(`applied ${formatCount(applied)} events`);
        if (!options.follow) return;
        let stop = false;
        process.once('SIGINT', () => {
          stop = true;
        });
        while (!stop) {
          applied = await runner.catchUp();
          if (applied > 0 && !options.json) console.log(`applied ${formatCount(applied)} events`);
          await new Promise((r) => setTimeout(r, 250));
        }
      });
    });

  projections
    .command('rebuild [name]')
    .description('empty a projection (or all) and replay it from the start of the log')
    .option('--json', 'print JSON {rebuilt, applied}')
    .action(async (name: string | undefined, options: { json?: boolean }, command: Command) => {
      await withContext(globalFlags(command), async (ctx) => {
        const runner = await prepared(ctx);
        if (name) runner.byName(name);
        const { bar, onProgress } = progress('rebuilding');
        const applied = await runner.rebuild(name, onProgress);
        bar.done();
        const rebuilt = name ? [name] : runner.projectors.map((p) => p.name);
        if (options.json) printJson({ rebuilt, applied });
        else console.log(`rebuilt ${rebuilt.join(', ')}: ${formatCount(applied)} events applied`);
      });
    });
}

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import type { RunStartedData } from '../../src/domain/runs/events.js';
import { cli } from '../support/cli.js';
import { readAll, replaySlice } from './support.js';

/** `tradekernel run` through the command line (in process), and the demo's report dates. */
const root = mkdtempSync(join(tmpdir(), 'tk-run-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function account(dataDir: string, stream: string) {
  const ctx = await openContext({ dataDir });
  try {
    return await readAll(ctx.store, stream);
  } finally {
    await ctx.close();
  }
}

describe('tradekernel run', () => {
  it('replays a source with --symbols and --strategy to the end, then reports and exits 0', async () => {
    const data = replaySlice(join(root, 'candles'), 80, ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'], 13);
    const dataDir = join(root, 'replay');
    const r = await cli(
      '--data-dir',
      dataDir,
      'run',
      '--source',
      `replay:${data.dir}`,
      '--symbols',
      'BTC/USDT,ETH/USDT',
      '--strategy',
      'ema-cross',
      '--no-api',
      '--log-level',
      'silent',
    );
    expect(r.stderr).toMatch(/replay done: 80 cycles/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`report: ${join(dataDir, 'reports', 'latest.md')}`));
    const events = await account(dataDir, 'paper-main');
    const started = events[0]!.data as RunStartedData;
    expect(started.symbols).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(started.strategies.map((s) => s.name)).toEqual(['ema-cross']);
    expect(started.from).toBe(data.first);
    // the latest report covers the last 24 hours of event time
    const latest = readFileSync(join(dataDir, 'reports', 'latest.md'), 'utf8');
    expect(latest).toMatch(/# tradekernel daily report — paper-main/);
    expect(latest).toMatch(
      new RegExp(`handled up to ${new Date(data.lastClose).toISOString().replace('.000Z', 'Z')}`),
    );
    // daily reports: never for a day before the data (it starts at 13:00 on 2022-08-01)
    const dailies = readdirSync(join(dataDir, 'reports')).filter((f) => f.startsWith('daily-'));
    expect(dailies.sort()).toEqual(['daily-2022-08-01.md', 'daily-2022-08-02.md', 'daily-2022-08-03.md']);
  }, 120_000);

  it('--config file: its account and settings, the command line laid over it', async () => {
    const data = replaySlice(join(root, 'candles-config'), 30, ['BTC/USDT', 'ETH/USDT']);
    const file = join(root, 'tk.json');
    writeFileSync(
      file,
      `// a config with comments\n{ "account": "fromfile", "symbols": ["BTC/USDT"], "capital": 5000, "api": { "enabled": false } }\n`,
    );
    const dataDir = join(root, 'config');
    const r = await cli(
      '--data-dir',
      dataDir,
      'run',
      '--config',
      file,
      '--source',
      `replay:${data.dir}`,
      '--symbols',
      'BTC/USDT,ETH/USDT',
      '--log-level',
      'silent',
    );
    expect(r.code).toBe(0);
    const started = (await account(dataDir, 'paper-fromfile'))[0]!.data as RunStartedData;
    expect(started.symbols).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(started.settings).toMatchObject({ capital: 5000 });

    // a bad key is named with the fix, before anything starts
    writeFileSync(file, '{ "acount": "x" }');
    const bad = await cli('--data-dir', dataDir, 'run', '--config', file, '--source', `replay:${data.dir}`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown key "acount"/);
    expect(bad.stderr).toMatch(/the keys are account/);
  }, 120_000);

  it('the offline demo (no config, no --source) dates no daily report before its data', async () => {
    const dataDir = join(root, 'demo');
    const r = await cli('--data-dir', dataDir, 'run', '--max-cycles', '60', '--log-level', 'silent');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/running the offline demo/);
    expect(r.stderr).toMatch(/stopped: 60 cycles/);
    const first = (
      JSON.parse(readFileSync('examples/candles/BTC_USDT-1h.json', 'utf8')) as number[][]
    )[0]![0]!;
    const firstDay = new Date(first).toISOString().slice(0, 10);
    const dailies = readdirSync(join(dataDir, 'reports'))
      .filter((f) => f.startsWith('daily-'))
      .sort();
    expect(dailies.length).toBeGreaterThan(0);
    expect(dailies[0]).toBe(`daily-${firstDay}.md`);
    for (const f of dailies) expect(f.slice(6, 16) >= firstDay).toBe(true);
    expect(existsSync(join(dataDir, 'reports', 'latest.md'))).toBe(false);
  }, 120_000);
});

describe('tradekernel control', () => {
  it('refuses a bare account name: the service would never take it', async () => {
    const r = await cli(
      '--data-dir',
      join(root, 'control'),
      'control',
      'pause',
      '--account',
      'main',
      '--reason',
      'x',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--account paper-main/);
  });
});

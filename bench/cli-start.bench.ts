/**
 * CLI start: wall time of the built CLI (`bin/tradekernel.js`, needs `npm run build`) for
 * `--help` and for `store stats` on an empty embedded store; median of `runs` runs each.
 * Usage: node --import tsx bench/cli-start.bench.ts [--runs 7]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machine, median, report } from './support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
const bin = new URL('../bin/tradekernel.js', import.meta.url).pathname;
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url)))
  throw new Error('run `npm run build` first');

const dataDir = mkdtempSync(join(tmpdir(), 'tk-bench-start-'));
report('machine', machine());
try {
  for (const command of [['--help'], ['--data-dir', dataDir, 'store', 'stats']]) {
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      const run = spawnSync(process.execPath, [bin, ...command], { stdio: 'ignore' });
      if (run.status !== 0) throw new Error(`tradekernel ${command.join(' ')} exited with ${run.status}`);
      ms.push(Math.round(performance.now() - start));
    }
    report('cli-start', {
      command: command.filter((a) => a !== dataDir && a !== '--data-dir').join(' '),
      ms: median(ms),
      runs: ms,
    });
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * `npm run bench`: runs every bench/*.bench.ts one after another (never two at once: the
 * machine has two cores), prints their JSON lines and keeps them in bench/results/.
 * `npm run bench -- event-store` runs only the benchmarks whose file name contains that word;
 * arguments after `--` are passed on (e.g. `-- event-store --store postgres`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('.', import.meta.url).pathname;
const [only, ...rest] = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only)))
  .sort();
const lines: string[] = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, file), ...rest], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    lines.push(...chunk.toString().split('\n').filter(Boolean));
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) process.stderr.write(`bench: ${file} exited with ${code}\n`);
}
mkdirSync(join(dir, 'results'), { recursive: true });
const out = join(dir, 'results', `${new Date().toISOString().replaceAll(':', '-')}.jsonl`);
writeFileSync(out, `${lines.join('\n')}\n`);
process.stderr.write(`bench: results in ${out}\n`);

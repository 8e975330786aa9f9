import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { type ApiFixture, openApi } from './support.js';

/**
 * Debian's Prometheus server scrapes /metrics of the API on loopback, and its query API then
 * answers with tradekernel's series: the exposition is what a real Prometheus accepts.
 */

function prometheusBinary(): string | null {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return 'prometheus';
  } catch {
    return null;
  }
}

const binary = prometheusBinary();
const skipReason = binary
  ? null
  : 'the prometheus binary is not installed (apt-get install -y prometheus; .ci/run installs it)';
if (skipReason) console.warn(`[skipped] Prometheus scrape test: ${skipReason}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
}

interface QueryResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe.skipIf(skipReason !== null)('Prometheus scrapes /metrics', () => {
  let f: ApiFixture;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  const output: string[] = [];

  beforeAll(async () => {
    f = await openApi(backends[0]!);
    const apiAddress = await f.app.listen({ host: '127.0.0.1', port: 0 });
    await f.app.inject('/health/ready'); // one observation of the latency histogram
    const target = new URL(apiAddress).host;
    dir = mkdtempSync(join(tmpdir(), 'tk-prometheus-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        'scrape_configs:',
        '  - job_name: tradekernel',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      binary!,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    prometheus.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await f?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<QueryResult['data']['result'] | null> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (!res.ok) return null;
    const body = (await res.json()) as QueryResult;
    return body.status === 'success' && body.data.result.length > 0 ? body.data.result : null;
  }

  it('finds tradekernel series through the Prometheus query API', async () => {
    try {
      const up = await until('a successful scrape', 30_000, () => query('up{job="tradekernel"} == 1'));
      expect(up[0]!.metric.job).toBe('tradekernel');
      const build = await until('tradekernel_build_info', 10_000, () => query('tradekernel_build_info'));
      expect(build[0]!.metric).toMatchObject({ job: 'tradekernel', version: 'test' });
      const lag = await until('projection lag', 10_000, () =>
        query('tradekernel_projection_lag_events{projection="candles"}'),
      );
      const candlesLag = lag.find((series) => series.metric.projection === 'candles');
      expect(candlesLag?.value[1]).toBe('0');
      const latency = await until('API latency', 10_000, () =>
        query('tradekernel_http_request_duration_seconds_count{route="/health/ready"}'),
      );
      expect(Number(latency[0]!.value[1])).toBeGreaterThanOrEqual(1);
      // and the scrapes themselves are measured by the API
      await until('the scrape route in the histogram', 10_000, () =>
        query('tradekernel_http_request_duration_seconds_count{route="/metrics",status="200"} > 0'),
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nprometheus output:\n${output.join('')}`);
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, type SqlDatabase } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { TradingPaused } from '../../src/domain/control/events.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { CandleClosed, marketStream } from '../../src/domain/market/events.js';
import { RunCompleted, RunStarted } from '../../src/domain/runs/events.js';
import { exportAudit } from '../../src/replay/audit/export-audit.js';
import { verifyAudit } from '../../src/replay/audit/verify-audit.js';

const HOUR = 3_600_000;
const T0 = 1_609_459_200_000;
const account = 'bt-audit1';

function candle(symbol: string, i: number) {
  const openTime = T0 + i * HOUR;
  return newEvent(
    CandleClosed,
    deterministicId(openTime, 'binance', symbol, '1h', openTime),
    {
      exchange: 'binance',
      symbol,
      timeframe: '1h',
      openTime,
      closeTime: openTime + HOUR,
      open: 10 + i,
      high: 12 + i,
      low: 9 + i,
      close: 11 + i,
      volume: 5,
    },
    { occurredAt: openTime + HOUR },
  );
}

describe('audit export and verify', () => {
  let dir: string;
  let database: SqlDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-audit-'));
    database = await openPglite();
    store = await PostgresEventStore.open(database, createCatalogue());
    const btc = marketStream('binance', 'BTC/USDT', '1h');
    await store.append(
      btc,
      Array.from({ length: 20 }, (_, i) => candle('BTC/USDT', i)),
    );
    await store.append(
      marketStream('binance', 'ETH/USDT', '1h'),
      Array.from({ length: 5 }, (_, i) => candle('ETH/USDT', i)),
    );
    await store.append(account, [
      newEvent(
        RunStarted,
        deterministicId(T0, account, 'start'),
        {
          runId: 'audit1',
          account,
          mode: 'backtest',
          strategies: [{ name: 'ema-cross', version: '1.0.0', params: { fast: 12, slow: 26 } }],
          exchange: 'binance',
          timeframe: '1h',
          symbols: ['BTC/USDT'],
          from: T0,
          to: T0 + 20 * HOUR,
          inputStreams: [btc],
          settings: { capital: 1000 },
          kernelVersion: '0.1.0',
        },
        { occurredAt: T0, mode: 'backtest', runId: 'audit1' },
      ),
    ]);
    await store.append(`control-${account}`, [
      newEvent(
        TradingPaused,
        deterministicId(T0 + 3 * HOUR, 'pause'),
        { account, actor: 'owner', reason: 'checking in' },
        { occurredAt: T0 + 3 * HOUR },
      ),
    ]);
    await store.append(account, [
      newEvent(
        RunCompleted,
        deterministicId(T0 + 20 * HOUR, account, 'done'),
        { runId: 'audit1', dataPoints: 20, decisions: 0, decisionHash: 'a'.repeat(64), metrics: {} },
        { occurredAt: T0 + 20 * HOUR },
      ),
    ]);
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the account and what it consumed, in global order, hash-chained, with a manifest', async () => {
    const out = join(dir, 'a.jsonl');
    const manifest = await exportAudit(store, { account, format: 'jsonl', out, kernelVersion: '0.1.0' });
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.length).toBe(23);
    expect(new Set(records.map((r) => r.event.stream))).toEqual(
      new Set([account, `control-${account}`, marketStream('binance', 'BTC/USDT', '1h')]),
    );
    const positions = records.map((r) => r.event.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(manifest).toMatchObject({
      records: 23,
      countsByType: { CandleClosed: 20, RunStarted: 1, TradingPaused: 1, RunCompleted: 1 },
      firstHash: records[0].hash,
      lastHash: records[22].hash,
      inputStreams: [marketStream('binance', 'BTC/USDT', '1h'), `control-${account}`],
    });
    expect(JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'))).toEqual(manifest);
    expect(await verifyAudit(out)).toMatchObject({
      ok: true,
      records: 23,
      manifestChecked: true,
      problems: [],
    });
  });

  it('CSV carries the same chain and verifies', async () => {
    const jsonl = join(dir, 'b.jsonl');
    const csv = join(dir, 'b.csv');
    const m1 = await exportAudit(store, { account, format: 'jsonl', out: jsonl, kernelVersion: '0.1.0' });
    const m2 = await exportAudit(store, { account, format: 'csv', out: csv, kernelVersion: '0.1.0' });
    expect(m2.lastHash).toBe(m1.lastHash);
    expect(await verifyAudit(csv)).toMatchObject({ ok: true, records: 23 });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    lines[5] = lines[5]!.replace('"{""exchange""', '"{""exchange"":""x"",""e""');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const tampered = await verifyAudit(csv);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems[0]).toMatchObject({ record: 5, kind: 'edited' });
  });

  it('limits the export to a domain-time range', async () => {
    const out = join(dir, 'c.jsonl');
    const manifest = await exportAudit(store, {
      account,
      format: 'jsonl',
      out,
      kernelVersion: '0.1.0',
      from: T0 + 5 * HOUR,
      to: T0 + 10 * HOUR,
    });
    expect(manifest.countsByType).toEqual({ CandleClosed: 5 });
    expect(await verifyAudit(out)).toMatchObject({ ok: true });
  });

  it('reports any edited, dropped, reordered or inserted record with its position (property)', async () => {
    const out = join(dir, 'd.jsonl');
    await exportAudit(store, { account, format: 'jsonl', out, kernelVersion: '0.1.0' });
    const original = readFileSync(out, 'utf8').trim().split('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('edit', 'drop', 'swap', 'insert'),
        fc.integer({ min: 0, max: original.length - 2 }),
        async (kind, k) => {
          const lines = [...original];
          if (kind === 'edit') {
            const r = JSON.parse(lines[k]!);
            r.event.metadata.occurredAt += 1;
            lines[k] = JSON.stringify(r);
          } else if (kind === 'drop') lines.splice(k, 1);
          else if (kind === 'swap') [lines[k], lines[k + 1]] = [lines[k + 1]!, lines[k]!];
          else lines.splice(k, 0, lines[k]!);
          const file = join(dir, `t-${kind}-${k}.jsonl`);
          writeFileSync(file, `${lines.join('\n')}\n`);
          writeFileSync(`${file}.manifest.json`, readFileSync(`${out}.manifest.json`));
          const result = await verifyAudit(file);
          expect(result.ok).toBe(false);
          const places = result.problems.map((p) => p.record);
          // the record at the tampered place (1-based k + 1), or the one right after it
          expect(places.some((r) => r === k + 1 || r === k + 2)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('tradekernel audit (CLI)', () => {
  it('exports an account, verifies it, and exits 3 on a tampered file', async () => {
    const { cli } = await import('../support/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'tk-audit-cli-'));
    try {
      const database = await openPglite(join(dir, 'data'));
      const store = await PostgresEventStore.open(database, createCatalogue());
      await store.append(`control-${account}`, [
        newEvent(
          TradingPaused,
          deterministicId(T0, 'p2'),
          { account, actor: 'owner', reason: 'r' },
          { occurredAt: T0 },
        ),
      ]);
      await store.append(account, [
        newEvent(
          RunCompleted,
          deterministicId(T0, account, 'x'),
          { runId: 'a', dataPoints: 0, decisions: 0, decisionHash: 'b'.repeat(64), metrics: {} },
          { occurredAt: T0 },
        ),
      ]);
      await database.close();
      const out = join(dir, 'export.jsonl');
      const exported = await cli(
        '--data-dir',
        join(dir, 'data'),
        'audit',
        'export',
        '--account',
        account,
        '--out',
        out,
        '--json',
      );
      expect(exported.code).toBe(0);
      expect(JSON.parse(exported.stdout)).toMatchObject({
        records: 2,
        countsByType: { TradingPaused: 1, RunCompleted: 1 },
      });
      expect((await cli('audit', 'verify', out)).stdout).toContain(
        'ok: 2 records, chain intact, manifest matches',
      );
      writeFileSync(out, readFileSync(out, 'utf8').replace('"reason":"r"', '"reason":"R"'));
      const tampered = await cli('audit', 'verify', out, '--json');
      expect(tampered.code).toBe(3);
      expect(JSON.parse(tampered.stdout).problems[0]).toMatchObject({ record: 1, kind: 'edited' });
      const missing = await cli(
        '--data-dir',
        join(dir, 'data'),
        'audit',
        'export',
        '--account',
        'bt-nope',
        '--out',
        out,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no account stream named bt-nope');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

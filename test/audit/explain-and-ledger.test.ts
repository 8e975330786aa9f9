import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { candleEvent, run } from '../../src/domain/kernel/testing/candle-events.js';
import { bar, ofType, riskWith, testKernel } from '../../src/domain/kernel/testing/fixture.js';
import { scriptedStrategy } from '../../src/domain/kernel/testing/scripted-strategy.js';
import { marketStream } from '../../src/domain/market/events.js';
import type { PositionClosedData } from '../../src/domain/portfolio/events.js';
import { explain, explanationText } from '../../src/replay/audit/explain.js';
import { taxLedger } from '../../src/replay/audit/tax-ledger.js';
import { cli } from '../support/cli.js';

const ACCOUNT = 'bt-test';

describe('audit explain and ledger on a real kernel run', () => {
  let dir: string;
  let closed: PositionClosedData[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-explain-'));
    // up, then a signal-driven exit, then a stop-out after a crash
    const warmUp = Array.from({ length: 16 }, () => 100); // ATR needs 14 candles before stops exist
    const prices = [
      ...warmUp,
      100,
      101,
      102,
      103,
      104,
      106,
      108,
      110,
      109,
      108,
      108,
      109,
      110,
      111,
      112,
      80,
      79,
      78,
    ];
    const bars = prices.map((p, i) =>
      bar(
        i,
        i === 0 ? p : prices[i - 1]!,
        Math.max(p, prices[i - 1] ?? p) + 1,
        Math.min(p, prices[i - 1] ?? p) - 1,
        p,
      ),
    );
    const script = {
      [bars[warmUp.length + 3]!.openTime]: 'long',
      [bars[warmUp.length + 8]!.openTime]: 'exit',
      [bars[warmUp.length + 11]!.openTime]: 'long',
    } as const;
    const kernel = testKernel({
      strategies: [scriptedStrategy(script)],
      risk: riskWith(0.5, { stopLoss: { enabled: true, atrMultiple: 2 } }),
    });
    const candles = bars.map((b) => candleEvent('BTC/USDT', b));
    const out = run(kernel, candles);
    closed = ofType<PositionClosedData>(out, 'PositionClosed');
    const database = await openPglite(join(dir, 'data'));
    const store = await PostgresEventStore.open(database, createCatalogue());
    await store.append(marketStream('binance', 'BTC/USDT', '1h'), candles);
    await store.append(ACCOUNT, out);
    await database.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('explains a trade: candle → signal → risk decision → order → fill, then how it ended', async () => {
    expect(closed.length).toBe(2);
    const database = await openPglite(join(dir, 'data'));
    try {
      const store = await PostgresEventStore.open(database, createCatalogue());
      const first = await explain(store, closed[0]!.positionId);
      expect(first.account).toBe(ACCOUNT);
      expect(first.entry.map((e) => e.type)).toEqual([
        'CandleClosed',
        'SignalEmitted',
        'RiskDecisionMade',
        'OrderSubmitted',
        'OrderFilled',
      ]);
      // each link is the cause of the next
      for (let i = 1; i < 4; i++) expect(first.entry[i]!.metadata.causationId).toBe(first.entry[i - 1]!.id);
      expect(first.exit.map((e) => e.type)).toContain('OrderFilled');
      expect(first.position.closed?.data).toMatchObject({ exitReason: 'exit' });
      const text = explanationText(first);
      expect(text).toContain('Why it bought:');
      expect(text).toContain('Signal   scripted v1');
      expect(text).toContain('Risk     approved');
      expect(text).toContain('Closed   by exit');
      const second = await explain(store, closed[1]!.positionId, ACCOUNT);
      expect(second.position.closed?.data).toMatchObject({ exitReason: 'stop-loss' });
      expect(second.exit.map((e) => e.type)[0]).toBe('StopTriggered');
    } finally {
      await database.close();
    }
  });

  it('the ledger reconciles with realised P&L, and the CLI prints it as CSV', async () => {
    const database = await openPglite(join(dir, 'data'));
    let gain: number;
    try {
      const store = await PostgresEventStore.open(database, createCatalogue());
      const ledger = await taxLedger(store, ACCOUNT, 'fifo', 2024);
      gain = ledger.totals.gain;
      const realised = closed.reduce((s, p) => s + p.realisedPnl, 0);
      expect(gain).toBeCloseTo(realised, 9);
      expect((await taxLedger(store, ACCOUNT, 'fifo', 2023)).disposals).toEqual([]);
    } finally {
      await database.close();
    }
    const tk = (...args: string[]) => cli('--data-dir', join(dir, 'data'), ...args);
    const out = join(dir, 'ledger.csv');
    const result = await tk('audit', 'ledger', '--account', ACCOUNT, '--year', '2024', '--out', out);
    expect(result.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'symbol,acquired_at,disposed_at,quantity,cost_basis,proceeds,fees,gain,buy_order,sell_order',
    );
    expect(lines.slice(1).reduce((s, l) => s + Number(l.split(',')[7]), 0)).toBeCloseTo(gain, 6);
    // --json: the same disposals, with the quantities disposed of per symbol (never added across assets)
    const json = await tk('audit', 'ledger', '--account', ACCOUNT, '--year', '2024', '--json');
    expect(json.code).toBe(0);
    const ledger = JSON.parse(json.stdout);
    expect(ledger.disposals).toHaveLength(lines.length - 1);
    const bySymbol: Record<string, number> = {};
    for (const l of lines.slice(1)) {
      const [symbol, , , quantity] = l.split(',');
      bySymbol[symbol!] = (bySymbol[symbol!] ?? 0) + Number(quantity);
    }
    expect(Object.keys(ledger.totals.quantityBySymbol).sort()).toEqual(Object.keys(bySymbol).sort());
    for (const [symbol, quantity] of Object.entries(bySymbol))
      expect(ledger.totals.quantityBySymbol[symbol]).toBeCloseTo(quantity, 9);
    const explained = await tk('audit', 'explain', closed[0]!.positionId, '--json');
    expect(JSON.parse(explained.stdout).entry[0].type).toBe('CandleClosed');
    const bad = await tk('audit', 'ledger', '--account', ACCOUNT, '--method', 'avco');
    expect(bad.stderr).toContain('--method: "avco" is not a method');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/cli/context.js';
import { VirtualClock } from '../../src/service/clock.js';
import { validateServiceConfig } from '../../src/service/config.js';
import { PaperTradingService } from '../../src/service/paper-service.js';
import { SqlSnapshotStore } from '../../src/service/snapshots.js';
import { ReplayCandleSource } from '../../src/service/sources.js';
import { decisionIds, drive, HOUR, readAll, replaySlice, SYMBOLS, silentLogger } from './support.js';

/**
 * Snapshot + tail recovery (issue 7 §4): a restart restores the latest kernel snapshot and
 * replays only the log after it; the result must be the state (and, from there on, the
 * decisions) of a full replay and of an uninterrupted run.
 */
const root = mkdtempSync(join(tmpdir(), 'tk-snapshot-'));
const HOURS = 300;
const data = replaySlice(join(root, 'candles'), HOURS);
const config = validateServiceConfig({ account: 'snap', symbols: [...SYMBOLS], api: { enabled: false } });
let ctx: AppContext;
let reference: AppContext;
let source: ReplayCandleSource;

beforeAll(async () => {
  ctx = await openContext({ dataDir: join(root, 'store') });
  reference = await openContext({ dataDir: join(root, 'reference') });
  source = await ReplayCandleSource.open(data.dir, 'binance', '1h', SYMBOLS);
});
afterAll(async () => {
  await ctx?.close();
  await reference?.close();
  rmSync(root, { recursive: true, force: true });
});

function service(c: AppContext, clock: VirtualClock, snapshots: SqlSnapshotStore | null) {
  return new PaperTradingService({
    store: c.store,
    source,
    clock,
    config,
    logger: silentLogger(),
    version: 'test',
    from: data.first,
    snapshots,
    snapshotEvery: 10,
  });
}

const startClock = () => new VirtualClock(data.first + HOUR + config.settleDelayMs);

describe('snapshot + tail recovery', () => {
  it('restores the latest snapshot, replays only the tail, and equals a full replay and an uninterrupted run', async () => {
    // the uninterrupted run, on its own store
    const refClock = startClock();
    const uninterrupted = service(reference, refClock, null);
    await uninterrupted.start();
    await drive(uninterrupted, refClock, { end: data.lastClose });
    const referenceDecisions = decisionIds(await readAll(reference.store, 'paper-snap'));
    expect(referenceDecisions.filter((d) => d.startsWith('OrderSubmitted')).length).toBeGreaterThan(2);

    // 125 cycles: the last snapshot was taken after cycle 120, five cycles are the tail
    const snapshots = await SqlSnapshotStore.open(ctx.database);
    const clock = startClock();
    const first = service(ctx, clock, snapshots);
    await first.start();
    expect(first.lastRecovery?.from).toBe('log');
    await drive(first, clock, { end: data.lastClose, maxCycles: 125 });
    const before = JSON.stringify(first.kernelView.snapshot());

    // a full replay first: the last one started holds the fence and trades on
    const replayed = service(ctx, clock, null);
    await replayed.start();
    expect(replayed.lastRecovery?.from).toBe('log');
    expect(replayed.lastRecovery!.candlesReplayed).toBe(125 * SYMBOLS.length);

    const restored = service(ctx, clock, snapshots);
    await restored.start();
    expect(restored.lastRecovery).toMatchObject({ from: 'snapshot', recoveredDecisions: 0 });
    expect(restored.lastRecovery!.candlesReplayed).toBe(5 * SYMBOLS.length);

    // the same state three ways (compared as JSON, as snapshots are stored)
    expect(JSON.stringify(restored.kernelView.snapshot())).toBe(before);
    expect(JSON.stringify(replayed.kernelView.snapshot())).toBe(before);
    expect(restored.recentDecisions.map((e) => e.id)).toEqual(replayed.recentDecisions.map((e) => e.id));
    expect(restored.closedTrades()).toEqual(replayed.closedTrades());
    expect([...restored.equityCurve().equity]).toEqual([...replayed.equityCurve().equity]);
    expect(restored.reconcile()).toEqual(replayed.reconcile());

    // the restored one trades on to the end exactly like the uninterrupted run
    await drive(restored, clock, { end: data.lastClose });
    expect(decisionIds(await readAll(ctx.store, 'paper-snap'))).toEqual(referenceDecisions);
    expect(restored.closedTrades()).toEqual(uninterrupted.closedTrades());
  }, 120_000);

  it('falls back to the full replay when the snapshot does not fit the log', async () => {
    const snapshots = await SqlSnapshotStore.open(ctx.database);
    const saved = await snapshots.load('paper-snap');
    expect(saved).not.toBeNull();
    await snapshots.save('paper-snap', { ...saved!, accountEventId: '00000000-0000-8000-8000-000000000000' });
    const clock = startClock();
    const s = service(ctx, clock, snapshots);
    await s.start();
    expect(s.lastRecovery?.from).toBe('log');
    // a snapshot of another kernel configuration is refused by the kernel itself
    await snapshots.save('paper-snap', {
      ...saved!,
      accountRevision: s.accountRevision,
      accountEventId: (await readAll(ctx.store, 'paper-snap')).at(-1)!.id,
      kernel: { ...saved!.kernel, fingerprint: 'another-config' },
    });
    const t = service(ctx, clock, snapshots);
    await t.start();
    expect(t.lastRecovery?.from).toBe('log');
    const rows = await sql<{ n: number }>`select count(*)::int as n from service.snapshots`.execute(
      ctx.database.db,
    );
    expect(rows.rows[0]!.n).toBe(1);
  }, 60_000);
});

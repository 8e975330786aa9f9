import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/cli/context.js';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';
import { VirtualClock } from '../../src/service/clock.js';
import { validateServiceConfig } from '../../src/service/config.js';
import { PaperTradingService } from '../../src/service/paper-service.js';
import { ReplayCandleSource } from '../../src/service/sources.js';
import { capturedLogger, drive, HOUR, readAll, replaySlice, SYMBOLS } from './support.js';

/**
 * A decision is never taken on stale data (issue 7 §2): when the loop wakes up late (a laptop
 * asleep, an exchange down) the candles older than maxDataAgeMinutes are stored and handled
 * under a service pause (a TradingPaused event with actor `service` and the reason, logged),
 * so a signal on them is refused; the first fresh candle lifts the pause.
 */
const root = mkdtempSync(join(tmpdir(), 'tk-stale-'));
const data = replaySlice(join(root, 'candles'), 260);
let source: ReplayCandleSource;
const stores: AppContext[] = [];
beforeAll(async () => {
  source = await ReplayCandleSource.open(data.dir, 'binance', '1h', SYMBOLS);
});
afterAll(async () => {
  for (const s of stores) await s.close();
  rmSync(root, { recursive: true, force: true });
});

async function setup(name: string, maxDataAgeMinutes = 90, account = 'stale', start = data.first + HOUR) {
  const existing = stores.find((s) => s.database.location.includes(join(root, name)));
  const ctx = existing ?? (await openContext({ dataDir: join(root, name) }));
  if (!existing) stores.push(ctx);
  const config = validateServiceConfig({ account, symbols: [...SYMBOLS], maxDataAgeMinutes });
  const clock = new VirtualClock(start + config.settleDelayMs);
  const { logger, lines } = capturedLogger();
  const service = new PaperTradingService({
    store: ctx.store,
    source,
    clock,
    config,
    logger,
    version: 'test',
    from: data.first,
    snapshots: null,
  });
  await service.start();
  return { ctx, clock, service, lines, config };
}

const isEntry = (e: RecordedEvent) =>
  e.type === 'OrderSubmitted' && (e.data as { reason: string }).reason === 'entry';

describe('stale data', () => {
  /** close of the candle on which the uninterrupted run enters (set by the first test) */
  let signalTime = 0;

  it('skips the decision on candles that arrive too late: evented, logged, resumed on fresh data', async () => {
    // where an uninterrupted run enters a position (after the indicators warmed up)
    const reference = await setup('reference');
    await drive(reference.service, reference.clock, { end: data.lastClose });
    const referenceEvents = await readAll(reference.ctx.store, 'paper-stale');
    const entry = referenceEvents.find((e) => isEntry(e) && e.metadata.occurredAt > data.first + 80 * HOUR);
    expect(entry).toBeDefined();
    signalTime = entry!.metadata.occurredAt;
    expect(
      referenceEvents.some(
        (e) =>
          e.type === 'RiskDecisionMade' &&
          e.metadata.occurredAt === signalTime &&
          (e.data as { outcome: string }).outcome !== 'rejected',
      ),
    ).toBe(true);

    // the same run, asleep from two hours before that signal to three hours after it
    const late = await setup('late');
    await drive(late.service, late.clock, { end: signalTime - 2 * HOUR });
    const before = late.service.accountRevision;
    await late.clock.sleepUntil(signalTime + 3 * HOUR + late.config.settleDelayMs);
    const report = await late.service.cycle();
    // 5 candles per symbol arrive; those closing more than 90 min ago are stale
    expect(report.candlesHandled).toBe(5 * SYMBOLS.length);
    expect(report.staleCandles).toBe(3 * SYMBOLS.length);
    const events = (await readAll(late.ctx.store, 'paper-stale')).filter((e) => e.revision > before);
    const pause = events[0]!;
    expect(pause.type).toBe('TradingPaused');
    expect(pause.data).toMatchObject({
      actor: 'service',
      reason: expect.stringMatching(/^stale data: 9 candle/),
    });
    const resume = events.find((e) => e.type === 'TradingResumed')!;
    expect(resume.data).toMatchObject({ actor: 'service' });
    const stale = events.filter((e) => e.revision < resume.revision);
    // the signal was seen and refused under the pause; no entry order on stale data
    expect(
      stale.some(
        (e) =>
          e.type === 'RiskDecisionMade' &&
          e.metadata.occurredAt === signalTime &&
          (e.data as { rule: string }).rule === 'paused',
      ),
    ).toBe(true);
    expect(stale.some(isEntry)).toBe(false);
    // the resume comes before the first fresh candle: its close is within the max age
    expect(resume.metadata.occurredAt).toBe(signalTime + HOUR);
    // logged as a skip, correlated with the event
    const skip = late.lines().find((l) => l.skip === 'stale-data');
    expect(skip).toMatchObject({ msg: expect.stringMatching(/decision skipped: stale data/), stale: 9 });
    expect(skip!.correlationId).toBe(pause.id);
    expect(skip!.account).toBe('paper-stale');

    // and the loop goes on normally
    const next = await late.service.cycle();
    expect(next.staleCandles).toBe(0);
  }, 120_000);

  it('a restart after another process stored the hours it missed takes no decision on them', async () => {
    // the account runs until two hours before the signal, then stops (a laptop asleep)
    const sleeper = await setup('download', 90, 'sleeper');
    await drive(sleeper.service, sleeper.clock, { end: signalTime - 2 * HOUR });
    const before = sleeper.service.accountRevision;
    // meanwhile another process stores the hours it missed (here another account's cycles; a
    // `data download` writes the same candles)
    const other = await setup('download', 90, 'downloader');
    await drive(other.service, other.clock, { end: signalTime + 3 * HOUR });

    // the restart, three hours after the signal: recovery takes those candles under a pause
    const restart = await setup('download', 90, 'sleeper', signalTime + 3 * HOUR);
    const events = (await readAll(restart.ctx.store, 'paper-sleeper')).filter((e) => e.revision > before);
    const pause = events.find((e) => e.type === 'TradingPaused')!;
    expect(pause.data).toMatchObject({
      actor: 'service',
      reason: expect.stringMatching(/^stale data on restart/),
    });
    // the signal on a stale candle is refused under the pause; the pause is lifted before the
    // first candle within the max age (06:00 on a clock at 07:00), and only that one may trade
    expect(
      events.some(
        (e) =>
          e.type === 'RiskDecisionMade' &&
          e.metadata.occurredAt === signalTime &&
          (e.data as { rule: string }).rule === 'paused',
      ),
    ).toBe(true);
    const resume = events.find((e) => e.type === 'TradingResumed')!;
    expect(resume.data).toMatchObject({ actor: 'service' });
    expect(resume.revision).toBeGreaterThan(pause.revision);
    const staleBefore = restart.clock.now() - restart.config.maxDataAgeMs;
    for (const e of events.filter(isEntry)) {
      expect(e.revision).toBeGreaterThan(resume.revision);
      expect(e.metadata.occurredAt).toBeGreaterThanOrEqual(staleBefore);
    }
    // a later restart re-derives exactly what was stored
    const again = await setup('download', 90, 'sleeper', signalTime + 3 * HOUR);
    expect(again.service.lastRecovery?.recoveredDecisions).toBe(0);
  }, 120_000);

  it('the max age is configurable: the same delay under a 6-hour limit is no skip', async () => {
    const relaxed = await setup('relaxed', 360);
    await drive(relaxed.service, relaxed.clock, { end: data.first + 100 * HOUR });
    await relaxed.clock.sleepUntil(relaxed.clock.now() + 5 * HOUR);
    const report = await relaxed.service.cycle();
    expect(report.candlesHandled).toBe(5 * SYMBOLS.length);
    expect(report.staleCandles).toBe(0);
    expect((await readAll(relaxed.ctx.store, 'paper-stale')).some((e) => e.type === 'TradingPaused')).toBe(
      false,
    );
  }, 60_000);

  it('a new account on a store that already holds the candles (a data download) trades none of the old ones', async () => {
    // the 'relaxed' store holds 100+ hours of every symbol from the previous test
    const fresh = await setup('relaxed', 90, 'newcomer', data.first + 110 * HOUR);
    const report = await fresh.service.cycle();
    const stored = report.candlesHandled;
    expect(stored).toBeGreaterThan(100 * SYMBOLS.length);
    // fresh: the two hours closing within the 90 minutes before the clock
    expect(report.staleCandles).toBe(stored - 2 * SYMBOLS.length);
    const events = await readAll(fresh.ctx.store, 'paper-newcomer');
    const pause = events.find((e) => e.type === 'TradingPaused')!;
    const resume = events.find((e) => e.type === 'TradingResumed')!;
    expect(pause.data).toMatchObject({ actor: 'service' });
    expect(
      events.filter((e) => e.revision > pause.revision && e.revision < resume.revision).some(isEntry),
    ).toBe(false);
    expect(
      events.some((e) => e.type === 'RiskDecisionMade' && (e.data as { rule: string }).rule === 'paused'),
    ).toBe(true);
  }, 60_000);
});

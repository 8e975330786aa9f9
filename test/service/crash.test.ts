import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';
import { allProjectors, ProjectionRunner } from '../../src/projections/index.js';
import { spawnRun } from './support.js';

/**
 * Crash safety (issue 7 §4): a real `tradekernel run` child process, SIGKILLed at random moments
 * (fast-check picks them), restarted each time from the same data directory. After every restart
 * the account stream must be a prefix of an uninterrupted run's, with no event twice and every
 * order submitted once; at the end the two runs must be identical and the projections caught up.
 */
const root = mkdtempSync(join(tmpdir(), 'tk-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HOURS = 240;
function dataset(): string {
  const dir = join(root, 'candles');
  mkdirSync(dir, { recursive: true });
  for (const s of ['BTC', 'ETH', 'SOL']) {
    const rows = JSON.parse(readFileSync(`examples/candles/${s}_USDT-1h.json`, 'utf8')) as unknown[];
    writeFileSync(join(dir, `${s}_USDT-1h.json`), JSON.stringify(rows.slice(0, HOURS)));
  }
  return dir;
}

async function run(dataDir: string, source: string, killAfterMs: number | null): Promise<number | null> {
  const { child, exited } = spawnRun(dataDir, source, 'crash', ['--speed', 'max']);
  const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const { code, signal, stderr } = await exited.finally(() => timer && clearTimeout(timer));
  if (signal === 'SIGKILL') return null;
  if (code === 0) return 0;
  throw new Error(`run exited ${code}: ${stderr}`);
}

async function accountEvents(
  dataDir: string,
  withLag = true,
): Promise<{ events: RecordedEvent[]; lag: number }> {
  const ctx = await openContext({ dataDir });
  try {
    const events: RecordedEvent[] = [];
    for await (const e of ctx.store.readStream('paper-crash')) events.push(e);
    if (!withLag) return { events, lag: -1 };
    const runner = new ProjectionRunner(ctx.database, ctx.store, allProjectors());
    const status = await runner.status();
    const lag = Math.max(0, ...status.map((s) => s.lag));
    return { events, lag };
  } finally {
    await ctx.close();
  }
}

const decisionsOf = (events: RecordedEvent[]) =>
  events.filter((e) => e.type !== 'ServiceStarted').map((e) => `${e.type} ${e.id}`);

function checkInvariants(events: RecordedEvent[], reference: string[]): void {
  // revisions contiguous, ids unique: nothing lost in the middle, nothing twice
  expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  // every order submitted once
  const orders = events
    .filter((e) => e.type === 'OrderSubmitted')
    .map((e) => (e.data as { clientOrderId: string }).clientOrderId);
  expect(new Set(orders).size).toBe(orders.length);
  // what is stored is exactly the start of what an uninterrupted run stores
  const got = decisionsOf(events);
  expect(got).toEqual(reference.slice(0, got.length));
}

describe('paper service under SIGKILL', () => {
  it('resumes from the log after kills at random moments: no event lost or duplicated, no order duplicated or forgotten', async () => {
    const source = dataset();
    const referenceDir = join(root, 'reference');
    expect(await run(referenceDir, source, null)).toBe(0);
    const reference = await accountEvents(referenceDir);
    const referenceDecisions = decisionsOf(reference.events);
    expect(referenceDecisions.filter((d) => d.startsWith('OrderSubmitted')).length).toBeGreaterThan(3);
    expect(reference.lag).toBe(0);

    let trial = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1_500, max: 9_000 }), { minLength: 3, maxLength: 4 }),
        async (kills) => {
          const dir = join(root, `crash-${trial++}`);
          let killed = 0;
          for (const ms of kills) {
            const outcome = await run(dir, source, ms);
            if (outcome === null) killed++;
            const { events } = await accountEvents(dir, false);
            checkInvariants(events, referenceDecisions);
          }
          expect(await run(dir, source, null)).toBe(0);
          const final = await accountEvents(dir);
          checkInvariants(final.events, referenceDecisions);
          expect(decisionsOf(final.events)).toEqual(referenceDecisions);
          expect(final.lag).toBe(0);
          // one ServiceStarted per start: every start went through recovery
          const starts = final.events.filter((e) => e.type === 'ServiceStarted').length;
          expect(starts).toBeGreaterThanOrEqual(1);
          expect(starts).toBeLessThanOrEqual(kills.length + 1);
          return killed >= 0;
        },
      ),
      { numRuns: 2, seed: Number(process.env.CRASH_SEED ?? 7) },
    );
  }, 600_000);
});

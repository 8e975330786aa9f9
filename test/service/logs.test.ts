import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import { validateServiceConfig } from '../../src/service/config.js';
import { createLogger } from '../../src/service/logging.js';
import { CONTROL_TYPES } from '../../src/service/paper-service.js';
import { runService } from '../../src/service/run-service.js';
import { capturedLogger, readAll, replayedService, replaySlice, SYMBOLS } from './support.js';

/** Logs (issue 7 §7): JSON lines, one per decision with correlation ids; pretty on a terminal. */
const root = mkdtempSync(join(tmpdir(), 'tk-logs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}

describe('service logs', () => {
  it('one JSON line per decision, with the cycle, account, correlation and causation ids', async () => {
    const data = replaySlice(join(root, 'candles'), 150);
    const config = validateServiceConfig({ account: 'logs', symbols: [...SYMBOLS], api: { enabled: false } });
    const { logger, lines } = capturedLogger();
    const dataDir = join(root, 'store');
    await runService({
      ...replayedService({ store: { dataDir }, config, candles: data.dir, reportDir: join(root, 'reports') }),
      logger,
      mailer: null,
    });
    const ctx = await openContext({ dataDir });
    const events = await readAll(ctx.store, 'paper-logs');
    await ctx.close();
    const decisions = events.filter(
      (e) => !CONTROL_TYPES.has(e.type) && !['RunStarted', 'ServiceStarted'].includes(e.type),
    );
    expect(decisions.length).toBeGreaterThan(20);
    const logged = lines().filter((l) => l.msg === 'decision');
    // exactly one line per decision event, in log order
    expect(logged.map((l) => l.id)).toEqual(decisions.map((e) => e.id));
    for (const [i, line] of logged.entries()) {
      const e = decisions[i]!;
      expect(line).toMatchObject({
        level: 30,
        service: 'tradekernel',
        account: 'paper-logs',
        decision: e.type,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.causationId,
        occurredAt: new Date(e.metadata.occurredAt).toISOString(),
      });
      expect(line.cycle).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof line.time).toBe('number');
    }
    // a signal, its risk decision and its order share the correlation id and the cycle
    const chainOf = (id: unknown) => logged.filter((l) => l.correlationId === id);
    const order = logged.find(
      (l) =>
        l.decision === 'OrderSubmitted' &&
        chainOf(l.correlationId).some((c) => c.decision === 'SignalEmitted'),
    );
    expect(order).toBeDefined();
    const chain = chainOf(order!.correlationId);
    expect(chain.map((l) => l.decision)).toEqual(
      expect.arrayContaining(['SignalEmitted', 'RiskDecisionMade', 'OrderSubmitted']),
    );
    const decidedIn = chain.filter((l) => l.decision !== 'OrderFilled' && l.decision !== 'PositionOpened');
    expect(new Set(decidedIn.map((l) => l.cycle)).size).toBe(1);
    // the lifecycle lines are JSON too
    expect(lines().some((l) => l.msg === 'account recovered from the log')).toBe(true);
    expect(lines().some((l) => l.msg === 'service stopped')).toBe(true);
  }, 120_000);

  it('JSON when the output is not a terminal, human-readable when it is', () => {
    const plain = sink(false);
    createLogger('info', { destination: plain.stream }).info(
      { decision: 'OrderSubmitted', correlationId: 'c-1' },
      'decision',
    );
    const line = JSON.parse(plain.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      msg: 'decision',
      decision: 'OrderSubmitted',
      correlationId: 'c-1',
      level: 30,
    });

    const terminal = sink(true);
    createLogger('info', { destination: terminal.stream }).info({ correlationId: 'c-2' }, 'decision');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
    const text = terminal.text().replace(/\u001b\[[0-9;]*m/g, '');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/INFO/);
    expect(text).toMatch(/decision/);
    expect(text).toMatch(/correlationId: "c-2"/);

    // the level filters in both
    const quiet = sink(false);
    createLogger('warn', { destination: quiet.stream }).info('not shown');
    expect(quiet.text()).toBe('');
  });
});

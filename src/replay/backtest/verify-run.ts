/**
 * `replay verify <runId>`: re-derive a stored run from its inputs and compare, event by event.
 *
 * The run's stream `bt-<runId>` starts with RunStarted (strategy, market streams, range,
 * settings, kernel version). The same candles are read from the same market streams, run
 * through a fresh kernel with the same settings, and the decision events it gives are compared
 * with the stored ones in order (canonical JSON of id, type, data and metadata; the store's own
 * fields, such as recordedAt and positions, are not part of a decision). The first difference is
 * reported with both events. RunCompleted's decision hash and counts are checked too, so an
 * edit that kept the events consistent with each other but not with the hash is caught as well.
 */
import { ConfigError } from '../../domain/errors.js';
import type { NewEvent, RecordedEvent } from '../../domain/events/envelope.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import {
  RunCompleted,
  type RunCompletedData,
  RunStarted,
  type RunStartedData,
} from '../../domain/runs/events.js';
import { readMarketData } from './market-data.js';
import { specFromRunStarted } from './run-backtest.js';
import { kernelSetup } from './settings.js';
import { backtestAccount, decisionHashOf, decisionLine, simulate } from './simulate.js';

export interface Divergence {
  /** 0-based index among the decision events (revision - 1 in the stream) */
  index: number;
  /** what the stream holds there (null: the stream ends early) */
  expected: NewEvent | null;
  /** what re-deriving gives (null: re-deriving gives fewer events) */
  actual: NewEvent | null;
}

export interface VerifyResult {
  ok: boolean;
  runId: string;
  account: string;
  kernelVersion: { run: string; current: string };
  dataPoints: { stored: number | null; actual: number };
  decisions: { stored: number; actual: number };
  decisionHash: { recorded: string | null; stored: string; actual: string };
  /** the first differing decision event, if any */
  divergence: Divergence | null;
  problems: string[];
}

export async function verifyRun(
  store: EventStore,
  runId: string,
  options: { kernelVersion: string; readVia?: 'bulk' | 'port' },
): Promise<VerifyResult> {
  // the run id, or the stream name the backtest printed ("stored in bt-<runId>")
  if (runId.startsWith('bt-') && (await store.streamRevision(backtestAccount(runId))) < 0)
    runId = runId.slice(3);
  const account = backtestAccount(runId);
  if ((await store.streamRevision(account)) < 0) {
    throw new ConfigError(
      `no run ${runId}: there is no stream ${account}`,
      '`tradekernel store tail --type RunStarted --prefix bt- -n 100` lists the runs (bt-<runId>)',
    );
  }
  const stored: NewEvent[] = [];
  let started: RunStartedData | null = null;
  let completed: RunCompletedData | null = null;
  const problems: string[] = [];
  let index = 0;
  for await (const e of store.readStream(account)) {
    if (index++ === 0) {
      if (e.type !== RunStarted.type) throw new ConfigError(`${account} does not start with RunStarted`);
      started = e.data as RunStartedData;
      continue;
    }
    if (e.type === RunCompleted.type) {
      completed = e.data as RunCompletedData;
      continue;
    }
    if (completed !== null) problems.push(`${e.type} at revision ${e.revision} follows RunCompleted`);
    stored.push(asNewEvent(e));
  }
  if (!started) throw new ConfigError(`${account} is empty`);
  if (completed === null)
    problems.push('the run has no RunCompleted: it was interrupted before its last append');

  const spec = specFromRunStarted(started);
  const setup = kernelSetup(spec, runId);
  const data = await readMarketData(
    store,
    {
      exchange: spec.exchange,
      timeframe: spec.timeframe,
      symbols: spec.symbols,
      from: spec.from,
      to: spec.to,
    },
    options.readVia ? { via: options.readVia } : {},
  );
  const sim = simulate(data.series, setup, { collect: 'events' });
  const actual = sim.events!;

  let divergence: Divergence | null = null;
  const n = Math.max(actual.length, stored.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const s = stored[i];
    if (a === undefined || s === undefined || decisionLine(a) !== decisionLine(s)) {
      divergence = { index: i, expected: s ?? null, actual: a ?? null };
      break;
    }
  }
  const storedHash = decisionHashOf(stored);
  if (started.kernelVersion !== options.kernelVersion)
    problems.push(`the run was made by kernel ${started.kernelVersion}, this is ${options.kernelVersion}`);
  if (divergence) problems.push(`decision ${divergence.index} differs`);
  if (completed) {
    if (completed.decisionHash !== storedHash)
      problems.push('RunCompleted.decisionHash does not match the stored decision events');
    if (completed.decisions !== stored.length)
      problems.push(
        `RunCompleted counts ${completed.decisions} decisions, the stream holds ${stored.length}`,
      );
    if (completed.dataPoints !== sim.dataPoints)
      problems.push(
        `RunCompleted counts ${completed.dataPoints} data points, re-deriving reads ${sim.dataPoints}`,
      );
  }
  const ok =
    divergence === null &&
    completed !== null &&
    completed.decisionHash === storedHash &&
    storedHash === sim.decisionHash &&
    completed.decisions === stored.length &&
    completed.dataPoints === sim.dataPoints;
  return {
    ok,
    runId,
    account,
    kernelVersion: { run: started.kernelVersion, current: options.kernelVersion },
    dataPoints: { stored: completed?.dataPoints ?? null, actual: sim.dataPoints },
    decisions: { stored: stored.length, actual: actual.length },
    decisionHash: {
      recorded: completed?.decisionHash ?? null,
      stored: storedHash,
      actual: sim.decisionHash!,
    },
    divergence,
    problems: ok ? problems.filter((p) => p.startsWith('the run was made by')) : problems,
  };
}

/** A stored event as the kernel emitted it: the store's fields (recordedAt, positions) dropped. */
export function asNewEvent(e: RecordedEvent): NewEvent {
  const m = e.metadata;
  const metadata: NewEvent['metadata'] = {
    occurredAt: m.occurredAt,
    causationId: m.causationId ?? null,
    correlationId: m.correlationId ?? null,
    schemaVersion: m.schemaVersion,
  };
  if (m.mode !== undefined && m.mode !== null) metadata.mode = m.mode;
  if (m.runId !== undefined && m.runId !== null) metadata.runId = m.runId;
  return { id: e.id, type: e.type, data: e.data, metadata };
}

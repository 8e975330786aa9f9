/**
 * The event envelope. Every fact in tradekernel (a closed candle, a signal, a risk decision, an
 * order, a fill, a control action) is one of these, appended to one stream of the event log.
 */

export const MODES = ['backtest', 'paper', 'live'] as const;
export type Mode = (typeof MODES)[number];

export interface EventMetadata {
  /** Domain time (epoch ms UTC): when the fact happened in the market or the run, not when it was written. */
  occurredAt: number;
  /** Id of the event that caused this one (the candle behind a signal, the signal behind a decision). */
  causationId: string | null;
  /** Id shared by every event of one chain of work (a run, a cycle, an import). */
  correlationId: string | null;
  /** Version of the event's data shape; older versions are upcast when read. */
  schemaVersion: number;
  mode?: Mode;
  runId?: string;
}

/** An event about to be appended. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  /** UUID; stable across retries so an append can be repeated safely. */
  id: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedMetadata extends EventMetadata {
  /** Wall-clock time the store committed the event (epoch ms UTC). */
  recordedAt: number;
}

/** An event as stored: its place in its stream and in the global order. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  data: Data;
  metadata: RecordedMetadata;
  stream: string;
  /** 0-based position in its stream. */
  revision: number;
  /** Position in the global order of the whole log: unique, increasing, never reused. */
  position: number;
}

/** Streams are named `<category>-<rest>`; the category groups streams in stats and filters. */
export function streamCategory(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

export const STREAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$/;
export const EVENT_TYPE_PATTERN = /^[A-Z][A-Za-z0-9]{1,99}$/;
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

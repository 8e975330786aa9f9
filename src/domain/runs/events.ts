import { defineEvent } from '../events/catalogue.js';
import { MODES } from '../events/envelope.js';
import {
  array,
  epochMs,
  type Infer,
  jsonObject,
  number,
  object,
  oneOf,
  optional,
  string,
} from '../events/schema.js';

const strategyRef = object({
  name: string({ maxLength: 100 }),
  version: string({ maxLength: 50 }),
  params: jsonObject(),
});

/**
 * The first event of every run's account stream (`bt-<runId>`, `paper-<name>`, ...): what it
 * reads and how it is set up. With it, `replay verify` re-derives the run from its inputs and the
 * audit export knows which streams the account consumed.
 */
const runStartedSchema = object({
  runId: string({ maxLength: 100 }),
  account: string({ maxLength: 200 }),
  mode: oneOf(MODES),
  strategies: array(strategyRef, { maxLength: 20 }),
  exchange: string({ maxLength: 30 }),
  timeframe: string({ maxLength: 10 }),
  symbols: array(string({ maxLength: 41 }), { maxLength: 50 }),
  /** replay range (epoch ms, open times of the candles; to is exclusive) */
  from: epochMs,
  to: optional(epochMs),
  /** streams whose events the kernel consumes (market streams, the control stream) */
  inputStreams: array(string({ maxLength: 200 }), { maxLength: 100 }),
  /** everything else that shapes decisions: capital, fees, slippage, risk rules */
  settings: jsonObject(),
  kernelVersion: string({ maxLength: 50 }),
});
export type RunStartedData = Infer<typeof runStartedSchema>;

export const RunStarted = defineEvent({
  type: 'RunStarted',
  schemaVersion: 1,
  schema: runStartedSchema,
  description: 'A backtest, paper or live run began: its inputs, strategies, settings and kernel version.',
});

const runCompletedSchema = object({
  runId: string({ maxLength: 100 }),
  /** candles the kernel handled */
  dataPoints: number({ integer: true, min: 0 }),
  /** decision events the run appended (excluding RunStarted and this one) */
  decisions: number({ integer: true, min: 0 }),
  /** SHA-256 over the canonical JSON of those decision events, in order: the replay fingerprint */
  decisionHash: string({ pattern: /^[0-9a-f]{64}$/, patternName: 'a hex SHA-256' }),
  /** headline numbers for listings; the full result is re-derived from the log */
  metrics: jsonObject(),
});
export type RunCompletedData = Infer<typeof runCompletedSchema>;

export const RunCompleted = defineEvent({
  type: 'RunCompleted',
  schemaVersion: 1,
  schema: runCompletedSchema,
  description: 'A run finished: how many data points and decisions, and the fingerprint of its decisions.',
});

export const runEvents = [RunStarted, RunCompleted];

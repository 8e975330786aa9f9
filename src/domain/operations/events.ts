import { defineEvent } from '../events/catalogue.js';
import { type Infer, number, object, optional, string } from '../events/schema.js';

const serviceStartedSchema = object({
  service: string({ maxLength: 100 }),
  version: string({ maxLength: 50 }),
  host: string({ maxLength: 200 }),
  pid: number({ integer: true, min: 0 }),
});

export const ServiceStarted = defineEvent({
  type: 'ServiceStarted',
  schemaVersion: 1,
  schema: serviceStartedSchema,
  description: 'A tradekernel process started (for uptime and restart counts).',
});
export type ServiceStartedData = Infer<typeof serviceStartedSchema>;

const failureSchema = object({
  source: string({ maxLength: 200 }),
  operation: string({ maxLength: 200 }),
  error: string({ maxLength: 4_000 }),
  attempt: number({ integer: true, min: 1 }),
  latencyMs: optional(number({ min: 0 })),
});
export type FailureData = Infer<typeof failureSchema>;

export const DataCollectionFailed = defineEvent({
  type: 'DataCollectionFailed',
  schemaVersion: 1,
  schema: failureSchema,
  description: 'Fetching market data failed (after retries, or one attempt when attempt says so).',
});

export const ExchangeErrorObserved = defineEvent({
  type: 'ExchangeErrorObserved',
  schemaVersion: 1,
  schema: failureSchema,
  description: 'An exchange request failed or answered with an error.',
});

export const operationsEvents = [ServiceStarted, DataCollectionFailed, ExchangeErrorObserved];

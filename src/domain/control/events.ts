import { defineEvent } from '../events/catalogue.js';
import { type Infer, object, string } from '../events/schema.js';

/** Every control action records who did it and why. */
const controlSchema = object({
  account: string({ maxLength: 200 }),
  actor: string({ maxLength: 200 }),
  reason: string({ maxLength: 2_000 }),
});
export type ControlActionData = Infer<typeof controlSchema>;

export const TradingPaused = defineEvent({
  type: 'TradingPaused',
  schemaVersion: 1,
  schema: controlSchema,
  description: 'The owner paused trading: no new decisions until resumed.',
});

export const TradingResumed = defineEvent({
  type: 'TradingResumed',
  schemaVersion: 1,
  schema: controlSchema,
  description: 'Trading resumed after a pause or a kill switch.',
});

export const KillSwitchEngaged = defineEvent({
  type: 'KillSwitchEngaged',
  schemaVersion: 1,
  schema: controlSchema,
  description: 'Kill switch: no new orders of any kind until resumed.',
});

export const LiquidationRequested = defineEvent({
  type: 'LiquidationRequested',
  schemaVersion: 1,
  schema: controlSchema,
  description: 'Emergency liquidation: close every open position.',
});

export const controlEvents = [TradingPaused, TradingResumed, KillSwitchEngaged, LiquidationRequested];

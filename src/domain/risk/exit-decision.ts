/**
 * The exit decision. Exits reduce risk, so the rules that guard entries do not apply: only the
 * kill switch ("no new orders of any kind") refuses one. An exit with nothing to exit is
 * recorded as rejected so that every signal has exactly one decision in the log.
 */
import type { RiskOutcome } from './events.js';

export interface ExitRequest {
  readonly positionQuantity: number;
  /** an entry order is still working (it is cancelled by the exit) */
  readonly workingEntry: boolean;
  /** a sell order for this position is already working */
  readonly exitWorking: boolean;
  readonly killSwitch: boolean;
}

export interface ExitDecision {
  readonly outcome: RiskOutcome;
  readonly rule: string;
  readonly reason: string;
  /** quantity to sell (0 when only a working entry is cancelled) */
  readonly quantity: number;
}

export function decideExit(request: ExitRequest): ExitDecision {
  const reject = (rule: string, reason: string): ExitDecision => ({
    outcome: 'rejected',
    rule,
    reason,
    quantity: 0,
  });
  if (request.killSwitch) return reject('kill-switch', 'kill switch engaged: no new orders of any kind');
  if (request.exitWorking)
    return reject('exit-working', 'an exit order for this position is already working');
  if (request.positionQuantity <= 0 && !request.workingEntry) return reject('no-position', 'nothing to exit');
  return {
    outcome: 'approved',
    rule: 'exit',
    reason:
      request.positionQuantity > 0
        ? request.workingEntry
          ? 'sell the position and cancel the rest of the entry'
          : 'sell the position'
        : 'cancel the working entry',
    quantity: request.positionQuantity,
  };
}

/**
 * A running sum that does not drift (Neumaier's compensated summation).
 *
 * Rolling indicators add each value when it enters the window and subtract it when it leaves.
 * With a plain `+=`, every operation rounds to the precision of the running total and the
 * errors pile up as a random walk: after months of 1-minute candles the "sum of the last 20"
 * no longer is. Here the rounding error of each operation is recovered exactly and kept in
 * `compensation`, so value() stays within about one rounding of the true window sum however
 * long it runs (a bad print a million times too high leaves no trace once it is out).
 */
import { finiteField } from './snapshot-fields.js';

export interface CompensatedSumSnapshot {
  readonly sum: number;
  readonly compensation: number;
}

export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const total = this.sum + x;
    // The larger operand keeps its high bits in `total`; what the smaller lost is recovered here.
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - total + x;
    else this.compensation += x - total + this.sum;
    this.sum = total;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  reset(): void {
    this.sum = 0;
    this.compensation = 0;
  }

  snapshot(): CompensatedSumSnapshot {
    return { sum: this.sum, compensation: this.compensation };
  }

  /** Trusts its input: callers validate snapshot fields first. */
  restoreFrom(snapshot: CompensatedSumSnapshot): void {
    this.sum = snapshot.sum;
    this.compensation = snapshot.compensation;
  }
}

/** Reads a nested CompensatedSumSnapshot out of an untyped indicator snapshot. */
export function readCompensatedSum(kind: string, value: unknown): CompensatedSumSnapshot {
  const record = value as Record<string, unknown>;
  return { sum: finiteField(kind, record, 'sum'), compensation: finiteField(kind, record, 'compensation') };
}

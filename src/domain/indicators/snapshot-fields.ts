/**
 * Readers for snapshots that come back from storage as untyped JSON: each checks one field and
 * names it in the error, so a damaged snapshot fails at restore and not as NaN values later.
 */
import { IndicatorSnapshotError } from './errors.js';

export function snapshotRecord(kind: string, snapshot: unknown): Record<string, unknown> {
  if (typeof snapshot !== 'object' || snapshot === null) {
    throw new IndicatorSnapshotError(kind, 'expected an object');
  }
  const record = snapshot as Record<string, unknown>;
  if (record.kind !== kind) throw new IndicatorSnapshotError(kind, `kind is ${String(record.kind)}`);
  return record;
}

export function finiteField(kind: string, record: Record<string, unknown>, field: string): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new IndicatorSnapshotError(kind, `${field} must be a finite number`);
  }
  return value;
}

export function countField(kind: string, record: Record<string, unknown>, field: string): number {
  const value = finiteField(kind, record, field);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new IndicatorSnapshotError(kind, `${field} must be a non-negative integer`);
  }
  return value;
}

export function finiteArrayField(
  kind: string,
  record: Record<string, unknown>,
  field: string,
  maxLength: number,
): number[] {
  const value = record[field];
  if (!Array.isArray(value) || value.length > maxLength) {
    throw new IndicatorSnapshotError(kind, `${field} must be an array of at most ${maxLength} numbers`);
  }
  for (const item of value) {
    if (typeof item !== 'number' || !Number.isFinite(item)) {
      throw new IndicatorSnapshotError(kind, `${field} must hold finite numbers only`);
    }
  }
  return value as number[];
}

export function objectField(kind: string, record: Record<string, unknown>, field: string): unknown {
  const value = record[field];
  if (typeof value !== 'object' || value === null) {
    throw new IndicatorSnapshotError(kind, `${field} must be an object`);
  }
  return value;
}

/** Warm-up state saved before an output exists: JSON has no NaN, so 0 stands in and is ignored. */
export function valueOrZero(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}

import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/events/canonical-json.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';

/**
 * One line of an audit export: the event, the hash of the record before it and its own hash.
 * hash = SHA-256(prev + "\n" + canonical JSON of the event), so editing, dropping, inserting or
 * reordering any record breaks the chain from that record on.
 */
export interface AuditRecord {
  seq: number;
  prev: string;
  event: RecordedEvent;
  hash: string;
}

export const GENESIS = '0'.repeat(64);
export const AUDIT_FORMAT = 'tradekernel-audit/1';

export function recordHash(prev: string, event: RecordedEvent): string {
  return createHash('sha256')
    .update(`${prev}\n${canonicalJson(event)}`)
    .digest('hex');
}

export interface AuditManifest {
  format: typeof AUDIT_FORMAT;
  account: string;
  inputStreams: string[];
  /** domain-time range asked for (epoch ms; null = open) */
  from: number | null;
  to: number | null;
  records: number;
  countsByType: Record<string, number>;
  firstPosition: number | null;
  lastPosition: number | null;
  firstHash: string | null;
  lastHash: string | null;
  kernelVersion: string;
  exportedAt: string;
  fileFormat: 'jsonl' | 'csv';
}

export function manifestPath(file: string): string {
  return `${file}.manifest.json`;
}

/** CSV columns, in order. Times are epoch ms (lossless); data is the event's JSON. */
export const CSV_COLUMNS = [
  'seq',
  'position',
  'stream',
  'revision',
  'id',
  'type',
  'occurred_at',
  'recorded_at',
  'causation_id',
  'correlation_id',
  'schema_version',
  'mode',
  'run_id',
  'data',
  'prev_hash',
  'hash',
] as const;

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsvLine(record: AuditRecord): string {
  const e = record.event;
  const m = e.metadata;
  return [
    record.seq,
    e.position,
    e.stream,
    e.revision,
    e.id,
    e.type,
    m.occurredAt,
    m.recordedAt,
    m.causationId,
    m.correlationId,
    m.schemaVersion,
    m.mode,
    m.runId,
    JSON.stringify(e.data),
    record.prev,
    record.hash,
  ]
    .map(csvField)
    .join(',');
}

/** Splits one CSV line (quoted fields may hold commas and doubled quotes, not newlines). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

export function fromCsvFields(fields: string[]): AuditRecord {
  if (fields.length !== CSV_COLUMNS.length)
    throw new Error(`expected ${CSV_COLUMNS.length} fields, found ${fields.length}`);
  const f = (name: (typeof CSV_COLUMNS)[number]) => fields[CSV_COLUMNS.indexOf(name)]!;
  const metadata: RecordedEvent['metadata'] = {
    occurredAt: Number(f('occurred_at')),
    causationId: f('causation_id') || null,
    correlationId: f('correlation_id') || null,
    schemaVersion: Number(f('schema_version')),
    recordedAt: Number(f('recorded_at')),
  };
  if (f('mode')) metadata.mode = f('mode') as NonNullable<RecordedEvent['metadata']['mode']>;
  if (f('run_id')) metadata.runId = f('run_id');
  return {
    seq: Number(f('seq')),
    prev: f('prev_hash'),
    hash: f('hash'),
    event: {
      id: f('id'),
      type: f('type'),
      data: JSON.parse(f('data')),
      metadata,
      stream: f('stream'),
      revision: Number(f('revision')),
      position: Number(f('position')),
    },
  };
}

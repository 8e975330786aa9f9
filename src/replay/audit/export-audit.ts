import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import { ConfigError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import type { RunStartedData } from '../../domain/runs/events.js';
import {
  AUDIT_FORMAT,
  type AuditManifest,
  CSV_COLUMNS,
  GENESIS,
  manifestPath,
  recordHash,
  toCsvLine,
} from './audit-record.js';

export interface AuditExportOptions {
  account: string;
  from?: number;
  to?: number;
  format: 'jsonl' | 'csv';
  out: string;
  kernelVersion: string;
  /** streams the account consumed, in addition to those its RunStarted names */
  inputStreams?: string[];
  now?: () => Date;
}

/**
 * The streams an account consumed: those its RunStarted names, its control stream, and any
 * given. The account's own stream comes first.
 */
export async function auditStreams(
  store: EventStore,
  account: string,
  extra: string[] = [],
): Promise<string[]> {
  const streams = new Set<string>([account, ...extra]);
  let found = false;
  for await (const event of store.readStream(account, { maxCount: 50 })) {
    found = true;
    if (event.type === 'RunStarted')
      for (const s of (event.data as RunStartedData).inputStreams) streams.add(s);
  }
  if (!found) {
    throw new ConfigError(
      `no account stream named ${account}`,
      '`tradekernel store tail --type RunStarted -n 100` lists the accounts (bt-*, paper-*, live-*)',
    );
  }
  streams.add(`control-${account}`);
  return [...streams];
}

/**
 * Streams every event of the account and of the streams it consumed, in global order, into a
 * hash-chained JSONL or CSV file plus a manifest. Constant memory: one event at a time.
 */
export async function exportAudit(
  store: EventStore,
  options: AuditExportOptions,
  onProgress?: (records: number) => void,
): Promise<AuditManifest> {
  const streams = await auditStreams(store, options.account, options.inputStreams);
  const wanted = new Set(streams);
  const out = createWriteStream(options.out);
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  if (options.format === 'csv') await write(CSV_COLUMNS.join(','));
  let prev = GENESIS;
  let seq = 0;
  let first: RecordedEvent | undefined;
  let last: RecordedEvent | undefined;
  let firstHash: string | null = null;
  const countsByType: Record<string, number> = {};
  for await (const event of store.readAll({ filter: { streamPrefixes: streams } })) {
    if (!wanted.has(event.stream)) continue;
    const t = event.metadata.occurredAt;
    if ((options.from !== undefined && t < options.from) || (options.to !== undefined && t >= options.to))
      continue;
    seq++;
    const hash = recordHash(prev, event);
    const record = { seq, prev, event, hash };
    await write(options.format === 'csv' ? toCsvLine(record) : JSON.stringify(record));
    prev = hash;
    first ??= event;
    firstHash ??= hash;
    last = event;
    countsByType[event.type] = (countsByType[event.type] ?? 0) + 1;
    if (seq % 10_000 === 0) onProgress?.(seq);
  }
  out.end();
  await once(out, 'finish');
  const manifest: AuditManifest = {
    format: AUDIT_FORMAT,
    account: options.account,
    inputStreams: streams.slice(1),
    from: options.from ?? null,
    to: options.to ?? null,
    records: seq,
    countsByType,
    firstPosition: first?.position ?? null,
    lastPosition: last?.position ?? null,
    firstHash,
    lastHash: seq > 0 ? prev : null,
    kernelVersion: options.kernelVersion,
    exportedAt: (options.now?.() ?? new Date()).toISOString(),
    fileFormat: options.format,
  };
  writeFileSync(manifestPath(options.out), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

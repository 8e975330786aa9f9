import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  type AuditManifest,
  type AuditRecord,
  CSV_COLUMNS,
  fromCsvFields,
  GENESIS,
  manifestPath,
  parseCsvLine,
  recordHash,
} from './audit-record.js';

export type AuditProblemKind = 'unreadable' | 'edited' | 'dropped' | 'inserted-or-reordered' | 'manifest';

export interface AuditProblem {
  /** 1-based record number in the file (0 for the manifest) */
  record: number;
  line: number;
  kind: AuditProblemKind;
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  file: string;
  records: number;
  lastHash: string | null;
  manifestChecked: boolean;
  problems: AuditProblem[];
}

/**
 * Recomputes the chain of an audit export. Each record is checked on its own (its hash over its
 * own content: an edit) and against its neighbour (its prev and seq: a drop, an insertion or a
 * reorder), so every tampered place is reported, not only the first; the manifest's count and
 * last hash catch records cut from or added at the end.
 */
export async function verifyAudit(file: string, maxProblems = 100): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  const report = (p: AuditProblem) => {
    if (problems.length < maxProblems) problems.push(p);
  };
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  let index = 0;
  let csv: boolean | undefined;
  let previous: AuditRecord | undefined;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    if (csv === undefined) {
      csv = text === CSV_COLUMNS.join(',');
      if (csv) continue;
    }
    index++;
    let record: AuditRecord;
    try {
      record = csv ? fromCsvFields(parseCsvLine(text)) : (JSON.parse(text) as AuditRecord);
    } catch (error) {
      report({ record: index, line, kind: 'unreadable', detail: (error as Error).message });
      previous = undefined;
      continue;
    }
    if (recordHash(record.prev, record.event) !== record.hash) {
      report({
        record: index,
        line,
        kind: 'edited',
        detail: `content does not match its hash (position ${record.event?.position})`,
      });
    }
    const expectedPrev = previous ? previous.hash : index === 1 ? GENESIS : undefined;
    const expectedSeq = previous ? previous.seq + 1 : index;
    if (expectedPrev !== undefined && record.prev !== expectedPrev) {
      const kind = record.seq > expectedSeq ? 'dropped' : 'inserted-or-reordered';
      const detail =
        kind === 'dropped'
          ? `records ${expectedSeq}..${record.seq - 1} are missing before it`
          : `seq ${record.seq} where ${expectedSeq} was expected: it does not follow the record before it`;
      report({ record: index, line, kind, detail });
    }
    previous = record;
  }
  const manifestFile = manifestPath(file);
  const manifestChecked = existsSync(manifestFile);
  if (manifestChecked) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as AuditManifest;
    if (manifest.records !== index) {
      report({
        record: 0,
        line: 0,
        kind: 'manifest',
        detail: `the manifest counts ${manifest.records} records, the file has ${index}`,
      });
    }
    if ((manifest.lastHash ?? null) !== (previous?.hash ?? null)) {
      report({
        record: 0,
        line: 0,
        kind: 'manifest',
        detail: 'the last hash differs from the manifest: records were cut from or added at the end',
      });
    }
  }
  return {
    ok: problems.length === 0,
    file,
    records: index,
    lastHash: previous?.hash ?? null,
    manifestChecked,
    problems,
  };
}

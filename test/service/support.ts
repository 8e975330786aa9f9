import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import type { VirtualClock } from '../../src/service/clock.js';
import type { ServiceConfig } from '../../src/service/config.js';
import type { PaperTradingService } from '../../src/service/paper-service.js';
import type { RunServiceOptions } from '../../src/service/run-service.js';

/** Shared helpers of the service tests: small real datasets, captured logs, reading streams. */

export const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'] as const;
export const HOUR = 3_600_000;

/** The first `hours` hourly candles of the shipped examples (real Binance data), per symbol. */
export function replaySlice(
  dir: string,
  hours: number,
  symbols: readonly string[] = SYMBOLS,
  skip = 0,
): { dir: string; first: number; lastClose: number } {
  mkdirSync(dir, { recursive: true });
  let first = Number.POSITIVE_INFINITY;
  let lastClose = Number.NEGATIVE_INFINITY;
  for (const symbol of symbols) {
    const name = `${symbol.replace('/', '_')}-1h.json`;
    const rows = (JSON.parse(readFileSync(`examples/candles/${name}`, 'utf8')) as number[][]).slice(
      skip,
      skip + hours,
    );
    first = Math.min(first, rows[0]![0]!);
    lastClose = Math.max(lastClose, rows[rows.length - 1]![0]! + HOUR);
    writeFileSync(join(dir, name), JSON.stringify(rows));
  }
  return { dir, first, lastClose };
}

/**
 * runService options for a service on a replayed exchange (`candles`: a replaySlice directory)
 * at full speed: quiet, no API, reports under `reportDir`. E-mail as the config says.
 */
export function replayedService(o: {
  store: RunServiceOptions['store'];
  config: ServiceConfig;
  candles: string;
  reportDir: string;
}): RunServiceOptions {
  return {
    store: o.store,
    config: o.config,
    source: { kind: 'replay', path: o.candles },
    speed: 'max',
    version: 'test',
    logger: silentLogger(),
    signal: new AbortController().signal,
    api: null,
    reportDir: o.reportDir,
  };
}

/** A pino logger writing JSON lines into memory. */
export function capturedLogger(level = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level, base: { service: 'tradekernel' } }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

export async function readAll(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(stream)) out.push(e);
  return out;
}

/** Runs the loop the way runService does: sleep until due, cycle; until `end` or `maxCycles`. */
export async function drive(
  service: PaperTradingService,
  clock: VirtualClock,
  options: { end: number; maxCycles?: number },
): Promise<number> {
  let cycles = 0;
  while (service.handledUntil < options.end && cycles < (options.maxCycles ?? Number.POSITIVE_INFINITY)) {
    await clock.sleepUntil(service.nextDue());
    await service.cycle();
    cycles++;
  }
  return cycles;
}

export const decisionIds = (events: readonly { type: string; id: string }[]) =>
  events.filter((e) => !['ServiceStarted', 'RunStarted'].includes(e.type)).map((e) => `${e.type} ${e.id}`);

export interface CapturedMail {
  to: string[];
  subject: string;
  body: string;
}

/** A local SMTP server (smtp-server) that keeps every message it receives. */
export async function startSmtpCapture(): Promise<{
  port: number;
  mails: CapturedMail[];
  close(): Promise<void>;
}> {
  const { SMTPServer } = await import('smtp-server');
  const mails: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      stream.on('end', () => {
        const split = raw.indexOf('\r\n\r\n');
        // unfold header lines (RFC 5322: a line starting with white space continues the previous)
        const headers = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
        const subject = /^Subject: (.*)$/m.exec(headers)?.[1] ?? '';
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          body: raw.slice(split + 4),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * `tradekernel run` over a recorded source in a child process of its own (no API, silent log), as
 * the owner would start it: for tests that kill it or start a second one.
 */
export function spawnRun(
  dataDir: string,
  source: string,
  account: string,
  extra: readonly string[] = [],
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      '--data-dir',
      dataDir,
      'run',
      '--source',
      `replay:${source}`,
      '--account',
      account,
      '--no-api',
      '--log-level',
      'silent',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  return { child, exited };
}

/**
 * The bulk candle read's windows on a PostgreSQL server, read and decoded on a worker thread
 * (candle-window-worker.ts). The pages come back as their column buffers, moved, not copied;
 * the buffer of a page the reader is done with goes back to be filled again. A backtest's main
 * thread then only runs the kernel: on two cores the server, the decoding and the kernel overlap.
 */
import type { Worker } from 'node:worker_threads';
import { type ErrorShape, reviveError, startWorker, workerScript } from '../threads/worker-thread.js';
import { CandlePageBuffer } from './candle-page.js';

export interface WindowWorkerData {
  connectionString: string;
  /** connections of the worker's pool: the windows read at once */
  connections: number;
}

export interface WindowRequest {
  id: number;
  /** `copy (select <type>, data ...) to stdout` (see candle-range-reader.ts) */
  statement: string;
  /** the stream and the first revision it reads, to name an event it cannot read */
  stream: string;
  from: number;
  capacity: number;
  /** a page's buffer to fill again, when one is free */
  buffer?: ArrayBuffer;
}

export type WindowReply =
  | {
      id: number;
      length: number;
      buffer: ArrayBuffer;
      others: CandlePageBuffer['others'];
      stream: string;
      from: number;
    }
  | { id: number; error: ErrorShape };

export class CandleWindowThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { capacity: number; resolve: (page: CandlePageBuffer) => void; reject: (error: Error) => void }
  >();
  private next = 0;
  /** set when the worker failed or exited: every read after that is refused with it */
  broken: Error | undefined;
  private closing = false;

  constructor(connectionString: string, connections: number) {
    this.worker = startWorker(workerScript(import.meta.url, 'candle-window-worker'), {
      workerData: { connectionString, connections } satisfies WindowWorkerData,
    });
    // idle, the worker keeps no process alive; a read in flight does (see read)
    this.worker.unref();
    this.worker.on('message', (reply: WindowReply) => this.answer(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`candle read worker exited with code ${code}`)));
  }

  /**
   * Runs `statement` (a COPY of the rows of `stream` from revision `from` on) into a page of
   * `capacity`, refilling `recycled` if given.
   */
  read(
    statement: string,
    stream: string,
    from: number,
    capacity: number,
    recycled?: CandlePageBuffer,
  ): Promise<CandlePageBuffer> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.next++;
    const reuse = recycled !== undefined && recycled.capacity === capacity ? recycled.buffer : undefined;
    const request: WindowRequest = {
      id,
      statement,
      stream,
      from,
      capacity,
      ...(reuse ? { buffer: reuse } : {}),
    };
    return new Promise((resolve, reject) => {
      // sent before it is waited for: a request that cannot be sent leaves nothing holding the worker
      this.worker.postMessage(request, reuse ? [reuse] : []);
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { capacity, resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private answer(reply: WindowReply): void {
    const pending = this.waiting.get(reply.id);
    if (!pending) return;
    this.settled(reply.id);
    if ('error' in reply) {
      pending.reject(reviveError(reply.error));
      return;
    }
    const page = new CandlePageBuffer(pending.capacity, reply.buffer);
    page.reset(reply.stream, reply.from);
    page.length = reply.length;
    page.others = reply.others;
    pending.resolve(page);
  }

  private settled(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
  }

  private fail(error: Error): void {
    if (this.closing) error = new Error('the event store was closed during a candle read');
    this.broken ??= error;
    for (const [id, { reject }] of this.waiting) {
      this.settled(id);
      reject(this.broken);
    }
  }
}

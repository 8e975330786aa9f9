/**
 * Worker entry of the bulk candle read on a PostgreSQL server (candle-window-thread.ts): runs each
 * window's `COPY (...) TO STDOUT` on a pooled connection of its own and decodes the rows into the
 * page's columns as the chunks arrive, so the thread that runs the kernel never sees the bytes.
 * Windows run concurrently (the main thread bounds how many are in flight).
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { errorShape } from '../threads/worker-thread.js';
import { CandlePageBuffer, decodeEventRow, LineSplitter } from './candle-page.js';
import type { WindowReply, WindowRequest, WindowWorkerData } from './candle-window-thread.js';

const port = parentPort;
if (!port) throw new Error('candle-window-worker runs as a worker thread');
const { connectionString, connections } = workerData as WindowWorkerData;
const pool = new pg.Pool({ connectionString, max: connections });
// an idle connection the server drops is discarded; the next window reconnects
pool.on('error', () => {});

port.on('message', async (request: WindowRequest) => {
  const page = new CandlePageBuffer(request.capacity, request.buffer);
  page.reset(request.stream, request.from);
  let reply: WindowReply;
  try {
    await copyRows(request.statement, page);
    reply = {
      id: request.id,
      length: page.length,
      buffer: page.buffer,
      others: page.others,
      stream: request.stream,
      from: request.from,
    };
  } catch (error) {
    port.postMessage({ id: request.id, error: errorShape(error) } satisfies WindowReply);
    return;
  }
  port.postMessage(reply, [page.buffer]);
});

async function copyRows(statement: string, page: CandlePageBuffer): Promise<void> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    // pg-copy-streams reads the socket itself and hands over the rows' bytes in large chunks
    // (no pg message object per row)
    const rows = client.query(copyTo(statement));
    const lines = new LineSplitter((bytes, start, end) => decodeEventRow(bytes, start, end, true, page));
    for await (const chunk of rows as AsyncIterable<Buffer>) lines.push(chunk);
    lines.end();
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    client.release(failed);
  }
}

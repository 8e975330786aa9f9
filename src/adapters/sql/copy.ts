import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * COPY on a raw pg connection: the cheapest way in and out of a PostgreSQL server. A statement
 * through the extended protocol pays per row for projecting parameters (in) or building one
 * DataRow per row and decoding it in the driver (out); COPY streams rows in the server's own
 * text format. On PGlite the input comes from a blob (copyInBlob); reads go through SQL there.
 */

/**
 * Runs `copy ... from stdin` and streams the chunks `produce` yields while the server works on
 * the ones already sent, so producing and inserting overlap on two cores.
 */
export async function copyIn(
  client: pg.ClientBase,
  statement: string,
  produce: () => Iterable<Buffer>,
): Promise<void> {
  const stream = client.query(copyFrom(statement, { highWaterMark: 1 << 16 }));
  const finished = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  finished.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  // The server refused a row (a unique violation): stop producing, report it from `finished`.
  let failed = false;
  stream.once('error', () => {
    failed = true;
  });
  try {
    for (const chunk of produce()) {
      if (failed) break;
      // Backpressure: the first chunks wait for the server's CopyInResponse, later ones for the socket.
      if (!stream.write(chunk)) await drained(stream);
    }
  } catch (error) {
    stream.destroy(error as Error); // CopyFail: the server aborts the COPY
    await finished.catch(() => {});
    throw error;
  }
  if (!failed) stream.end();
  await finished;
}

/**
 * The same on PGlite, which has no socket: `copy ... from stdin` reads the chunks as one blob
 * (PGlite's `/dev/blob`). Much cheaper for the embedded server than inserting the same rows from
 * a query, as on a real one.
 */
export async function copyInBlob(
  pglite: PGlite,
  statement: string,
  produce: () => Iterable<Buffer>,
): Promise<void> {
  // `from stdin` itself would hang PGlite (it waits for input in the middle of the WebAssembly)
  const fromBlob = statement.replace(/\bfrom\s+stdin\s*$/i, "from '/dev/blob'");
  if (fromBlob === statement) throw new Error(`copyInBlob: not a COPY ... FROM STDIN: ${statement}`);
  const blob = new Blob([...produce()]);
  await pglite.query(fromBlob, [], { blob });
}

function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

/**
 * Runs `copy (query) to stdout` and returns everything it sent as one text. pg already splits the
 * CopyData messages (one per row) and hands each to the active query: copy them straight into
 * one growing buffer, decoded once at the end.
 */
export function copyOut(client: pg.ClientBase, statement: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.query(new CopyOut(statement, resolve, reject));
  });
}

/** A pg Submittable for COPY TO STDOUT (the driver calls these handlers; see pg's client.js). */
class CopyOut implements pg.Submittable {
  private page = Buffer.allocUnsafe(1 << 20);
  private size = 0;
  private error: Error | undefined;

  constructor(
    readonly text: string,
    private readonly resolve: (text: string) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  submit(connection: pg.Connection): void {
    (connection as unknown as { query(text: string): void }).query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    const chunk = message.chunk;
    if (this.size + chunk.length > this.page.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.page.length * 2, this.size + chunk.length));
      this.page.copy(bigger, 0, 0, this.size);
      this.page = bigger;
    }
    this.size += chunk.copy(this.page, this.size);
  }

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    if (this.error) this.reject(this.error);
    else this.resolve(this.page.toString('utf8', 0, this.size));
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    connection.sendCopyFail('not a COPY FROM');
  }
}

/**
 * Child process for the crash test: appends batches forever and prints "ack <stream> <events>"
 * after each acknowledged append, until it is killed.
 * Usage: node --import tsx test/support/append-forever.ts pglite <dir> <prefix> <batch>
 *        node --import tsx test/support/append-forever.ts postgres <url> <prefix> <batch>
 */
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, openPostgres } from '../../src/adapters/sql/database.js';
import { testCatalogue, testEvents } from './test-events.js';

const [kind, where, prefix, batchText] = process.argv.slice(2);
const batch = Number(batchText);
const database = kind === 'pglite' ? await openPglite(where!) : await openPostgres(where!);
const store = await PostgresEventStore.open(database, testCatalogue());
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const stream = `${prefix}-${i % 3}`;
  await store.append(stream, testEvents(i * batch, batch));
  process.stdout.write(`ack ${stream} ${batch}\n`);
}

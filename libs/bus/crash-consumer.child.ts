import { appendFileSync, readFileSync } from 'node:fs';
import { loadBusConfig } from './bus.config.ts';
import { createBus } from './bus.factory.ts';
import { ticketSpec } from './bus.harness.ts';
import { closeOnSignals } from './signals.ts';

/**
 * The consumer process of kafka.crash.integration.test.ts: a service with an idempotent handler whose state
 * lives in a file, as a cart's lives in a database. The bus comes from the environment like any
 * service's (WALKOUT_BUS=kafka, WALKOUT_KAFKA_BROKERS, ...).
 *
 *   CRASH_TEST_TOPIC, CRASH_TEST_GROUP  what to consume
 *   CRASH_TEST_STATE                    append-only file: one line per applied event (the "database")
 *   CRASH_TEST_DELIVERIES               one line per delivery, duplicates included
 *   CRASH_TEST_STALL_AFTER              after applying this many events here, say "stalled" on stdout
 *                                       and hang inside the handler, mid-batch, waiting for SIGKILL
 */

const env = process.env;
const topic = required('CRASH_TEST_TOPIC');
const group = required('CRASH_TEST_GROUP');
const stateFile = required('CRASH_TEST_STATE');
const deliveriesFile = required('CRASH_TEST_DELIVERIES');
const stallAfter = env.CRASH_TEST_STALL_AFTER ? Number(env.CRASH_TEST_STALL_AFTER) : Infinity;

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** What is already applied survives the crash, as a database would; the dedupe set is rebuilt from it. */
const applied = new Set<string>();
try {
  for (const line of readFileSync(stateFile, 'utf8').split('\n')) if (line) applied.add(line.split(' ')[0]);
} catch {
  // First run: nothing applied yet.
}

const bus = await createBus({ topics: { [topic]: ticketSpec }, config: loadBusConfig(env) });
await bus.start();
let appliedHere = 0;

await bus.subscribe({
  group,
  topics: [topic],
  handle: async ({ message, partition, offset }) => {
    appendFileSync(deliveriesFile, `${message.eventId} ${partition} ${offset}\n`);
    // The idempotent part: an event already applied (before a crash) changes nothing.
    if (applied.has(message.eventId)) return;
    // One write per event: a SIGKILL lands before it or after it, never inside a line.
    appendFileSync(stateFile, `${message.eventId} ${message.key} ${message.seq}\n`);
    applied.add(message.eventId);
    appliedHere++;
    if (appliedHere === stallAfter) {
      process.stdout.write(`stalled ${appliedHere}\n`);
      await new Promise(() => {}); // the batch never finishes: its offsets are never committed
    }
  },
});
process.stdout.write('subscribed\n');
closeOnSignals(bus);

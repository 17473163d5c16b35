import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { FAST_GROUPS, kafkaKind, kafkaTarget, ticket, ticketTopics, waitFor, type Ticket } from './bus.harness.ts';

/**
 * A consumer process killed with SIGKILL in the middle of a batch, then restarted: every message is
 * processed, and the idempotent handler ends in the same state as a run without the crash. Needs a
 * real broker (WALKOUT_KAFKA_BROKERS); skipped without one, failed without one under CI=true.
 */

const target = kafkaTarget();
const CHILD = fileURLToPath(new URL('./crash-consumer.child.ts', import.meta.url));
const KEYS = ['visit-1', 'visit-2', 'visit-3', 'visit-4', 'visit-5', 'visit-6'];
const PER_KEY = 500;
/** Far into the first fetched batch (a batch holds a whole partition's ~1000 messages here). */
const STALL_AFTER = 700;

/** An order-sensitive fold: applying an event twice, or two events swapped, gives another number. */
function fold(state: Map<string, number>, key: string, seq: number): void {
  state.set(key, ((state.get(key) ?? 17) * 31 + seq + 1) % 1_000_000_007);
}

test('a consumer killed mid-batch and restarted loses nothing and applies nothing twice', { timeout: 120_000, skip: 'skip' in target ? target.skip : false }, async (t) => {
  if (!('brokers' in target)) return assert.fail('fail' in target ? target.fail : target.skip);
  const brokers = target.brokers;
  const kind = kafkaKind(target);
  const { topics, name } = ticketTopics('crash');
  const topic = name.crash;
  const group = `crash-${topic}`;
  const dir = mkdtempSync(join(tmpdir(), 'walkout-crash-'));
  const stateFile = join(dir, 'state.log');
  const deliveriesFile = join(dir, 'deliveries.log');
  const children: ChildProcess[] = [];
  const admin = new Kafka({ clientId: 'walkout-crash-test', brokers, logLevel: logLevel.NOTHING }).admin();
  t.after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await admin.disconnect();
    await kind.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const publisher = await kind.make(topics);
  const published: Ticket[] = [];
  for (let seq = 0; seq < PER_KEY; seq++) for (const key of KEYS) published.push(ticket(key, seq));
  await Promise.all(published.map((message) => publisher.publish(topic, message)));
  await publisher.close();
  await admin.connect();

  const start = (stallAfter?: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        WALKOUT_BUS: 'kafka',
        WALKOUT_KAFKA_BROKERS: brokers.join(','),
        WALKOUT_KAFKA_SESSION_TIMEOUT_MS: String(FAST_GROUPS.sessionTimeoutMs),
        WALKOUT_KAFKA_HEARTBEAT_MS: String(FAST_GROUPS.heartbeatIntervalMs),
        WALKOUT_KAFKA_REBALANCE_TIMEOUT_MS: String(FAST_GROUPS.rebalanceTimeoutMs),
        WALKOUT_KAFKA_FETCH_MAX_WAIT_MS: String(FAST_GROUPS.fetchMaxWaitMs),
        CRASH_TEST_TOPIC: topic,
        CRASH_TEST_GROUP: group,
        CRASH_TEST_STATE: stateFile,
        CRASH_TEST_DELIVERIES: deliveriesFile,
        ...(stallAfter ? { CRASH_TEST_STALL_AFTER: String(stallAfter) } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    return { child, said: (word: string) => output.includes(word) };
  };
  const lines = (file: string) => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const committedTotal = async () =>
    (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);

  // 1. The first consumer stalls inside a batch; kill it there.
  const first = start(STALL_AFTER);
  await waitFor(() => first.said('stalled'), 'the first consumer to stall mid-batch', 60_000);
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const appliedBeforeCrash = lines(stateFile).length;
  const committedAtCrash = await committedTotal();
  assert.equal(appliedBeforeCrash, STALL_AFTER);
  assert.ok(
    committedAtCrash < appliedBeforeCrash,
    `the kill left applied work uncommitted (applied ${appliedBeforeCrash}, committed ${committedAtCrash})`,
  );

  // 2. Restart; it gets the uncommitted messages again, skips what was applied, finishes the rest.
  const second = start();
  await waitFor(() => lines(stateFile).length >= published.length, () => `all ${published.length} applied, have ${lines(stateFile).length}`, 90_000);
  // 3. SIGTERM: a clean close commits everything handled, and exits 0.
  second.child.kill('SIGTERM');
  const [code] = await once(second.child, 'exit');
  assert.equal(code, 0, 'SIGTERM closes the consumer cleanly');
  assert.equal(await committedTotal(), published.length, 'everything committed after the clean close');

  // Nothing lost, nothing applied twice, order per key kept.
  const applied = lines(stateFile).map((line) => line.split(' '));
  const deliveries = lines(deliveriesFile);
  assert.equal(applied.length, published.length);
  assert.equal(new Set(applied.map(([eventId]) => eventId)).size, published.length, 'each event applied once');
  assert.ok(deliveries.length > published.length, `the crash caused redeliveries (${deliveries.length} deliveries), which the handler absorbed`);
  const crashed = new Map<string, number>();
  for (const [, key, seq] of applied) fold(crashed, key, Number(seq));
  const clean = new Map<string, number>();
  for (const message of published) fold(clean, message.key, message.seq);
  assert.deepEqual(crashed, clean, 'same final state as a run without the crash');
  t.diagnostic(
    `killed after applying ${appliedBeforeCrash} with ${committedAtCrash} committed; ` +
      `${deliveries.length} deliveries for ${published.length} messages, each applied once`,
  );
});

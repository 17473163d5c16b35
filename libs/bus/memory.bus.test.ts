import assert from 'node:assert/strict';
import test from 'node:test';
import { Partitioners } from 'kafkajs';
import { z } from 'zod';
import { parseBusConfig } from './bus.config.ts';
import { sleep, ticket, ticketSpec, waitFor, type Ticket } from './bus.harness.ts';
import { createMemoryBus } from './memory.bus.ts';
import { partitionForKey } from './partitioner.ts';
import { closeOnSignals } from './signals.ts';
import { deadLetterRecord, MAX_DEAD_LETTER_PAYLOAD_CHARS } from './delivery.ts';
import { MessageDeadLettered } from '../contracts/topics.ts';

/** What only the in-process bus has to prove: bounded queues, retention, and its own bookkeeping. */

const one = { 'test.one': { ...ticketSpec, partitions: 1 } };
const bus = (capacity: number, topics: Record<string, typeof ticketSpec> = one) =>
  createMemoryBus({ topics, config: parseBusConfig({ memory: { queueCapacity: capacity }, retry: { initialBackoffMs: 1, maxBackoffMs: 1 } }) });

/** Resolves to whether the promise settled within a few event-loop turns. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(20);
  return settled;
}

test('a publish waits while the slowest group is queueCapacity behind, and goes on when it catches up', async () => {
  const b = bus(3);
  const seen: number[] = [];
  const sub = await b.subscribe({ group: 'carts', topics: ['test.one'], handle: ({ message }) => void seen.push(message.seq) });
  sub.pause();
  for (let seq = 0; seq < 3; seq++) await b.publish('test.one', ticket('v1', seq));
  const fourth = b.publish('test.one', ticket('v1', 3));
  assert.equal(await settledSoon(fourth), false, 'the fourth publish waits');
  sub.resume();
  await fourth;
  await waitFor(() => seen.length === 4, 'all four handled');
  assert.deepEqual(seen, [0, 1, 2, 3]);
  await b.close();
});

test('a handler publishing into a full partition its own busy group is behind on goes over capacity after stallMs, not for ever', async () => {
  const b = createMemoryBus({ topics: one, config: parseBusConfig({ memory: { queueCapacity: 2, stallMs: 30 } }) });
  const seen: number[] = [];
  // Each first-generation ticket asks for a follow-up on the same topic (a saga step, say), awaited.
  await b.subscribe({
    group: 'echo',
    topics: ['test.one'],
    handle: async ({ message }) => {
      seen.push(message.seq);
      if (message.seq < 100) await b.publish('test.one', ticket('v1', message.seq + 100));
    },
  });
  for (let seq = 0; seq < 2; seq++) await b.publish('test.one', ticket('v1', seq));
  await waitFor(() => seen.length === 4, () => `all four handled, saw ${seen.join(',')}`);
  assert.deepEqual(seen, [0, 1, 100, 101]);
  assert.ok(b.stats().overCapacity >= 1, `went over capacity ${b.stats().overCapacity} times`);
  await b.close();

  // A paused group is backpressure on purpose: its publishers wait, however long.
  const paused = createMemoryBus({ topics: one, config: parseBusConfig({ memory: { queueCapacity: 2, stallMs: 10 } }) });
  const sub = await paused.subscribe({ group: 'carts', topics: ['test.one'], handle: () => undefined });
  sub.pause();
  for (let seq = 0; seq < 2; seq++) await paused.publish('test.one', ticket('v1', seq));
  const third = paused.publish('test.one', ticket('v1', 2));
  await sleep(60);
  assert.equal(await settledSoon(third), false, 'still waiting for the paused group');
  assert.equal(paused.stats().overCapacity, 0);
  sub.resume();
  await third;
  await paused.close();
});

test('with no group reading a topic, only the newest queueCapacity messages are kept (and counted)', async () => {
  const b = bus(3);
  for (let seq = 0; seq < 10; seq++) await b.publish('test.one', ticket('v1', seq));
  assert.equal(b.stats().expired, 7);
  const seen: number[] = [];
  await b.subscribe({ group: 'late', topics: ['test.one'], handle: ({ message }) => void seen.push(message.seq) });
  await waitFor(() => seen.length === 3, 'the three kept');
  assert.deepEqual(seen, [7, 8, 9]);
  await b.close();
});

test('a group with no members left does not hold publishers back; it resumes from its commit or the oldest kept', async () => {
  const b = bus(2);
  const seen: number[] = [];
  const sub = await b.subscribe({ group: 'report', topics: ['test.one'], handle: ({ message }) => void seen.push(message.seq) });
  await b.publish('test.one', ticket('v1', 0));
  await waitFor(() => seen.length === 1, 'the first');
  await sub.close();
  for (let seq = 1; seq < 6; seq++) assert.equal(await settledSoon(b.publish('test.one', ticket('v1', seq))), true);
  await b.subscribe({ group: 'report', topics: ['test.one'], handle: ({ message }) => void seen.push(message.seq) });
  await waitFor(() => seen.length === 3, 'the kept two');
  assert.deepEqual(seen, [0, 4, 5]);
  assert.equal(b.stats().skipped, 3, 'seq 1 to 3 expired before the group came back');
  await b.close();
});

test('close: waiting publishers and later calls get BUS_CLOSED', async () => {
  const b = bus(1);
  const sub = await b.subscribe({ group: 'g', topics: ['test.one'], handle() {} });
  sub.pause();
  await b.publish('test.one', ticket('v1', 0));
  const waiting = b.publish('test.one', ticket('v1', 1));
  await b.close();
  await assert.rejects(waiting, { code: 'BUS_CLOSED' });
  await assert.rejects(b.publish('test.one', ticket('v1', 2)), { code: 'BUS_CLOSED' });
  await assert.rejects(b.subscribe({ group: 'g', topics: ['test.one'], handle() {} }), { code: 'BUS_CLOSED' });
});

test('a key lands on the same partition number as with kafkajs (and so any Kafka client)', () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 6, 7, 12])
    for (const key of ['cam-1', 'shelf-22', 'g2-s5-l4', 'visit-8f3c', '', 'a', 'ab', 'abc', 'abcd', 'ünïcödé-€']) {
      const theirs = kafkajs({
        topic: 't',
        partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 })),
        message: { key, value: null },
      });
      assert.equal(partitionForKey(key, partitions), theirs, `${JSON.stringify(key)} over ${partitions}`);
    }
});

test('one subscription can read several topics; delivery.topic tells which', async () => {
  const Note = z.strictObject({ schemaVersion: z.literal(1), eventId: z.string(), shelfId: z.string(), text: z.string() });
  const topics = {
    'test.tickets': ticketSpec,
    'test.notes': { schema: Note, key: (note: z.infer<typeof Note>) => note.shelfId },
  };
  const b = createMemoryBus({ topics, config: parseBusConfig({}) });
  const seen: string[] = [];
  await b.subscribe({
    group: 'fusion',
    topics: ['test.tickets', 'test.notes'],
    handle: (delivery) => {
      // The topic narrows the message type: each branch only compiles with its own fields.
      if (delivery.topic === 'test.notes') seen.push(`note ${delivery.message.text}`);
      else seen.push(`ticket ${delivery.message.seq}`);
    },
  });
  await b.publish('test.tickets', ticket('v1', 4));
  await b.publish('test.notes', { schemaVersion: 1, eventId: 'n1', shelfId: 's1', text: 'restocked' });
  await waitFor(() => seen.length === 2, 'both');
  assert.deepEqual(seen.sort(), ['note restocked', 'ticket 4']);
  await b.close();
});

test('concurrency bounds how many partitions one member works on at once', async () => {
  const topics = { 'test.three': ticketSpec }; // 3 partitions
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  for (const concurrency of [1, 3]) {
    const b = createMemoryBus({ topics, config: parseBusConfig({}) });
    let inFlight = 0;
    let most = 0;
    const done: Ticket[] = [];
    await b.subscribe({
      group: 'g',
      topics: ['test.three'],
      concurrency,
      handle: async ({ message }) => {
        most = Math.max(most, ++inFlight);
        await sleep(5);
        inFlight--;
        done.push(message);
      },
    });
    for (const key of keys) await b.publish('test.three', ticket(key, 0));
    await waitFor(() => done.length === keys.length, 'all handled');
    if (concurrency === 1) assert.equal(most, 1);
    else assert.ok(most > 1 && most <= 3, `at most 3 at once, saw ${most}`);
    await b.close();
  }
});

test('a dead letter of a huge payload is cut to fit on the bus, and says so', () => {
  const letter = deadLetterRecord(
    {
      reason: 'invalid-message',
      error: new Error('not a ticket'),
      sourceTopic: 'test.one',
      partition: 0,
      offset: '7',
      key: null,
      group: 'g',
      attempts: 0,
      payload: Buffer.from('x'.repeat(MAX_DEAD_LETTER_PAYLOAD_CHARS + 10)),
      publishedAt: null,
    },
    0,
  );
  assert.equal(letter.payload.length, MAX_DEAD_LETTER_PAYLOAD_CHARS);
  assert.match(letter.error.message, /not a ticket \(payload cut from \d+ to \d+ characters\)/);
  assert.equal(MessageDeadLettered.safeParse(letter).success, true);
});

test('closeOnSignals closes on the signal and exits 0, or 1 when closing fails', async () => {
  for (const outcome of ['closes', 'fails'] as const) {
    const exits: number[] = [];
    let closed = 0;
    const remove = closeOnSignals(
      {
        async close() {
          closed++;
          if (outcome === 'fails') throw new Error('broker gone');
        },
      },
      { signals: ['SIGUSR2'], exit: (code) => exits.push(code) },
    );
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2'); // a second signal while closing is ignored
    await waitFor(() => exits.length > 0, 'the exit');
    remove();
    assert.equal(closed, 1);
    assert.deepEqual(exits, [outcome === 'closes' ? 0 : 1]);
  }
});

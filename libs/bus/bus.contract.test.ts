import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { DEAD_LETTER_TOPIC, type MessageDeadLettered } from '../contracts/topics.ts';
import {
  kafkaKind,
  kafkaTarget,
  memoryKind,
  recordingLogger,
  sleep,
  ticket,
  ticketTopics,
  waitFor,
  type BusKind,
  type Ticket,
} from './bus.harness.ts';
import type { BusConfigInput } from './bus.config.ts';
import type { Bus, Release, Subscription, TopicRegistry } from './bus.types.ts';
import type { Logger } from '../log/logger.ts';
import { partitionForKey } from './partitioner.ts';

/**
 * The one contract every bus keeps, run against the in-process bus and against a real Kafka broker.
 * A service written against it runs unchanged on either.
 */

const target = kafkaTarget();
if ('fail' in target) test('a Kafka broker is configured for the bus contract', () => assert.fail(target.fail));

const kinds: BusKind[] = [memoryKind, kafkaKind(target)];
/** Generous for a shared 2-core machine; a healthy run takes a small fraction of it. */
const TEST_TIMEOUT_MS = 60_000;

/** One key per partition (of 3), found by hashing, so a test can be sure to touch every partition. */
function keysCoveringPartitions(partitions: number, prefix: string): string[] {
  const keys: string[] = new Array(partitions);
  for (let i = 0; keys.filter(Boolean).length < partitions; i++) {
    const key = `${prefix}-${i}`;
    keys[partitionForKey(key, partitions)] ??= key;
  }
  return keys;
}

async function publishAll(bus: Bus<TopicRegistry>, topic: string, tickets: Ticket[]): Promise<void> {
  await Promise.all(tickets.map((message) => bus.publish(topic, message)));
}

/** key × seq, interleaved the way several cameras would publish. */
function interleaved(keys: string[], perKey: number, from = 0): Ticket[] {
  const out: Ticket[] = [];
  for (let seq = from; seq < from + perKey; seq++) for (const key of keys) out.push(ticket(key, seq));
  return out;
}

function byKey(tickets: Ticket[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const { key, seq } of tickets) map.set(key, [...(map.get(key) ?? []), seq]);
  return map;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

for (const kind of kinds) {
  describe(`bus contract: ${kind.name}`, { skip: kind.skip || ('fail' in target && kind.name === 'kafka' ? target.fail : false) }, () => {
    /** A bus for one test, closed when the test ends so its group members do not linger. */
    const make = async <R extends TopicRegistry>(
      t: TestContext,
      topics: R,
      retry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number },
    ) => {
      const bus = await kind.make(topics, retry ? { retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50, ...retry } } : {});
      t.after(() => bus.close());
      return bus;
    };
    /** A bus with its own settings (deadlines, grace) and logger. */
    const makeWith = async <R extends TopicRegistry>(t: TestContext, topics: R, config: Partial<BusConfigInput>, logger?: Logger) => {
      const bus = await kind.make(topics, config, logger);
      t.after(() => bus.close());
      return bus;
    };
    after(() => kind.cleanup());

    test('keeps order per key and hands each message over once', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('order');
      const bus = await make(t, topics);
      const seen: Ticket[] = [];
      await bus.subscribe({ group: 'order', topics: [name.order], handle: ({ message }) => void seen.push(message) });
      const keys = ['cam-1', 'cam-2', 'shelf-7', 'visit-9'];
      await publishAll(bus, name.order, interleaved(keys, 100));
      await waitFor(() => seen.length >= 400, () => `400 messages, have ${seen.length}`);
      await sleep(100); // a duplicate would show up now
      assert.equal(seen.length, 400);
      for (const key of keys) assert.deepEqual(byKey(seen).get(key), range(0, 100), `order of ${key}`);
    });

    test('every consumer group sees every message', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('fanout');
      const bus = await make(t, topics);
      const seen: Record<string, Ticket[]> = { carts: [], dashboard: [], replay: [] };
      for (const group of Object.keys(seen))
        await bus.subscribe({ group, topics: [name.fanout], handle: ({ message }) => void seen[group].push(message) });
      await publishAll(bus, name.fanout, interleaved(['a', 'b', 'c'], 20));
      await waitFor(() => Object.values(seen).every((list) => list.length >= 60), 'three groups with 60 messages each');
      for (const [group, list] of Object.entries(seen)) {
        assert.equal(list.length, 60, group);
        for (const key of ['a', 'b', 'c']) assert.deepEqual(byKey(list).get(key), range(0, 20), `${group} ${key}`);
      }
    });

    test('redelivers a message whose handler failed, in place, before committing it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('redeliver');
      const bus = await make(t, topics);
      const attempts: Array<[string, number, number]> = [];
      const done: Ticket[] = [];
      await bus.subscribe({
        group: 'carts',
        topics: [name.redeliver],
        handle: ({ message, attempt }) => {
          attempts.push([message.key, message.seq, attempt]);
          if (message.key === 'v1' && message.seq === 2 && attempt === 1) throw new Error('database blinked');
          done.push(message);
        },
      });
      await publishAll(bus, name.redeliver, interleaved(['v1', 'v2'], 5));
      await waitFor(() => done.length >= 10, () => `10 handled, have ${done.length}`);
      assert.deepEqual(
        attempts.filter(([key]) => key === 'v1'),
        [['v1', 0, 1], ['v1', 1, 1], ['v1', 2, 1], ['v1', 2, 2], ['v1', 3, 1], ['v1', 4, 1]],
      );
      assert.deepEqual(byKey(done).get('v1'), range(0, 5));
      assert.deepEqual(byKey(done).get('v2'), range(0, 5));
    });

    test('a message still failing when its member leaves goes, uncommitted, to the next member', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('handover');
      // Many slow retries: the first member is still retrying when it is closed.
      const bus = await make(t, topics, { maxAttempts: 100, initialBackoffMs: 50, maxBackoffMs: 50 });
      const first: Array<[number, number]> = [];
      const second: Array<[number, number]> = [];
      const sick = await bus.subscribe({
        group: 'carts',
        topics: [name.handover],
        handle: ({ message, attempt }) => {
          first.push([message.seq, attempt]);
          if (message.seq === 1) throw new Error('this member lost its database');
        },
      });
      await publishAll(bus, name.handover, interleaved(['v1'], 3));
      await waitFor(() => first.filter(([seq]) => seq === 1).length >= 3, 'a few failed attempts at seq 1');
      await sick.close();
      await bus.subscribe({ group: 'carts', topics: [name.handover], handle: ({ message, attempt }) => void second.push([message.seq, attempt]) });
      await waitFor(() => second.length >= 2, () => `seq 1 and 2 at the second member, have ${JSON.stringify(second)}`);
      assert.deepEqual(second, [[1, 1], [2, 1]]);
      assert.ok(!first.some(([seq]) => seq === 2), 'the first member never got past the failing message');
    });

    test('dead-letters bad payloads with reason, topic, partition and offset, and goes on', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('bad');
      const bus = await make(t, topics);
      const letters: MessageDeadLettered[] = [];
      await bus.subscribe({
        group: `dead-letter-reader-${name.bad}`,
        topics: [DEAD_LETTER_TOPIC],
        handle: ({ message }) => {
          if (message.sourceTopic === name.bad) letters.push(message);
        },
      });
      const done: Ticket[] = [];
      await bus.subscribe({ group: 'carts', topics: [name.bad], handle: ({ message }) => void done.push(message) });
      await bus.publish(name.bad, ticket('v1', 0));
      const wrongShape = await kind.produceRaw(bus as unknown as Bus<TopicRegistry>, name.bad, 'v1', JSON.stringify({ schemaVersion: 1, eventId: 'x', key: 'v1' }));
      const notJson = await kind.produceRaw(bus as unknown as Bus<TopicRegistry>, name.bad, 'v1', 'camera says hello');
      const oldVersion = await kind.produceRaw(bus as unknown as Bus<TopicRegistry>, name.bad, 'v1', JSON.stringify({ ...ticket('v1', 9), schemaVersion: 0 }));
      await bus.publish(name.bad, ticket('v1', 1));
      await waitFor(() => done.length >= 2 && letters.length >= 3, () => `2 handled and 3 letters, have ${done.length} and ${letters.length}`);
      assert.deepEqual(done.map((message) => message.seq), [0, 1]);
      const sorted = [...letters].sort((a, b) => Number(a.offset) - Number(b.offset));
      const expected = [
        { at: wrongShape, payload: JSON.stringify({ schemaVersion: 1, eventId: 'x', key: 'v1' }), says: /seq/ },
        { at: notJson, payload: 'camera says hello', says: /./ },
        { at: oldVersion, payload: JSON.stringify({ ...ticket('v1', 9), schemaVersion: 0 }), says: /schemaVersion/ },
      ];
      sorted.forEach((letter, i) => {
        const want = expected[i];
        assert.equal(letter.reason, 'invalid-message');
        assert.equal(letter.error.code, 'MESSAGE_INVALID');
        assert.match(letter.error.message, want.says);
        assert.equal(letter.sourceTopic, name.bad);
        assert.equal(letter.partition, want.at.partition);
        assert.equal(letter.offset, want.at.offset);
        assert.equal(letter.key, 'v1');
        assert.equal(letter.group, 'carts');
        assert.equal(letter.attempts, 0);
        assert.equal(letter.payloadEncoding, 'utf8');
        assert.deepEqual(tryJson(letter.payload), tryJson(want.payload));
      });
    });

    test('dead-letters a message whose handler keeps failing, after the retry policy', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('poison');
      const bus = await make(t, topics);
      const letters: MessageDeadLettered[] = [];
      await bus.subscribe({
        group: `dead-letter-reader-${name.poison}`,
        topics: [DEAD_LETTER_TOPIC],
        handle: ({ message }) => {
          if (message.sourceTopic === name.poison) letters.push(message);
        },
      });
      const calls = new Map<number, number>();
      const done: number[] = [];
      await bus.subscribe({
        group: 'carts',
        topics: [name.poison],
        retry: { maxAttempts: 4 },
        handle: ({ message }) => {
          calls.set(message.seq, (calls.get(message.seq) ?? 0) + 1);
          if (message.seq === 1) throw new Error('price lookup timed out');
          // Not retriable: a retry cannot make this cart valid, so no attempt is wasted.
          if (message.seq === 2) throw new WalkoutError('MESSAGE_INVALID', 'cart has a negative quantity');
          done.push(message.seq);
        },
      });
      await publishAll(bus, name.poison, interleaved(['v1'], 4));
      await waitFor(() => done.length >= 2 && letters.length >= 2, () => `2 handled and 2 letters, have ${done} and ${letters.length}`);
      assert.deepEqual(done, [0, 3]);
      assert.equal(calls.get(1), 4);
      assert.equal(calls.get(2), 1);
      const [timedOut, invalid] = [...letters].sort((a, b) => Number(a.offset) - Number(b.offset));
      assert.equal(timedOut.reason, 'handler-failed');
      assert.equal(timedOut.attempts, 4);
      assert.equal(timedOut.error.code, 'HANDLER_FAILED');
      assert.match(timedOut.error.message, /price lookup timed out/);
      assert.deepEqual(JSON.parse(timedOut.payload), ticket('v1', 1));
      assert.equal(invalid.attempts, 1);
      assert.equal(invalid.error.code, 'MESSAGE_INVALID');
    });

    test('a second member joining the group takes over partitions', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('join');
      const bus = await make(t, topics);
      const keys = keysCoveringPartitions(3, 'cam');
      const seen = { first: [] as Array<[Ticket, number]>, second: [] as Array<[Ticket, number]> };
      const first = await bus.subscribe({ group: 'tracker', topics: [name.join], handle: ({ message, partition }) => void seen.first.push([message, partition]) });
      await publishAll(bus, name.join, interleaved(keys, 10));
      await waitFor(() => seen.first.length >= 30, 'the first member alone handles everything');
      assert.deepEqual(partitionsOf(first), [0, 1, 2]);

      const second = await bus.subscribe({ group: 'tracker', topics: [name.join], handle: ({ message, partition }) => void seen.second.push([message, partition]) });
      await waitFor(
        () => partitionsOf(second).length > 0 && partitionsOf(first).length + partitionsOf(second).length === 3,
        () => `a split of 3 partitions, have ${partitionsOf(first)} and ${partitionsOf(second)}`,
      );
      assert.ok(!partitionsOf(first).some((p) => partitionsOf(second).includes(p)), 'no partition has two owners');
      const before = seen.first.length;
      await publishAll(bus, name.join, interleaved(keys, 10, 10));
      await waitFor(() => seen.first.length - before + seen.second.length >= 30, 'the next 30 messages');
      assert.ok(seen.second.length > 0, 'the new member got work');
      for (const [, partition] of seen.second) assert.ok(partitionsOf(second).includes(partition));
      for (const [, partition] of seen.first.slice(before)) assert.ok(partitionsOf(first).includes(partition));
      const later = [...seen.first.slice(before), ...seen.second].map(([message]) => message);
      for (const key of keys) assert.deepEqual(byKey(later).get(key), range(10, 20), `order of ${key} across the handover`);
    });

    test('pause stops deliveries; resume picks up where it stopped', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('pause');
      const bus = await make(t, topics);
      const seen: number[] = [];
      const sub = await bus.subscribe({ group: 'review', topics: [name.pause], handle: ({ message }) => void seen.push(message.seq) });
      await publishAll(bus, name.pause, interleaved(['v1'], 5));
      await waitFor(() => seen.length >= 5, 'the first five');
      sub.pause();
      assert.equal(sub.paused, true);
      await publishAll(bus, name.pause, interleaved(['v1'], 5, 5));
      await sleep(500);
      assert.deepEqual(seen, range(0, 5), 'nothing handed out while paused');
      sub.resume();
      await waitFor(() => seen.length >= 10, 'the rest after resume');
      assert.deepEqual(seen, range(0, 10));
    });

    test('close finishes the message in flight and commits it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('close');
      const bus = await make(t, topics);
      let finished = false;
      let started = false;
      const sub = await bus.subscribe({
        group: 'checkout',
        topics: [name.close],
        handle: async ({ message }) => {
          if (message.seq !== 0) return;
          started = true;
          await sleep(300);
          finished = true;
        },
      });
      await publishAll(bus, name.close, interleaved(['v1'], 2));
      await waitFor(() => started, 'the slow handler to start');
      await sub.close();
      assert.equal(finished, true, 'close waited for the handler');
      const next: number[] = [];
      await bus.subscribe({ group: 'checkout', topics: [name.close], handle: ({ message }) => void next.push(message.seq) });
      await waitFor(() => next.length >= 1, 'the next member to get the rest');
      await sleep(200);
      assert.deepEqual(next, [1], 'the finished message was committed, the next one was not');
    });

    test('hands handlers read-only messages; a handler that changes one fails and is dead-lettered', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('readonly');
      const bus = await make(t, topics);
      const letters: MessageDeadLettered[] = [];
      await bus.subscribe({
        group: `dead-letter-reader-${name.readonly}`,
        topics: [DEAD_LETTER_TOPIC],
        handle: ({ message }) => {
          if (message.sourceTopic === name.readonly) letters.push(message);
        },
      });
      const seenBy: Record<string, Ticket[]> = { fusion: [], dashboard: [] };
      for (const group of Object.keys(seenBy))
        await bus.subscribe({
          group,
          topics: [name.readonly],
          retry: { maxAttempts: 1 },
          handle: ({ message }) => {
            if (group === 'fusion') (message as { seq: number }).seq += 100; // the bug
            seenBy[group].push(message);
          },
        });
      const published = ticket('v1', 0);
      await bus.publish(name.readonly, published);
      published.seq = 42; // the publisher's own object stays its own
      await waitFor(() => seenBy.dashboard.length >= 1 && letters.length >= 1, 'the dashboard to see it and fusion to fail');
      assert.deepEqual(seenBy.dashboard, [ticket('v1', 0)]);
      assert.equal(seenBy.fusion.length, 0);
      assert.equal(letters[0].group, 'fusion');
      assert.match(letters[0].error.message, /read.only|Cannot assign/i);
    });

    test('a held message stays uncommitted after its handler: later ones go on, and the next member gets it again', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('held');
      const bus = await make(t, topics);
      const first: number[] = [];
      const releases = new Map<number, Release>();
      let lateHold: unknown;
      const sub = await bus.subscribe({
        group: 'shelf',
        topics: [name.held],
        handle: (delivery) => {
          first.push(delivery.message.seq);
          // A stateful consumer: 1, 2 and 3 went into something not yet published.
          if ([1, 2, 3].includes(delivery.message.seq)) releases.set(delivery.message.seq, delivery.hold());
          if (delivery.message.seq === 5)
            setImmediate(() => {
              try {
                delivery.hold();
              } catch (error) {
                lateHold = error;
              }
            });
        },
      });
      await publishAll(bus, name.held, interleaved(['s1'], 6));
      await waitFor(() => first.length >= 6 && lateHold !== undefined, () => `all six handed out while three are held, have ${first}`);
      assert.deepEqual(first, range(0, 6));
      assert.equal((lateHold as WalkoutError).code, 'USAGE', 'hold() after the handler returned is refused');
      // What 1 and 3 produced is published; 2's is not.
      releases.get(1)!();
      releases.get(3)!();
      releases.get(3)!(); // twice does nothing
      await sub.close(); // a restart (or a crash) here

      const second: number[] = [];
      const sub2 = await bus.subscribe({
        group: 'shelf',
        topics: [name.held],
        handle: (delivery) => {
          second.push(delivery.message.seq);
          // This time everything is published before the handler returns: nothing held.
        },
      });
      await waitFor(() => second.length >= 4, () => `the held message and everything after it, have ${second}`);
      assert.deepEqual(second, [2, 3, 4, 5], 'committed up to the oldest held message, no further');
      await sub2.close();

      const third: number[] = [];
      await bus.subscribe({ group: 'shelf', topics: [name.held], handle: ({ message }) => void third.push(message.seq) });
      await bus.publish(name.held, ticket('s1', 6));
      // Same key, same partition: anything redelivered would come before the new message.
      await waitFor(() => third.length >= 1, 'the new message');
      assert.deepEqual(third, [6], 'what was handled and not held was committed');
    });

    test('a handler past its deadline is aborted and counts as failed: retried, then dead-lettered', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('deadline');
      const bus = await make(t, topics);
      const letters: MessageDeadLettered[] = [];
      await bus.subscribe({
        group: `dead-letter-reader-${name.deadline}`,
        topics: [DEAD_LETTER_TOPIC],
        handle: ({ message }) => {
          if (message.sourceTopic === name.deadline) letters.push(message);
        },
      });
      const stuck: Array<{ signal: AbortSignal; deadline: number; before: number; after: number }> = [];
      const done: number[] = [];
      await bus.subscribe({
        group: 'fusion',
        topics: [name.deadline],
        deadlineMs: 150,
        retry: { maxAttempts: 2 },
        handle: async (delivery) => {
          if (delivery.message.seq === 1) {
            // The deadline is fixed when first asked for: between these two readings, plus 150 ms.
            const before = Date.now();
            const deadline = delivery.deadline;
            stuck.push({ signal: delivery.signal, deadline, before, after: Date.now() });
            // A call that hangs and does not listen to the signal.
            await new Promise(() => {});
          }
          done.push(delivery.message.seq);
        },
      });
      await publishAll(bus, name.deadline, interleaved(['v1'], 3));
      await waitFor(() => done.length >= 2 && letters.length >= 1, () => `2 handled and the stuck one dead-lettered, have ${done} and ${letters.length}`);
      assert.deepEqual(done, [0, 2]);
      assert.equal(stuck.length, 2, 'called twice: the retry policy applies');
      for (const attempt of stuck) {
        assert.ok(attempt.signal.aborted, 'the signal aborts at the deadline');
        assert.equal((attempt.signal.reason as WalkoutError).code, 'HANDLER_TIMEOUT');
        assert.ok(attempt.deadline >= attempt.before + 150 && attempt.deadline <= attempt.after + 150, `the deadline is 150 ms out: ${attempt.deadline - attempt.before}`);
      }
      assert.equal(letters[0].reason, 'handler-failed');
      assert.equal(letters[0].error.code, 'HANDLER_TIMEOUT');
      assert.equal(letters[0].attempts, 2);
      assert.equal(bus.stats().deadlinesMissed, 2);
    });

    test('close is never blocked by a handler that does not settle: aborted, a grace, then left uncommitted for the next owner', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('hung');
      const bus = await makeWith(t, topics, { handler: { closeGraceMs: 200 } });
      let hung: AbortSignal | undefined;
      const sub = await bus.subscribe({
        group: 'checkout',
        topics: [name.hung],
        handle: (delivery) => {
          hung = delivery.signal;
          return new Promise(() => {}); // never settles, whatever it is told
        },
      });
      await publishAll(bus, name.hung, interleaved(['v1'], 2));
      await waitFor(() => hung !== undefined, 'the handler to hang');
      assert.equal(hung!.aborted, false);
      await sub.close();
      assert.equal(hung!.aborted, true, 'told when the subscription closed');
      assert.equal((hung!.reason as WalkoutError).code, 'BUS_CLOSED');
      assert.equal(bus.stats().handlersAbandoned, 1);
      const next: number[] = [];
      await bus.subscribe({ group: 'checkout', topics: [name.hung], handle: ({ message }) => void next.push(message.seq) });
      await waitFor(() => next.length >= 2, () => `the next member to get both, have ${next}`);
      assert.deepEqual(next, [0, 1], 'the message left behind was not committed');
    });

    test('a dead letter whose handler keeps failing is logged with its id and counted, never lettered again', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('twice');
      const logger = recordingLogger();
      const bus = await makeWith(t, topics, { retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 10 } }, logger);
      const mine = (letter: MessageDeadLettered) => letter.sourceTopic === name.twice || (letter.sourceTopic === DEAD_LETTER_TOPIC && letter.payload.includes(name.twice));
      const seen: MessageDeadLettered[] = [];
      await bus.subscribe({ group: `dead-letter-count-${name.twice}`, topics: [DEAD_LETTER_TOPIC], handle: ({ message }) => void (mine(message) && seen.push(message)) });
      // An operator's reader of the dead letters whose own store is down.
      let failures = 0;
      await bus.subscribe({
        group: `dead-letter-alerts-${name.twice}`,
        topics: [DEAD_LETTER_TOPIC],
        handle: ({ message }) => {
          if (!mine(message)) return;
          failures++;
          throw new Error('alert store unreachable');
        },
      });
      await bus.subscribe({ group: 'carts', topics: [name.twice], handle: () => undefined });
      await kind.produceRaw(bus as unknown as Bus<TopicRegistry>, name.twice, 'v1', 'not a ticket');
      await waitFor(() => bus.stats().deadLettersFailed >= 1 && seen.length >= 1, () => `one letter, skipped by the failing reader; have ${seen.length}`);
      await kind.produceRaw(bus as unknown as Bus<TopicRegistry>, name.twice, 'v1', 'not a ticket either');
      await waitFor(() => bus.stats().deadLettersFailed >= 2 && seen.length >= 2, () => `the second letter, have ${seen.length}`);
      assert.deepEqual(
        seen.map((letter) => letter.sourceTopic),
        [name.twice, name.twice],
        'two bad messages, two letters: none of a letter',
      );
      assert.equal(failures, 4, 'each letter tried under the retry policy, then skipped');
      assert.equal(bus.stats().deadLettered, 2);
      const errors = logger.lines.filter((line) => line.level === 'error' && line.message.includes('dead letter could not be handled'));
      assert.deepEqual(errors.map((line) => line.fields.letterId).sort(), seen.map((letter) => letter.eventId).sort());
    });

    test('refuses what fails its schema at publish, and topics it does not know', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { topics, name } = ticketTopics('strict');
      const bus = await make(t, topics);
      await assert.rejects(bus.publish(name.strict, { ...ticket('v1', 0), seq: -1 }), { code: 'MESSAGE_INVALID' });
      await assert.rejects(bus.publish(name.strict, { ...ticket('v1', 0), surprise: true } as never), { code: 'MESSAGE_INVALID' });
      await assert.rejects(bus.publish('test.nowhere', ticket('v1', 0)), { code: 'TOPIC_UNKNOWN' });
      await assert.rejects(bus.subscribe({ group: 'g', topics: ['test.nowhere'], handle() {} }), { code: 'TOPIC_UNKNOWN' });
    });
  });
}

function partitionsOf(subscription: Subscription): number[] {
  return subscription
    .assignment()
    .map((ref) => ref.partition)
    .sort((a, b) => a - b);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger, type Logger } from '../log/logger.ts';
import { createOutbox, type OutboxMessage } from './outbox.ts';

const message = (eventId: string): OutboxMessage => ({ topic: 'things.happened', message: { eventId } });

/** A bus whose publishes are recorded, and fail while `failing` names the event. */
function recordingBus() {
  const sent: string[] = [];
  const failing = new Set<string>();
  return {
    sent,
    failing,
    publish: async (_topic: never, published: never) => {
      const { eventId } = published as { eventId: string };
      if (failing.has(eventId)) throw new Error(`bus down for ${eventId}`);
      sent.push(eventId);
    },
  };
}

test('publishes in the order produced and reports each one published', async () => {
  const bus = recordingBus();
  const published: string[] = [];
  const outbox = createOutbox({ bus, logger: silentLogger, failureMessage: 'could not publish', onPublished: (m) => published.push(m.message.eventId) });
  outbox.push(message('a'), message('b'));
  outbox.push(message('c'));
  assert.equal(outbox.size, 3);
  await outbox.publish();
  assert.deepEqual(bus.sent, ['a', 'b', 'c']);
  assert.deepEqual(published, ['a', 'b', 'c']);
  assert.equal(outbox.size, 0);
});

test('a failed publish keeps it and everything after it, logs, throws, and the next publish starts from it', async () => {
  const bus = recordingBus();
  const failures: string[] = [];
  const logged: Array<Record<string, unknown>> = [];
  const logger: Logger = { ...silentLogger, error: (text, fields) => logged.push({ text, ...fields }) };
  const outbox = createOutbox({ bus, logger, failureMessage: 'test service could not publish', onFailure: (m) => failures.push(m.message.eventId) });
  outbox.push(message('a'), message('b'), message('c'));
  bus.failing.add('b');
  outbox.push({ topic: 'other.happened', message: { eventId: 'd' } });
  await assert.rejects(outbox.publish(), /bus down for b/);
  assert.deepEqual(bus.sent, ['a']);
  assert.equal(outbox.size, 3);
  assert.deepEqual(outbox.publishedByTopic(), { 'things.happened': 1 }, 'only what reached the bus counts');
  assert.deepEqual(failures, ['b']);
  assert.deepEqual(logged, [{ text: 'test service could not publish', topic: 'things.happened', eventId: 'b', error: 'bus down for b' }]);
  bus.failing.clear();
  await outbox.publish();
  assert.deepEqual(bus.sent, ['a', 'b', 'c', 'd']);
  assert.equal(outbox.size, 0);
  assert.deepEqual(outbox.publishedByTopic(), { 'things.happened': 3, 'other.happened': 1 });
});

test('publishes asked for at once go one at a time, never reordered or sent twice', async () => {
  let inFlight = 0;
  let mostInFlight = 0;
  const sent: string[] = [];
  let letGo: () => void = () => {};
  const bus = {
    publish: async (_topic: never, published: never) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise<void>((resolve) => (letGo = resolve));
      sent.push((published as { eventId: string }).eventId);
      inFlight--;
    },
  };
  const outbox = createOutbox({ bus, logger: silentLogger, failureMessage: 'could not publish' });
  outbox.push(message('a'));
  const first = outbox.publish();
  outbox.push(message('b'));
  const second = outbox.publish();
  // Let each publish through as it is asked for, until both callers are done.
  let done = false;
  void Promise.all([first, second]).then(() => (done = true));
  while (!done) {
    letGo();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(sent, ['a', 'b']);
  assert.equal(mostInFlight, 1);
});

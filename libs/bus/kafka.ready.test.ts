import assert from 'node:assert/strict';
import test from 'node:test';
import kafkajs from 'kafkajs';
import { untilServed } from './kafka.bus.ts';

// kafkajs is CommonJS and defines its error classes in a way Node's named imports cannot see.
const { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

const notServed = () => new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'This server does not host this topic-partition' } as never);

test('a topic the broker does not serve yet is asked for again, also when kafkajs wraps the answer after its own retries', async () => {
  let calls = 0;
  const answer = await untilServed(async () => {
    calls++;
    if (calls === 1) throw notServed();
    if (calls === 2) throw new KafkaJSNumberOfRetriesExceeded(notServed(), { retryCount: 5, retryTime: 100 });
    return 'served';
  });
  assert.equal(answer, 'served');
  assert.equal(calls, 3);
});

test('any other broker answer is thrown at once, as it came', async () => {
  let calls = 0;
  const refused = new KafkaJSProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized to access topics' } as never);
  await assert.rejects(
    untilServed(async () => {
      calls++;
      throw refused;
    }),
    (error) => error === refused,
  );
  assert.equal(calls, 1);
});

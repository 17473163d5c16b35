import assert from 'node:assert/strict';
import test from 'node:test';
import kafkajs, { AssignerProtocol, Kafka, logLevel, type Cluster, type Logger } from 'kafkajs';
import { topicAwareAssigner } from './kafka.assigner.ts';
import { busError, untilServed } from './kafka.bus.ts';
import { DEAD_LETTER_TOPIC, type MessageDeadLettered } from '../contracts/topics.ts';
import { loadBusConfig } from './bus.config.ts';
import { FAST_GROUPS, kafkaKind, kafkaTarget, recordingLogger, ticket, ticketSpec, ticketTopics, waitFor } from './bus.harness.ts';

/** The Kafka bus' own logic that needs no broker: the partition assigner and error mapping. */

test('the assigner gives each topic only to members that subscribe to it, round-robin', async () => {
  const partitions: Record<string, number> = { 'shelf.event-detected': 4, 'camera.poses-detected': 3 };
  const cluster = {
    async addMultipleTargetTopics() {},
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 })),
  } as unknown as Cluster;
  const assigner = topicAwareAssigner({ cluster, groupId: 'fusion', logger: {} as Logger });
  const member = (memberId: string, topics: string[]) => ({ memberId, memberMetadata: assigner.protocol({ topics }).metadata });
  // During a rolling deploy the new version also reads poses; the old one does not.
  const result = await assigner.assign({
    members: [member('old-1', ['shelf.event-detected']), member('new-1', ['shelf.event-detected', 'camera.poses-detected'])],
    topics: ['shelf.event-detected'],
  });
  const decoded = Object.fromEntries(result.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment]));
  assert.deepEqual(decoded['new-1']['camera.poses-detected'], [0, 1, 2], 'only the member that reads poses gets them');
  assert.equal(decoded['old-1']['camera.poses-detected'], undefined);
  const shelves = [...(decoded['old-1']['shelf.event-detected'] ?? []), ...(decoded['new-1']['shelf.event-detected'] ?? [])].sort();
  assert.deepEqual(shelves, [0, 1, 2, 3], 'every shelf partition has exactly one owner');
  assert.equal(decoded['old-1']['shelf.event-detected']?.length, 2, 'shared topics are split evenly');
});

test('kafkajs failures map onto the catalogue: retriable ones are BUS_UNAVAILABLE, refusals BUS_REJECTED', () => {
  const unavailable = busError(Object.assign(new Error('broker gone'), { name: 'KafkaJSNumberOfRetriesExceeded' }), 'publish');
  assert.equal(unavailable.code, 'BUS_UNAVAILABLE');
  assert.equal(unavailable.retriable, true);
  assert.match(unavailable.message, /publish: broker gone/);
  assert.equal(busError(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', retriable: true }), 'x').code, 'BUS_UNAVAILABLE');
  const rejected = busError(Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', retriable: false }), 'publish');
  assert.equal(rejected.code, 'BUS_REJECTED');
  assert.equal(rejected.retriable, false);
});

// With the publish-side check off (kafka.checkPublish = false), nothing is lost: the consumers still
// validate every message, so a bad publish reaches the dead-letter topic instead of throwing.
const broker = kafkaTarget();
if ('fail' in broker) test('a Kafka broker is configured for the Kafka bus tests', () => assert.fail(broker.fail));
const kafka = kafkaKind(broker);
test('without the publish-side check, a bad message is dead-lettered by its consumer', { skip: kafka.skip, timeout: 60_000 }, async (t) => {
  const { topics, name } = ticketTopics('unchecked');
  const bus = await kafka.make(topics, { kafka: { checkPublish: false } as never });
  t.after(async () => {
    await bus.close();
    await kafka.cleanup();
  });
  const letters: MessageDeadLettered[] = [];
  const handled: number[] = [];
  await bus.subscribe({
    group: `letters-${name.unchecked}`,
    topics: [DEAD_LETTER_TOPIC],
    handle: ({ message }) => {
      if (message.sourceTopic === name.unchecked) letters.push(message);
    },
  });
  await bus.subscribe({ group: 'carts', topics: [name.unchecked], handle: ({ message }) => void handled.push(message.seq) });
  await bus.publish(name.unchecked, ticket('v1', 0));
  await bus.publish(name.unchecked, { schemaVersion: 1, eventId: 'v1-bad', key: 'v1', seq: 'one' } as never);
  await assert.rejects(bus.publish(name.unchecked, { schemaVersion: 1, eventId: 'no-key' } as never), /has no partition key/);
  await bus.publish(name.unchecked, ticket('v1', 2));
  await waitFor(() => handled.length >= 2 && letters.length >= 1, () => `2 handled and 1 letter, have ${handled.length} and ${letters.length}`);
  assert.deepEqual(handled, [0, 2]);
  assert.equal(letters[0].reason, 'invalid-message');
  assert.match(letters[0].error.message, /seq/);
});

test('WALKOUT_KAFKA_CHECK_PUBLISH is read from the environment, and is on unless turned off', () => {
  const base = { WALKOUT_BUS: 'kafka', WALKOUT_KAFKA_BROKERS: '127.0.0.1:19092' };
  assert.equal(loadBusConfig(base).kafka!.checkPublish, true);
  assert.equal(loadBusConfig({ ...base, WALKOUT_KAFKA_CHECK_PUBLISH: 'false' }).kafka!.checkPublish, false);
});

test('a handler that runs longer than the session timeout keeps its partition: the member heartbeats while it waits', { skip: kafka.skip, timeout: 120_000 }, async (t) => {
  const { name } = ticketTopics('slow');
  // One partition, so the slow message and the next one are handled in order by one member.
  const topics = { [name.slow]: { ...ticketSpec, partitions: 1 } };
  const bus = await kafka.make(topics, { handler: { deadlineMs: 60_000 } });
  t.after(async () => {
    await bus.close();
    await kafka.cleanup();
  });
  const calls: Array<[number, number]> = [];
  let rebalances = 0;
  let joined = 0;
  await bus.subscribe({
    group: `slow-${name.slow}`,
    topics: [name.slow],
    handle: async ({ message, attempt, signal }) => {
      calls.push([message.seq, attempt]);
      signal.addEventListener('abort', () => rebalances++);
      // The behaviour under test is a handler this long: one and a half sessions (6 s in the tests).
      if (message.seq === 0) await new Promise((resolve) => setTimeout(resolve, FAST_GROUPS.sessionTimeoutMs * 1.5));
      joined++;
    },
  });
  await bus.publish(name.slow, ticket('v1', 0));
  await bus.publish(name.slow, ticket('v1', 1));
  await waitFor(() => calls.some(([seq]) => seq === 1), () => `the second message, have ${JSON.stringify(calls)}`, 60_000);
  assert.deepEqual(calls, [[0, 1], [1, 1]], 'the slow message was handled once: the member kept its partition');
  assert.equal(rebalances, 0, 'no handler was told that its partition went away');
  assert.equal(joined, 2);
});

test('a namespace keeps two stores (or test runs) on one cluster apart: same topic and group names, separate messages', { skip: kafka.skip, timeout: 120_000 }, async (t) => {
  const { topics, name } = ticketTopics('shared');
  const namespaces = [`ns-a-${name.shared.slice(-8)}.`, `ns-b-${name.shared.slice(-8)}.`];
  const buses = await Promise.all(namespaces.map((namespace) => kafka.make(topics, { kafka: { namespace } as never })));
  const admin = new Kafka({ clientId: 'walkout-namespace-test', brokers: 'brokers' in broker ? broker.brokers : [], logLevel: logLevel.NOTHING }).admin();
  t.after(async () => {
    for (const bus of buses) await bus.close();
    try {
      await admin.deleteTopics({ topics: namespaces.flatMap((namespace) => [`${namespace}${name.shared}`, `${namespace}${DEAD_LETTER_TOPIC}`]) });
    } catch {
      // Best effort, as for every test topic.
    }
    await admin.disconnect();
  });
  const seen: number[][] = [[], []];
  for (const [i, bus] of buses.entries()) await bus.subscribe({ group: 'carts', topics: [name.shared], handle: ({ message, topic }) => void (topic === name.shared && seen[i].push(message.seq)) });
  await buses[0].publish(name.shared, ticket('v1', 0));
  await buses[1].publish(name.shared, ticket('v1', 1));
  await buses[0].publish(name.shared, ticket('v1', 2));
  await waitFor(() => seen[0].length >= 2 && seen[1].length >= 1, () => `both stores' messages, have ${JSON.stringify(seen)}`);
  assert.deepEqual(seen, [[0, 2], [1]]);
  await admin.connect();
  const onBroker = await admin.listTopics();
  for (const namespace of namespaces) assert.ok(onBroker.includes(`${namespace}${name.shared}`), `${namespace}${name.shared} on the broker`);
  assert.ok(!onBroker.includes(name.shared), 'no topic without its namespace');
});

test('a compacted topic is made with cleanup.policy=compact; one made earlier without it is reported, with the fix', { skip: kafka.skip, timeout: 120_000 }, async (t) => {
  const { name } = ticketTopics('state', 'plain', 'older');
  const topics = { [name.state]: { ...ticketSpec, compacted: true }, [name.plain]: ticketSpec, [name.older]: { ...ticketSpec, compacted: true } };
  const admin = new Kafka({ clientId: 'walkout-compaction-test', brokers: 'brokers' in broker ? broker.brokers : [], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // The older topic exists before this walkout starts, as a broker's default made it. A busy broker
  // may not serve a topic it has just made (kafkajs's wait for leaders then gives up): ask again.
  await untilServed(() => admin.createTopics({ topics: [{ topic: name.older, numPartitions: 3 }], waitForLeaders: true }));
  const logger = recordingLogger();
  const bus = await kafka.make(topics, {}, logger);
  t.after(async () => {
    await bus.close();
    try {
      await admin.deleteTopics({ topics: Object.keys(topics) });
    } catch {
      // Best effort, as for every test topic.
    }
    await admin.disconnect();
  });
  await bus.publish(name.state, ticket('shelf-1', 0));
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: Object.keys(topics).map((topic) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] })),
  });
  const policy = Object.fromEntries(described.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue]));
  assert.deepEqual(policy, { [name.state]: 'compact', [name.plain]: 'delete', [name.older]: 'delete' });
  const warnings = logger.lines.filter((line) => line.level === 'warn');
  assert.deepEqual(
    warnings.map((w) => w.fields.topic),
    [name.older],
    'only the topic that should be compacted and is not is reported',
  );
  assert.match(String(warnings[0].fields.fix), new RegExp(`--entity-name ${name.older.replace(/[.-]/g, '\\$&')} --add-config cleanup.policy=compact`));
});

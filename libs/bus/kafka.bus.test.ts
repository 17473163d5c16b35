import assert from 'node:assert/strict';
import test from 'node:test';
import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { topicAwareAssigner } from './kafka.assigner.ts';
import { busError } from './kafka.bus.ts';

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

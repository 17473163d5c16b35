import { AssignerProtocol, type Assignment, type PartitionAssigner } from 'kafkajs';

/**
 * Spreads partitions over the members of a group, round-robin, giving each topic's partitions only
 * to members that subscribe to that topic. kafkajs' built-in round-robin hands the union of topics
 * to everyone, and each member then drops what it did not subscribe to: during a rolling deploy that
 * adds a topic to a service, or with two services sharing a group name, partitions would sit unread.
 */
export const TOPIC_AWARE_ASSIGNER = 'WalkoutTopicAwareRoundRobin';
const VERSION = 1;

export const topicAwareAssigner: PartitionAssigner = ({ cluster }) => ({
  name: TOPIC_AWARE_ASSIGNER,
  version: VERSION,

  async assign({ members }) {
    const subscriptions = members
      .map(({ memberId, memberMetadata }) => ({
        memberId,
        topics: AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? [],
      }))
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const topics = [...new Set(subscriptions.flatMap((subscription) => subscription.topics))].sort();
    // kafkajs refreshes metadata only for the leader's own topics; fetch the others' too.
    await cluster.addMultipleTargetTopics(topics);

    const assignments = new Map<string, Assignment>(subscriptions.map(({ memberId }) => [memberId, {}]));
    // One counter over all topics, so the member first in line is not first for every topic.
    let turn = 0;
    for (const topic of topics) {
      const subscribers = subscriptions.filter((subscription) => subscription.topics.includes(topic));
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((metadata) => metadata.partitionId)
        .sort((a, b) => a - b);
      for (const partition of partitions) {
        const owner = assignments.get(subscribers[turn++ % subscribers.length].memberId)!;
        (owner[topic] ??= []).push(partition);
      }
    }
    return [...assignments].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment, userData: Buffer.alloc(0) }),
    }));
  },

  protocol({ topics }) {
    return {
      name: TOPIC_AWARE_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.alloc(0) }),
    };
  },
});

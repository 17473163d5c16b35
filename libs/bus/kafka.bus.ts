import { readFileSync } from 'node:fs';
import kafkajs, {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachBatchPayload,
  type ITopicConfig,
  type LogEntry,
  type Message,
  type Producer,
  type SASLOptions,
  type TopicMessages,
} from 'kafkajs';
import { WalkoutError } from '../contracts/errors.ts';
import { DEAD_LETTER_TOPIC } from '../contracts/topics.ts';
import { minInsyncReplicas, type BusConfig, type KafkaConfig } from './bus.config.ts';
import {
  deadLetterTopics,
  silentLogger,
  type Bus,
  type BusLogger,
  type PartitionRef,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
  type TopicRegistry,
  type TopicSpec,
  type WithDeadLetters,
} from './bus.types.ts';
import {
  decode,
  giveUp,
  HandlerAttempt,
  HandlerScope,
  HeldOffsets,
  newDeliveryCounters,
  runWithRetry,
  validate,
  type AttemptContext,
  type Outcome,
} from './delivery.ts';
import { topicAwareAssigner } from './kafka.assigner.ts';

/**
 * The bus on Apache Kafka (kafkajs). Topics are created up front with the configured partitions and
 * replication; a message is JSON of its contract schema, keyed by the topic's partition key (murmur2,
 * as every Kafka client does); publishes are batched into produce requests of an idempotent producer
 * (acks from all in-sync replicas); each subscription is a kafkajs consumer in its group that handles
 * a fetched batch message by message and commits only the offsets whose handler finished.
 */

export interface KafkaBusDependencies<R extends TopicRegistry> {
  readonly topics: R;
  readonly config: Pick<BusConfig, 'partitions' | 'retry' | 'handler'> & { readonly kafka: KafkaConfig };
  readonly logger?: BusLogger;
  readonly now?: () => number;
}

export interface KafkaBus<R extends TopicRegistry> extends Bus<R> {
  readonly kind: 'kafka';
}

/** A power of two less one: with synchronous handlers, the consumer looks at the clock every 16 messages. */
const CLOCK_EVERY_MESSAGES = 15;

/** After a release, the commit it allows waits this long, so that a burst of releases makes one commit, ms. */
const RELEASE_COMMIT_MS = 100;

/**
 * How long start and subscribe wait for a topic the broker has just created (or that another process
 * is creating at the same moment) to be served: until then the broker answers "does not host this
 * topic-partition", which is a moment of its own, not a fault, ms.
 */
const TOPIC_READY_TIMEOUT_MS = 30_000;
/** First pause between two looks at a topic that is not served yet; doubles up to a second, ms. */
const TOPIC_READY_FIRST_WAIT_MS = 50;

/** Produce, admin and join calls retry this often (kafkajs doubles the wait each time, from 300 ms to a 30 s cap: about a minute). */
const CLIENT_RETRIES = 8;

export function createKafkaBus<R extends TopicRegistry>(deps: KafkaBusDependencies<R>): KafkaBus<R> {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const kafkaConfig = deps.config.kafka;
  const registry = { ...deps.topics, ...deadLetterTopics } as WithDeadLetters<R>;
  const specs = new Map(Object.entries(registry) as Array<[string, TopicSpec]>);
  const handlerConfig = deps.config.handler;
  /** Topics and consumer groups on the broker carry the namespace (kafka.namespace); the bus's users never see it. */
  const onBroker = (name: string) => kafkaConfig.namespace + name;
  const fromBroker = (name: string) => name.slice(kafkaConfig.namespace.length);
  const counters = newDeliveryCounters();

  const kafka = new Kafka({
    clientId: kafkaConfig.clientId,
    brokers: [...kafkaConfig.brokers],
    ssl: kafkaConfig.tls ? (kafkaConfig.tlsCaFile ? { ca: [readFileSync(kafkaConfig.tlsCaFile, 'utf8')] } : true) : false,
    ...(kafkaConfig.sasl ? { sasl: { ...kafkaConfig.sasl } as SASLOptions } : {}),
    connectionTimeout: kafkaConfig.connectionTimeoutMs,
    requestTimeout: kafkaConfig.requestTimeoutMs,
    retry: { retries: CLIENT_RETRIES },
    logLevel: logLevel.INFO,
    logCreator: () => (entry) => forwardLog(logger, entry),
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // kafkajs defaults an idempotent producer to retrying forever; bounded, a dead cluster surfaces
    // as BUS_UNAVAILABLE to the publisher (whose outbox retries) instead of a publish that never ends.
    retry: { retries: CLIENT_RETRIES },
  });

  let state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  let starting: Promise<void> | null = null;
  const subscriptions = new Set<KafkaSubscription>();

  function spec(topic: string): TopicSpec {
    const found = specs.get(topic);
    if (!found) throw new WalkoutError('TOPIC_UNKNOWN', `topic "${topic}" is not in this bus's registry (known: ${[...specs.keys()].join(', ')})`);
    return found;
  }

  function ensureStarted(what: string): void {
    if (state === 'started') return;
    if (state === 'closed') throw new WalkoutError('BUS_CLOSED', `cannot ${what}: the Kafka bus is closed`);
    throw new WalkoutError('USAGE', `cannot ${what}: await bus.start() first`);
  }

  async function start(): Promise<void> {
    if (state === 'started') return;
    if (state === 'closed') throw new WalkoutError('BUS_CLOSED', 'cannot start a closed Kafka bus');
    starting ??= (async () => {
      state = 'starting';
      try {
        await ensureTopics();
        await producer.connect();
        state = 'started';
        logger.info('Kafka bus started', { brokers: kafkaConfig.brokers, topics: specs.size });
      } catch (error) {
        state = 'new';
        starting = null;
        throw busError(error, `cannot start the Kafka bus on ${kafkaConfig.brokers.join(',')}`);
      }
    })();
    return starting;
  }

  /** Creates the topics that are missing; warns about existing ones whose partition count differs. */
  async function ensureTopics(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const wanted = [...specs].map(([topic, topicSpec]): ITopicConfig => ({
        topic: onBroker(topic),
        numPartitions: topicSpec.partitions ?? deps.config.partitions,
        replicationFactor: kafkaConfig.replicationFactor,
        configEntries: [
          { name: 'min.insync.replicas', value: String(minInsyncReplicas(kafkaConfig)) },
          ...(topicSpec.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
        ],
      }));
      const missing = wanted.filter((topic) => !existing.has(topic.topic));
      // Another process may create the same topics at the same moment; kafkajs answers false then.
      // Its wait for leaders gives up when the broker does not serve a new topic yet (a busy broker's
      // metadata lags its controller): asked again, the topics exist, and the look below waits.
      if (missing.length > 0) await untilServed(() => admin.createTopics({ topics: missing, waitForLeaders: true }));
      const metadata = await untilServed(() => admin.fetchTopicMetadata({ topics: wanted.map((topic) => topic.topic) }));
      const leaderless = metadata.topics.filter((topic) => topic.partitions.some((partition) => partition.leader < 0));
      if (leaderless.length > 0)
        throw new WalkoutError('BUS_UNAVAILABLE', `topics without a leader: ${leaderless.map((topic) => topic.name).join(', ')}`);
      /** Partitions configured for each topic that was there before this start. */
      const configured = new Map(wanted.filter((topic) => existing.has(topic.topic)).map((topic) => [topic.topic, topic.numPartitions]));
      for (const topic of metadata.topics) {
        const want = configured.get(topic.name);
        if (want !== undefined && topic.partitions.length !== want)
          // Normal in production, where topics are declared with their own counts (deploy/kafka/production).
          logger.info('topic exists with another partition count than configured; keeping the broker\'s', {
            topic: topic.name,
            partitions: topic.partitions.length,
            configured: want,
          });
      }
      // A state topic made before it was declared compacted (an older walkout, or by hand) keeps
      // every snapshot for the retention time and then loses them all: say so, and how to fix it.
      const compacted = [...specs].filter(([topic, topicSpec]) => topicSpec.compacted && existing.has(onBroker(topic))).map(([topic]) => onBroker(topic));
      if (compacted.length > 0) {
        const described = await untilServed(() =>
          admin.describeConfigs({ includeSynonyms: false, resources: compacted.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })) }),
        );
        for (const resource of described.resources) {
          const policy = resource.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue ?? '';
          if (!policy.split(',').includes('compact'))
            logger.warn('topic should be compacted but is not; its newest message per key may be deleted with the rest', {
              topic: resource.resourceName,
              cleanupPolicy: policy,
              fix: `kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${resource.resourceName} --add-config cleanup.policy=compact`,
            });
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  // ---- publishing ------------------------------------------------------------------------------

  /**
   * Publishes gather into batches of up to maxBatchMessages, each sent as one produce request while
   * the previous one is on the wire: the idempotent producer sends one request per broker at a time
   * anyway, so batching is where the throughput comes from, and it adds no latency when the bus is
   * quiet. Every publish in a batch shares the batch's promise: the broker acknowledges (or refuses)
   * a request whole, and one promise per batch instead of one per message is measurably cheaper.
   */
  interface Batch {
    readonly byTopic: Map<string, Message[]>;
    count: number;
    readonly done: Promise<void>;
    readonly resolve: () => void;
    readonly reject: (error: unknown) => void;
  }

  function newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A batch nobody awaits (fire-and-forget publishers) must not crash the process when it fails.
    done.catch(() => undefined);
    return { byTopic: new Map(), count: 0, done, resolve, reject };
  }

  /** Full batches waiting for the wire, oldest first, then the one still filling. */
  const sealed: Batch[] = [];
  let filling: Batch | null = null;
  let pendingCount = 0;
  let sending: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  let spaceWaiters: Array<() => void> = [];
  let drainWaiters: Array<() => void> = [];

  function scheduleFlush(): void {
    if (sending || flushTimer || (sealed.length === 0 && !filling)) return;
    if (sealed.length > 0) {
      flush();
      return;
    }
    flushTimer = kafkaConfig.lingerMs > 0 ? setTimeout(flush, kafkaConfig.lingerMs) : setImmediate(flush);
  }

  function flush(): void {
    if (flushTimer) {
      clearTimeout(flushTimer as NodeJS.Timeout);
      clearImmediate(flushTimer as NodeJS.Immediate);
      flushTimer = null;
    }
    if (sending) return;
    const batch = sealed.shift() ?? filling;
    if (!batch) return;
    if (batch === filling) filling = null;
    sending = sendBatch(batch).finally(() => {
      sending = null;
      pendingCount -= batch.count;
      if (spaceWaiters.length > 0) {
        const waiters = spaceWaiters;
        spaceWaiters = [];
        for (const wake of waiters) wake();
      }
      if (sealed.length > 0 || filling) scheduleFlush();
      else {
        const waiters = drainWaiters;
        drainWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }

  async function sendBatch(batch: Batch): Promise<void> {
    const topicMessages: TopicMessages[] = [...batch.byTopic].map(([topic, messages]) => ({ topic: onBroker(topic), messages }));
    try {
      await producer.sendBatch({ topicMessages, acks: -1 });
      batch.resolve();
    } catch (error) {
      const failure = busError(error, `publish of ${batch.count} message(s) to ${[...batch.byTopic.keys()].join(', ')} failed`);
      // Logged as well as rejected: a publisher that did not await its publish would never know.
      logger.error(failure.message, { code: failure.code });
      batch.reject(failure);
    }
  }

  /** The partition key of a message nobody validated: a message without one cannot be sent at all. */
  function unvalidatedKey(topic: string, topicSpec: TopicSpec, message: unknown): string {
    let key: unknown;
    try {
      key = topicSpec.key(message as never);
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string' || key === '') throw new WalkoutError('MESSAGE_INVALID', `${topic}: the message has no partition key`);
    return key;
  }

  /** Not async: a publish returns its batch's promise and makes none of its own. */
  function publish(topic: string, message: unknown): Promise<void> {
    try {
      if (state !== 'started') ensureStarted(`publish to ${topic}`);
      const topicSpec = spec(topic);
      // Consumers validate every message off the wire; checking here too only moves the error to the
      // publisher, which production may trade for CPU (kafka.checkPublish).
      let outgoing: Message;
      if (kafkaConfig.checkPublish) {
        const checked = validate(topic, topicSpec, message);
        if (!checked.ok) throw checked.error;
        // No timestamp: kafkajs stamps the batch when it sends it (and parses a given one as 64-bit text, per message).
        outgoing = { key: topicSpec.key(checked.message), value: JSON.stringify(checked.message) };
      } else outgoing = { key: unvalidatedKey(topic, topicSpec, message), value: JSON.stringify(message) };
      if (pendingCount >= kafkaConfig.maxPendingMessages) return enqueueWhenRoom(topic, outgoing);
      return enqueue(topic, outgoing);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function enqueue(topic: string, message: Message): Promise<void> {
    const batch = (filling ??= newBatch());
    let messages = batch.byTopic.get(topic);
    if (!messages) batch.byTopic.set(topic, (messages = []));
    messages.push(message);
    batch.count++;
    pendingCount++;
    if (batch.count >= kafkaConfig.maxBatchMessages) {
      sealed.push(batch);
      filling = null;
    }
    scheduleFlush();
    return batch.done;
  }

  async function enqueueWhenRoom(topic: string, message: Message): Promise<void> {
    while (pendingCount >= kafkaConfig.maxPendingMessages) {
      await new Promise<void>((resolve) => spaceWaiters.push(resolve));
      if (state !== 'started') ensureStarted(`publish to ${topic}`);
    }
    return enqueue(topic, message);
  }

  async function drainPublishes(): Promise<void> {
    while (sealed.length > 0 || filling || sending) {
      flush();
      await new Promise<void>((resolve) => drainWaiters.push(resolve));
    }
  }

  // ---- consuming -------------------------------------------------------------------------------

  interface KafkaSubscription extends Subscription {
    stop(): Promise<void>;
  }

  /**
   * One partition of one generation of the group (from one assignment to the next): the newest
   * offset handled, the offsets held, and the offset last committed. The fetch position (kafkajs'
   * resolved offset) runs ahead of the commit while messages are held, so kafkajs' own commits are
   * off and the bus commits the oldest held offset, or the one after the newest handled.
   */
  interface PartitionProgress {
    readonly topic: string;
    readonly partition: number;
    readonly held: HeldOffsets<string>;
    handled: string | null;
    committed: string | null;
  }

  async function subscribe(options: SubscribeOptions<TopicRegistry, string>): Promise<Subscription> {
    ensureStarted(`subscribe group ${options.group}`);
    if (!options.group) throw new WalkoutError('USAGE', 'a subscription needs a consumer group name');
    if (options.topics.length === 0) throw new WalkoutError('USAGE', `group ${options.group}: subscribe to at least one topic`);
    for (const topic of options.topics) spec(topic);
    const handle = options.handle as unknown as (delivery: HandlerAttempt) => void | Promise<void>;
    const retry: RetryPolicy = { ...deps.config.retry, ...options.retry };
    const deadlineMs = options.deadlineMs ?? handlerConfig.deadlineMs;
    const topics = [...options.topics];
    let paused = false;
    let closing: Promise<void> | null = null;
    let assignment: PartitionRef[] = [];
    /** The handlers of this generation: aborted at a rebalance or a close. */
    let scope = new HandlerScope(options.group, deadlineMs, handlerConfig.closeGraceMs, counters);
    let progress = new Map<string, PartitionProgress>();
    /** eachBatch calls running now, so a close can wait for them (each ends within the grace). */
    const batches = new Set<Promise<void>>();

    const consumer: Consumer = kafka.consumer({
      groupId: onBroker(options.group),
      sessionTimeout: kafkaConfig.sessionTimeoutMs,
      rebalanceTimeout: kafkaConfig.rebalanceTimeoutMs,
      heartbeatInterval: kafkaConfig.heartbeatIntervalMs,
      maxWaitTimeInMs: kafkaConfig.fetchMaxWaitMs,
      allowAutoTopicCreation: false,
      retry: { retries: CLIENT_RETRIES },
      partitionAssigners: [topicAwareAssigner],
    });

    const lostPartitions = (why: string) => new WalkoutError('BUS_CLOSED', `group ${options.group}: ${why}; the partitions go to the next owner`);

    let joined!: () => void;
    let failed!: (error: unknown) => void;
    const firstJoin = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      assignment = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic: fromBroker(topic), partition })),
      );
      // A new generation: kafkajs fetches every partition again from its committed offset, so what
      // the last generation held comes again (here or to another member) and its holds are void.
      scope.abort(lostPartitions('the group rebalanced'));
      for (const partition of progress.values()) partition.held.revoke();
      progress = new Map();
      if (!closing) scope = new HandlerScope(options.group, deadlineMs, handlerConfig.closeGraceMs, counters);
      logger.debug('member joined', { group: options.group, assignment });
      joined();
    });
    consumer.on(consumer.events.REBALANCING, () => {
      assignment = [];
      scope.abort(lostPartitions('the group is rebalancing'));
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      logger.error(restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed for good: this subscription has stopped', {
        group: options.group,
        error: (error as Error)?.message,
      });
      scope.abort(lostPartitions('the consumer crashed'));
      if (!restart) failed(busError(error, `consumer of group ${options.group} crashed`));
    });

    function progressOf(topic: string, partition: number): PartitionProgress {
      const key = `${topic}\u0000${partition}`;
      let found = progress.get(key);
      if (!found) {
        found = { topic, partition, held: new HeldOffsets<string>(), handled: null, committed: null };
        progress.set(key, found);
      }
      return found;
    }

    /** Where the partition would be read again from: its oldest held message, or the one after the newest handled. */
    const committable = (partition: PartitionProgress): string | null =>
      partition.held.oldest() ?? (partition.handled === null ? null : (BigInt(partition.handled) + 1n).toString());

    /**
     * Commits every partition whose committable offset moved, one commit at a time (two in flight
     * could land out of order and move an offset back).
     */
    let commitChain: Promise<void> = Promise.resolve();
    type Send = (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<unknown>;
    function commitProgress(send: Send): Promise<void> {
      const run = commitChain.then(async () => {
        const due: Array<{ partition: PartitionProgress; offset: string }> = [];
        for (const partition of progress.values()) {
          const offset = committable(partition);
          if (offset !== null && offset !== partition.committed) due.push({ partition, offset });
        }
        if (due.length === 0) return;
        await send(due.map(({ partition, offset }) => ({ topic: partition.topic, partition: partition.partition, offset })));
        for (const { partition, offset } of due) partition.committed = offset;
      });
      commitChain = run.catch(() => undefined);
      return run;
    }
    const commitOutsideBatch: Send = (offsets) => consumer.commitOffsets(offsets);
    const commitQuietly = (send: Send) =>
      commitProgress(send).catch((error: unknown) =>
        // Not lost: the offsets are committed at the next chance, or the messages come again.
        logger.debug('commit failed; will try again', { group: options.group, error: (error as Error)?.message }),
      );

    /** A release may let a partition commit further; commits are gathered, at most one per RELEASE_COMMIT_MS. */
    let releaseTimer: NodeJS.Timeout | null = null;
    const commitSoon = () => {
      if (releaseTimer || closing) return;
      releaseTimer = setTimeout(() => {
        releaseTimer = null;
        void commitQuietly(commitOutsideBatch);
      }, RELEASE_COMMIT_MS);
      releaseTimer.unref();
    };

    /** Well under the heartbeat interval (kafkajs sends at most one per interval anyway). */
    const heartbeatCheckMs = Math.max(10, Math.floor(kafkaConfig.heartbeatIntervalMs / 4));

    async function eachBatch(payload: EachBatchPayload): Promise<void> {
      const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
      const batchScope = scope;
      // Closing, or a generation on its way out: handle nothing, resolve nothing; it all comes again.
      if (closing || batchScope.aborted) return;
      const topic = fromBroker(batch.topic);
      const topicSpec = spec(topic);
      const partition = progressOf(batch.topic, batch.partition);
      const commitInBatch: Send = (offsets) => payload.commitOffsetsIfNecessary({ topics: byTopic(offsets) });
      const current = () => batchScope === scope && !batchScope.aborted;
      const context: AttemptContext = { scope: batchScope, held: partition.held, onRelease: commitSoon };
      // The newest handled offset not yet given to kafkajs (its resolved offset is only the fetch
      // position here). Resolving costs 64-bit arithmetic and only the newest one counts, so it is
      // handed over before a heartbeat and when the batch ends, however it ends.
      let unresolved: string | null = null;
      let lastBeat = Date.now();
      let sinceClock = 0;
      /**
       * A failed heartbeat means the group is rebalancing or has dropped this member: the partitions
       * are lost, so the handlers are told and what was handled is committed before the rejoin. A
       * heartbeat asked for while one is on its way joins it (the timer's and the loop's).
       */
      let beating: Promise<void> | null = null;
      const beat = (): Promise<void> =>
        (beating ??= (async () => {
          try {
            await heartbeat();
            lastBeat = Date.now();
          } catch (error) {
            batchScope.abort(lostPartitions(`heartbeat failed (${(error as Error)?.message ?? String(error)})`));
            await commitQuietly(commitInBatch);
            throw error;
          } finally {
            beating = null;
          }
        })());
      /**
       * Heartbeats from the batch's first handler that waits to the batch's end, so that a handler
       * longer than the session timeout does not cost this member its partitions (and the message a
       * second handling elsewhere): one timer a batch, not one per message. A failed heartbeat aborts
       * the handlers (beat does that) and is left for the loop to see.
       */
      let heartbeats: NodeJS.Timeout | null = null;
      // A batch goes stale only after consumer.seek(), which this bus never calls; the check stays as a
      // guard, but asking kafkajs costs a JSON.stringify, so it is asked every few messages, not every one.
      let stale = isStale();
      try {
        for (const record of batch.messages) {
          if (stale || paused || batchScope.aborted || !isRunning()) break;
          const decoded = decode(topic, topicSpec, record.value);
          const key = record.key === null ? null : record.key.toString('utf8');
          const publishedAt = Number(record.timestamp);
          let outcome: Outcome | Promise<Outcome> = decoded.ok
            ? runWithRetry(
                handle,
                new HandlerAttempt(topic, decoded.message, key, batch.partition, record.offset, 1, publishedAt, context),
                retry,
                batchScope,
              )
            : { kind: 'gave-up', attempts: 0, error: decoded.error };
          const waited = outcome instanceof Promise;
          if (outcome instanceof Promise) {
            if (unresolved !== null && current()) resolveOffset(unresolved);
            unresolved = null;
            heartbeats ??= setInterval(() => void beat().catch(() => undefined), heartbeatCheckMs);
            outcome = await outcome;
          }
          // Leaving, or the partition is lost, mid-handler: the offset stays unhandled, so the next
          // owner gets the message again.
          if (outcome.kind === 'aborted') break;
          if (outcome.kind === 'gave-up') {
            const letter = giveUp(
              {
                reason: decoded.ok ? 'handler-failed' : 'invalid-message',
                error: outcome.error,
                sourceTopic: topic,
                partition: batch.partition,
                offset: record.offset,
                key,
                group: options.group,
                attempts: outcome.attempts,
                payload: record.value,
                publishedAt,
              },
              decoded.ok ? decoded.message : undefined,
              now(),
              logger,
              counters,
            );
            // Awaited before the offset moves: if the dead-letter topic cannot take it, this throws,
            // nothing more is handled, and kafkajs fetches the message again.
            if (letter) await publish(DEAD_LETTER_TOPIC, letter);
          }
          partition.handled = record.offset;
          unresolved = record.offset;
          // The clock (and staleness) is looked at after every asynchronous handler (it may have been
          // slow) and every few synchronous ones: at tens of thousands of messages a second neither is free.
          if (waited || (++sinceClock & CLOCK_EVERY_MESSAGES) === 0) {
            stale = isStale();
            if (Date.now() - lastBeat >= heartbeatCheckMs) {
              if (current()) resolveOffset(unresolved);
              unresolved = null;
              // Throws when the group is rebalancing: the batch ends, what was handled is committed.
              await beat();
            }
          }
        }
      } finally {
        if (heartbeats) clearInterval(heartbeats);
        if (unresolved !== null && current()) resolveOffset(unresolved);
        if (batchScope === scope) await commitQuietly(commitInBatch);
      }
    }

    const stop = async (): Promise<void> => {
      closing ??= (async () => {
        // Handlers in flight are told and get the grace to finish; retry waits stop now; new batches
        // are left alone. Then what was handled and released is committed, and the member leaves.
        scope.abort(new WalkoutError('BUS_CLOSED', `group ${options.group}: the subscription is closing`));
        if (releaseTimer) clearTimeout(releaseTimer);
        await Promise.all([...batches]);
        await commitQuietly(commitOutsideBatch);
        await consumer.disconnect();
        subscriptions.delete(subscription);
        assignment = [];
        logger.debug('member left', { group: options.group });
      })();
      return closing;
    };

    const pauseTargets = () => topics.map((topic) => ({ topic: onBroker(topic) }));
    const subscription: KafkaSubscription = {
      group: options.group,
      get paused() {
        return paused;
      },
      pause() {
        if (paused || closing) return;
        paused = true;
        consumer.pause(pauseTargets());
      },
      resume() {
        if (!paused || closing) return;
        paused = false;
        consumer.resume(pauseTargets());
      },
      assignment: () => assignment,
      close: stop,
      stop,
    };
    subscriptions.add(subscription);

    try {
      await consumer.connect();
      await untilServed(() => consumer.subscribe({ topics: topics.map(onBroker), fromBeginning: true }));
      await consumer.run({
        // The bus commits by itself: kafkajs would commit the fetch position, past held messages.
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? 1),
        eachBatch: (payload) => {
          const run = eachBatch(payload);
          const settled = run.then(
            () => undefined,
            () => undefined,
          );
          batches.add(settled);
          void settled.then(() => batches.delete(settled));
          return run;
        },
      });
      await withTimeout(
        firstJoin,
        kafkaConfig.rebalanceTimeoutMs + kafkaConfig.sessionTimeoutMs,
        () => new WalkoutError('BUS_UNAVAILABLE', `group ${options.group} did not assign partitions in time`),
      );
    } catch (error) {
      await stop().catch(() => undefined);
      throw busError(error, `cannot subscribe group ${options.group} to ${topics.join(', ')}`);
    }
    return subscription;
  }

  async function close(): Promise<void> {
    if (state === 'closed') return;
    const wasStarted = state === 'started';
    await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
    if (wasStarted) await drainPublishes();
    state = 'closed';
    for (const wake of spaceWaiters) wake();
    spaceWaiters = [];
    await producer.disconnect();
    logger.info('Kafka bus closed');
  }

  return {
    kind: 'kafka',
    topics: registry,
    start,
    publish: publish as KafkaBus<R>['publish'],
    subscribe: subscribe as unknown as KafkaBus<R>['subscribe'],
    close,
    stats: () => ({ ...counters }),
  };
}

/** kafkajs errors, already retried when retriable, into the catalogue. */
export function busError(error: unknown, context: string): WalkoutError {
  if (error instanceof WalkoutError) return error;
  const failure = error as { name?: string; message?: string; retriable?: boolean };
  const unavailable =
    failure?.retriable === true ||
    ['KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSConnectionClosedError'].includes(
      failure?.name ?? '',
    );
  return new WalkoutError(unavailable ? 'BUS_UNAVAILABLE' : 'BUS_REJECTED', `${context}: ${failure?.message ?? String(error)}`, { cause: error });
}

function byTopic(offsets: ReadonlyArray<{ topic: string; partition: number; offset: string }>): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = []));
    partitions.push({ partition, offset });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

/** Broker answers that mean a topic is not served yet, rather than that something is wrong. */
const NOT_SERVED_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Whether kafkajs's error, or one it wraps (after its own retries), is a topic not served yet. */
function isNotServedYet(error: unknown): boolean {
  for (let cause = error as { type?: string; cause?: unknown } | undefined, depth = 0; cause && depth < 5; cause = cause.cause as typeof cause, depth++)
    if (cause.type !== undefined && NOT_SERVED_YET.has(cause.type)) return true;
  return false;
}

/**
 * Calls `request` again while the broker says it does not serve a topic yet (just created, here or
 * by another process at the same moment), with a doubling pause, until TOPIC_READY_TIMEOUT_MS.
 * Any other error, and that one past the limit, is thrown as it came.
 */
export async function untilServed<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
  for (let wait = TOPIC_READY_FIRST_WAIT_MS; ; wait = Math.min(1_000, wait * 2)) {
    try {
      return await request();
    } catch (error) {
      if (!isNotServedYet(error) || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * kafkajs logs every error response of the protocol at ERROR, including the ones it retries and
 * recovers from (a coordinator still loading, a rebalance in progress). Those are debug noise; what
 * really failed reaches the caller as an error. The idempotent-producer warning is about our bounded
 * retries, a choice explained where the producer is made.
 */
function forwardLog(logger: BusLogger, { namespace, level, log }: LogEntry): void {
  const { message, ...fields } = log;
  const line = `kafkajs ${namespace}: ${message}`;
  const routine =
    namespace === 'Connection' || (namespace === 'Producer' && message.startsWith('Limiting retries for the idempotent producer'));
  if (routine || level === logLevel.DEBUG || level === logLevel.NOTHING) logger.debug(line, fields);
  else if (level === logLevel.INFO) logger.debug(line, fields);
  else if (level === logLevel.WARN) logger.warn(line, fields);
  else logger.error(line, fields);
}

import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { DEAD_LETTER_TOPIC } from '../contracts/topics.ts';
import type { BusConfig } from './bus.config.ts';
import {
  deadLetterTopics,
  silentLogger,
  type Bus,
  type BusLogger,
  type BusStats,
  type Handler,
  type PartitionRef,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
  type TopicOf,
  type TopicRegistry,
  type TopicSpec,
  type WithDeadLetters,
} from './bus.types.ts';
import {
  deepFreeze,
  giveUp,
  HandlerAttempt,
  HandlerScope,
  HeldOffsets,
  invalidMessage,
  newDeliveryCounters,
  runWithRetry,
  validateFrozen,
  type AttemptContext,
  type Outcome,
} from './delivery.ts';
import { cachedPartitioner } from './partitioner.ts';

/**
 * The embedded bus: everything in one process, with Kafka's shape so services cannot tell the
 * difference. Each topic has partitions (same key → same partition number as in Kafka); each
 * partition is a log; each consumer group has a cursor per partition that moves only after the
 * handler succeeded and nothing before it is held. Queues are bounded: a publish waits while the
 * slowest active group has `queueCapacity` messages of that partition still to be handed out
 * (messages a consumer holds are kept beyond that: their number is up to the consumer).
 *
 * A partition changes hands only between messages here (a handler in flight finishes under its old
 * owner), so a handler's signal aborts at its deadline and at close, not at a rebalance; the messages
 * the old owner held go to the new one again, as on Kafka.
 */

export interface MemoryBusDependencies<R extends TopicRegistry> {
  readonly topics: R;
  readonly config: Pick<BusConfig, 'partitions' | 'retry' | 'handler' | 'memory'>;
  readonly logger?: BusLogger;
  /** Wall clock for publishedAt and dead letters; tests may pin it. */
  readonly now?: () => number;
}

export interface MemoryBusStats extends BusStats {
  /** Messages published to a topic no group was reading and dropped past queueCapacity (Kafka's retention). */
  readonly expired: number;
  /** Messages an idle group (no members) never saw because they expired first. */
  readonly skipped: number;
  /** Publishes let in over queueCapacity because the consumers holding the partition back were stalled. */
  readonly overCapacity: number;
}

export interface MemoryBus<R extends TopicRegistry> extends Bus<R> {
  readonly kind: 'memory';
  /**
   * Appends a value without validating it: how tests stand in for another producer (an older
   * version, a replayed recording) whose message the consumers must dead-letter.
   */
  appendRaw(topic: TopicOf<WithDeadLetters<R>>, key: string | null, value: unknown): PartitionRef & { offset: string };
  stats(): MemoryBusStats;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Handlers per pump turn before the pump yields to timers and I/O, so one busy partition cannot
 * starve the process; also the backlog past which a publish waits one event-loop turn.
 */
const MESSAGES_PER_TURN = 256;

/**
 * A partition's log: a ring of the messages not yet committed by every group, kept column by column
 * (key, value, ...) rather than one object per message. The ring grows (doubling) when full and never
 * shrinks, so once a partition has seen its usual backlog it allocates nothing per message and its
 * arrays sit in the old generation: young-generation GCs then copy only the messages in flight,
 * which is what keeps GC from dominating at half a million messages a second.
 */
class PartitionLog {
  private keys: Array<string | null>;
  private values: unknown[];
  /** Validated at publish and frozen: consumers take the value as is. Raw appends are validated on delivery. */
  private checked: boolean[];
  private publishedAts: number[];
  /** Ring index of the oldest message held. */
  private head = 0;
  private count = 0;
  private mask: number;
  /** Offset of the oldest message still held. */
  startOffset = 0;

  constructor(initialCapacity = 64) {
    this.mask = initialCapacity - 1;
    this.keys = new Array(initialCapacity).fill(null);
    this.values = new Array(initialCapacity).fill(undefined);
    this.checked = new Array(initialCapacity).fill(false);
    this.publishedAts = new Array(initialCapacity).fill(0);
  }

  get endOffset(): number {
    return this.startOffset + this.count;
  }

  get size(): number {
    return this.count;
  }

  append(key: string | null, value: unknown, checked: boolean, publishedAt: number): number {
    if (this.count > this.mask) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.keys[i] = key;
    this.values[i] = value;
    this.checked[i] = checked;
    this.publishedAts[i] = publishedAt;
    this.count++;
    return this.startOffset + this.count - 1;
  }

  private index(offset: number): number {
    return (this.head + offset - this.startOffset) & this.mask;
  }

  keyAt(offset: number): string | null {
    return this.keys[this.index(offset)];
  }

  valueAt(offset: number): unknown {
    return this.values[this.index(offset)];
  }

  checkedAt(offset: number): boolean {
    return this.checked[this.index(offset)];
  }

  publishedAt(offset: number): number {
    return this.publishedAts[this.index(offset)];
  }

  trimTo(offset: number): void {
    const drop = Math.min(offset, this.endOffset) - this.startOffset;
    if (drop <= 0) return;
    // Let go of the messages now, so they die young.
    for (let k = 0; k < drop; k++) {
      const i = (this.head + k) & this.mask;
      this.values[i] = undefined;
      this.keys[i] = null;
    }
    this.head = (this.head + drop) & this.mask;
    this.count -= drop;
    this.startOffset += drop;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const reorder = <T>(column: T[], fill: T): T[] => {
      const next = new Array<T>(capacity).fill(fill);
      for (let k = 0; k < this.count; k++) next[k] = column[(this.head + k) & this.mask];
      return next;
    };
    this.keys = reorder(this.keys, null);
    this.values = reorder(this.values, undefined);
    this.checked = reorder(this.checked, false);
    this.publishedAts = reorder(this.publishedAts, 0);
    this.head = 0;
    this.mask = capacity - 1;
  }
}

interface TopicState {
  readonly name: string;
  readonly spec: TopicSpec;
  readonly partitions: PartitionState[];
  readonly partitionOf: (key: string | null) => number;
}

interface PartitionState {
  readonly topic: TopicState;
  readonly index: number;
  readonly log: PartitionLog;
  /** One per group that ever subscribed to the topic. */
  readonly cursors: Cursor[];
  spaceWaiters: Array<() => void>;
}

interface Cursor {
  readonly group: GroupState;
  readonly partition: PartitionState;
  /** The next offset to hand out. Everything before it is committed, except what is held. */
  next: number;
  /** What the owner holds past its handler; replaced (and the old one voided) when the owner changes. */
  held: HeldOffsets<number>;
  owner: Member | null;
  pumping: boolean;
  /** Called when a release may let the partition be trimmed. */
  readonly onRelease: () => void;
  /** What this owner's deliveries share; made again when the owner or the held set changes. */
  context: AttemptContext | null;
}

interface GroupState {
  readonly id: string;
  /** In join order; the assignment is a pure function of this list. */
  members: Member[];
  readonly cursors: Map<string, Cursor[]>;
}

interface Member {
  readonly group: GroupState;
  readonly topics: readonly string[];
  readonly handle: Handler<TopicRegistry, string>;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  /** Aborted when the member leaves: its handlers are told, and retries stop. */
  readonly scope: HandlerScope;
  paused: boolean;
  closing: boolean;
  /** Pump turns this member runs right now (bounded by concurrency). */
  busy: number;
  slotWaiters: Array<() => void>;
  idleWaiters: Array<() => void>;
}

export function createMemoryBus<R extends TopicRegistry>(deps: MemoryBusDependencies<R>): MemoryBus<R> {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const registry = { ...deps.topics, ...deadLetterTopics } as WithDeadLetters<R>;
  const { queueCapacity, stallMs } = deps.config.memory;
  const topics = new Map<string, TopicState>();
  const groups = new Map<string, GroupState>();
  const members = new Set<Member>();
  const stats = { expired: 0, skipped: 0, overCapacity: 0 };
  const counters = newDeliveryCounters();
  const handlerConfig = deps.config.handler;
  let closed = false;

  for (const [name, spec] of Object.entries(registry) as Array<[string, TopicSpec]>) {
    const count = spec.partitions ?? deps.config.partitions;
    const topic: TopicState = { name, spec, partitions: [], partitionOf: cachedPartitioner(count) };
    for (let index = 0; index < count; index++)
      topic.partitions.push({ topic, index, log: new PartitionLog(), cursors: [], spaceWaiters: [] });
    topics.set(name, topic);
  }

  function topicState(name: string): TopicState {
    const topic = topics.get(name);
    if (!topic) throw new WalkoutError('TOPIC_UNKNOWN', `topic "${name}" is not in this bus's registry (known: ${[...topics.keys()].join(', ')})`);
    return topic;
  }

  function ensureOpen(what: string): void {
    if (closed) throw new WalkoutError('BUS_CLOSED', `cannot ${what}: the in-process bus is closed`);
  }

  /** Groups with members hold messages back; idle groups are like Kafka groups nobody runs. */
  const isActive = (cursor: Cursor) => cursor.group.members.length > 0;

  /** Where a group would start again: its oldest held message, else the next one to hand out. */
  const committed = (cursor: Cursor) => (cursor.held.empty ? cursor.next : Math.min(cursor.next, cursor.held.oldest()!));

  /** Drops what every active group has committed (or, with none, all but the newest queueCapacity). */
  function trim(partition: PartitionState): void {
    const { log } = partition;
    let keepFrom = log.endOffset;
    let anyActive = false;
    for (const cursor of partition.cursors) {
      if (!isActive(cursor)) continue;
      anyActive = true;
      const from = committed(cursor);
      if (from < keepFrom) keepFrom = from;
    }
    if (!anyActive) {
      keepFrom = Math.max(log.startOffset, log.endOffset - queueCapacity);
      stats.expired += keepFrom - log.startOffset;
    }
    const trimmed = keepFrom > log.startOffset;
    if (trimmed) {
      log.trimTo(keepFrom);
      for (const cursor of partition.cursors) {
        if (cursor.next < log.startOffset) {
          stats.skipped += log.startOffset - cursor.next;
          cursor.next = log.startOffset;
        }
      }
    }
    // Room comes from a trim, or from a group taking messages it then holds (not trimmed, not counted).
    if (partition.spaceWaiters.length > 0 && (trimmed || anyActive) && !isFull(partition)) {
      const waiters = partition.spaceWaiters;
      partition.spaceWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Messages of the partition the slowest active group has still to be handed (held ones do not count). */
  function backlog(partition: PartitionState): number {
    let slowest = partition.log.endOffset;
    let anyActive = false;
    for (const cursor of partition.cursors) {
      if (!isActive(cursor)) continue;
      anyActive = true;
      if (cursor.next < slowest) slowest = cursor.next;
    }
    return anyActive ? partition.log.endOffset - slowest : 0;
  }

  const isFull = (partition: PartitionState) => partition.log.size >= queueCapacity && backlog(partition) >= queueCapacity;

  function append(partition: PartitionState, key: string | null, value: unknown, checked: boolean): number {
    const offset = partition.log.append(key, value, checked, now());
    if (!partition.cursors.some(isActive)) trim(partition);
    for (const cursor of partition.cursors) wake(cursor);
    return offset;
  }

  /**
   * Not async on purpose: when there is room (nearly always) the message is appended and one shared,
   * already-resolved promise is returned, so a publish allocates no promise of its own.
   */
  function publish(topicName: string, message: unknown): Promise<void> {
    try {
      if (closed) ensureOpen(`publish to ${topicName}`);
      const topic = topicState(topicName);
      // parse, not safeParse: it allocates less, and a bad message is the exception here.
      let data: unknown;
      try {
        data = topic.spec.schema.parse(message);
      } catch (error) {
        throw error instanceof z.ZodError ? invalidMessage(topicName, error) : error;
      }
      const key = topic.spec.key(data);
      const partition = topic.partitions[topic.partitionOf(key)];
      // The validated copy is stored, frozen: the publisher keeps its own object, and every group
      // can be handed this one without copying (a handler cannot change what another group sees).
      const value = deepFreeze(data);
      if (isFull(partition)) return appendWhenRoom(topicName, partition, key, value);
      append(partition, key, value, true);
      // Past a pump turn's worth of unhandled messages, the publisher lets the consumers run before
      // it goes on. A publisher awaiting resolved promises would otherwise fill the queue to its
      // capacity before any consumer ran, and messages kept that long outlive young-generation GCs:
      // copying and promoting them cost more than everything else (measured: 1.6x the rate).
      if (partition.log.size > MESSAGES_PER_TURN && partition.cursors.some(isActive)) return nextTurn();
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Waits for room. A handler that publishes into a partition its own group is behind on, while every
   * handler slot of that group is taken (by it, say), would wait for itself for ever; so when the
   * groups holding the partition back made no progress for stallMs and have no free slot, the message
   * goes in over capacity and the bus says so. A paused group, or one with a free slot, is waited for.
   */
  async function appendWhenRoom(topicName: string, partition: PartitionState, key: string, value: unknown): Promise<void> {
    while (isFull(partition)) {
      const woken = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          partition.spaceWaiters = partition.spaceWaiters.filter((waiter) => waiter !== wake);
          resolve(false);
        }, stallMs);
        partition.spaceWaiters.push(wake);
      });
      ensureOpen(`publish to ${topicName}`);
      if (!woken && isFull(partition) && heldBackByBusyGroups(partition)) {
        stats.overCapacity++;
        logger.warn('in-process bus: a publish went over capacity because the groups it waited for were stalled with every handler busy', {
          topic: topicName,
          partition: partition.index,
          size: partition.log.size,
          queueCapacity,
          stallMs,
        });
        break;
      }
    }
    append(partition, key, value, true);
  }

  /** Every active group behind on the partition is served by a member with no free handler slot, and not paused. */
  function heldBackByBusyGroups(partition: PartitionState): boolean {
    const laggards = partition.cursors.filter((cursor) => isActive(cursor) && partition.log.endOffset - cursor.next >= queueCapacity);
    return laggards.length > 0 && laggards.every((cursor) => !!cursor.owner && !cursor.owner.paused && cursor.owner.busy >= cursor.owner.concurrency);
  }

  function appendRaw(topicName: string, key: string | null, value: unknown): PartitionRef & { offset: string } {
    ensureOpen(`append to ${topicName}`);
    const topic = topicState(topicName);
    const partition = topic.partitions[topic.partitionOf(key)];
    const offset = append(partition, key, value, false);
    return { topic: topicName, partition: partition.index, offset: String(offset) };
  }

  // ---- consuming -------------------------------------------------------------------------------

  function wake(cursor: Cursor): void {
    if (cursor.pumping || !cursor.owner || cursor.owner.paused || cursor.owner.closing) return;
    if (cursor.next >= cursor.partition.log.endOffset) return;
    cursor.pumping = true;
    queueMicrotask(() => void pump(cursor));
  }

  async function acquireSlot(member: Member): Promise<void> {
    while (member.busy >= member.concurrency) await new Promise<void>((resolve) => member.slotWaiters.push(resolve));
    member.busy++;
  }

  function releaseSlot(member: Member): void {
    member.busy--;
    member.slotWaiters.shift()?.();
    if (member.busy === 0) {
      const waiters = member.idleWaiters;
      member.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  const canServe = (cursor: Cursor, member: Member) =>
    !closed && cursor.owner === member && !member.paused && !member.closing && cursor.next < cursor.partition.log.endOffset;

  /**
   * Feeds one group's cursor on one partition, one message at a time; only one pump per cursor ever
   * runs, which is what keeps order per key. The owner is read again before every message, so a
   * rebalance takes effect between messages, never in the middle of one.
   */
  async function pump(cursor: Cursor): Promise<void> {
    try {
      for (;;) {
        const member = cursor.owner;
        if (!member || !canServe(cursor, member)) return;
        await acquireSlot(member);
        try {
          for (let turn = 0; turn < MESSAGES_PER_TURN && canServe(cursor, member); turn++) {
            const offset = cursor.next;
            let step = deliver(member, cursor, offset);
            // Synchronous handlers that succeed never touch the promise machinery.
            if (typeof step !== 'string') step = await step;
            if (step === 'aborted') break;
            // The commit; unless the partition changed hands meanwhile and the new owner starts
            // again from what was held (it gets this message again: at least once).
            if (cursor.next === offset) cursor.next = offset + 1;
            trim(cursor.partition);
          }
        } finally {
          releaseSlot(member);
        }
        // A full event-loop turn between turns, so timers and I/O are never starved by a busy
        // partition. (Yielding to microtasks only was tried: smaller queues, but more time per message.)
        await nextTurn();
      }
    } catch (error) {
      // Only a bug of ours gets here (handler errors are caught in deliver); say so loudly.
      logger.error('in-process bus pump failed', { topic: cursor.partition.topic.name, partition: cursor.partition.index, error });
    } finally {
      cursor.pumping = false;
    }
  }

  type Step = 'done' | 'aborted';

  function deliver(member: Member, cursor: Cursor, offset: number): Step | Promise<Step> {
    const partition = cursor.partition;
    const topic = partition.topic;
    const { log } = partition;
    let message = log.valueAt(offset);
    if (!log.checkedAt(offset)) {
      const checked = validateFrozen(topic.name, topic.spec, message);
      if (!checked.ok) return settle(member, cursor, offset, { kind: 'gave-up', attempts: 0, error: checked.error }, 'invalid-message');
      message = checked.message;
    }
    const outcome = runWithRetry(
      member.handle as (delivery: HandlerAttempt) => void | Promise<void>,
      new HandlerAttempt(topic.name, message, log.keyAt(offset), partition.index, offset, 1, log.publishedAt(offset), attemptContext(cursor, member)),
      member.retry,
      member.scope,
    );
    if (outcome instanceof Promise) return outcome.then((settled) => settle(member, cursor, offset, settled, 'handler-failed'));
    return settle(member, cursor, offset, outcome, 'handler-failed');
  }

  function attemptContext(cursor: Cursor, member: Member): AttemptContext {
    if (cursor.context?.scope !== member.scope || cursor.context.held !== cursor.held)
      cursor.context = { scope: member.scope, held: cursor.held, onRelease: cursor.onRelease };
    return cursor.context;
  }

  function settle(member: Member, cursor: Cursor, offset: number, outcome: Outcome, reason: 'invalid-message' | 'handler-failed'): Step {
    if (outcome.kind === 'handled') return 'done';
    if (outcome.kind === 'aborted') return 'aborted';
    const partition = cursor.partition;
    const topic = partition.topic;
    const { log } = partition;
    const letter = giveUp(
      {
        reason,
        error: outcome.error,
        sourceTopic: topic.name,
        partition: partition.index,
        offset: String(offset),
        key: log.keyAt(offset),
        group: member.group.id,
        attempts: outcome.attempts,
        payload: log.valueAt(offset),
        publishedAt: log.publishedAt(offset),
      },
      log.valueAt(offset),
      now(),
      logger,
      counters,
    );
    if (!letter) return 'done';
    // Straight into the log, past the capacity check: a consumer waiting on a full dead-letter
    // queue it may itself be draining would never wake up.
    const deadLetters = topicState(DEAD_LETTER_TOPIC);
    append(deadLetters.partitions[deadLetters.partitionOf(letter.sourceTopic)], letter.sourceTopic, deepFreeze(letter), true);
    return 'done';
  }

  /** Round-robin, per topic, over the members that subscribe to it, in join order. */
  function rebalance(group: GroupState): void {
    for (const [topicName, cursors] of group.cursors) {
      const owners = group.members.filter((member) => member.topics.includes(topicName));
      cursors.forEach((cursor, index) => {
        const owner = owners.length > 0 ? owners[index % owners.length] : null;
        if (owner !== cursor.owner) handOver(cursor);
        cursor.owner = owner;
      });
    }
    for (const cursors of group.cursors.values())
      for (const cursor of cursors) {
        trim(cursor.partition);
        wake(cursor);
      }
  }

  /** What the old owner held is void; the new owner starts again from the oldest of it. */
  function handOver(cursor: Cursor): void {
    if (cursor.held.empty) return;
    cursor.next = Math.min(cursor.next, cursor.held.oldest()!);
    cursor.held.revoke();
    cursor.held = new HeldOffsets<number>();
  }

  function groupState(id: string): GroupState {
    let group = groups.get(id);
    if (!group) {
      group = { id, members: [], cursors: new Map() };
      groups.set(id, group);
    }
    return group;
  }

  async function subscribe(options: SubscribeOptions<TopicRegistry, string>): Promise<Subscription> {
    ensureOpen(`subscribe group ${options.group}`);
    if (!options.group) throw new WalkoutError('USAGE', 'a subscription needs a consumer group name');
    if (options.topics.length === 0) throw new WalkoutError('USAGE', `group ${options.group}: subscribe to at least one topic`);
    const states = options.topics.map(topicState);
    const group = groupState(options.group);
    for (const topic of states) {
      if (group.cursors.has(topic.name)) continue;
      // A new group starts from the oldest message still held, as Kafka's `earliest` does.
      const cursors = topic.partitions.map((partition) => {
        const cursor: Cursor = {
          group,
          partition,
          next: partition.log.startOffset,
          held: new HeldOffsets<number>(),
          owner: null,
          pumping: false,
          onRelease: () => trim(partition),
          context: null,
        };
        partition.cursors.push(cursor);
        return cursor;
      });
      group.cursors.set(topic.name, cursors);
    }
    const member: Member = {
      group,
      topics: states.map((topic) => topic.name),
      handle: options.handle as Handler<TopicRegistry, string>,
      retry: { ...deps.config.retry, ...options.retry },
      concurrency: Math.max(1, options.concurrency ?? 1),
      scope: new HandlerScope(group.id, options.deadlineMs ?? handlerConfig.deadlineMs, handlerConfig.closeGraceMs, counters),
      paused: false,
      closing: false,
      busy: 0,
      slotWaiters: [],
      idleWaiters: [],
    };
    group.members.push(member);
    members.add(member);
    rebalance(group);
    logger.debug('member joined', { group: group.id, topics: member.topics, members: group.members.length });
    return subscriptionOf(member);
  }

  function assignmentOf(member: Member): PartitionRef[] {
    const owned: PartitionRef[] = [];
    for (const [topic, cursors] of member.group.cursors)
      for (const cursor of cursors) if (cursor.owner === member) owned.push({ topic, partition: cursor.partition.index });
    return owned;
  }

  async function leave(member: Member): Promise<void> {
    if (member.closing) return;
    member.closing = true;
    // Handlers in flight are told, and have the grace to finish; a handler sleeping between retries
    // stops now. What is left behind stays uncommitted for the next owner.
    member.scope.abort(new WalkoutError('BUS_CLOSED', `group ${member.group.id}: the subscription is closing`));
    while (member.busy > 0) await new Promise<void>((resolve) => member.idleWaiters.push(resolve));
    member.group.members = member.group.members.filter((other) => other !== member);
    members.delete(member);
    rebalance(member.group);
    logger.debug('member left', { group: member.group.id, members: member.group.members.length });
  }

  function subscriptionOf(member: Member): Subscription {
    return {
      group: member.group.id,
      get paused() {
        return member.paused;
      },
      pause() {
        member.paused = true;
      },
      resume() {
        if (!member.paused) return;
        member.paused = false;
        for (const cursors of member.group.cursors.values()) for (const cursor of cursors) wake(cursor);
      },
      assignment: () => (member.closing ? [] : assignmentOf(member)),
      close: () => leave(member),
    };
  }

  async function close(): Promise<void> {
    if (closed) return;
    await Promise.all([...members].map(leave));
    closed = true;
    // Publishers still waiting for space get BUS_CLOSED instead of hanging.
    for (const topic of topics.values())
      for (const partition of topic.partitions) {
        const waiters = partition.spaceWaiters;
        partition.spaceWaiters = [];
        for (const resolve of waiters) resolve();
      }
  }

  return {
    kind: 'memory',
    topics: registry,
    async start() {
      ensureOpen('start');
    },
    publish: publish as MemoryBus<R>['publish'],
    subscribe: subscribe as unknown as MemoryBus<R>['subscribe'],
    appendRaw,
    stats: () => ({ ...stats, ...counters }),
    close,
  };
}
